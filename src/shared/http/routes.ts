import { type NextFunction, type Request, type RequestHandler, type Response, Router } from 'express';
import { z } from 'zod';
import { badRequest } from '../errors';
import { loggableBody } from '../logging/redact';

export type AuthRequirement = 'none' | 'user' | 'admin' | 'self/admin' | 'owner/admin';

export interface RouteDoc {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  description: string;
  auth: AuthRequirement;
  example?: string;
  response?: unknown;
  body?: z.ZodType;
  query?: z.ZodType;
  params?: z.ZodType;
}

export interface RouteInput<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  req: Request;
  res: Response;
}

export interface RouteSpec<B = unknown, Q = unknown, P = unknown> extends Omit<RouteDoc, 'body' | 'query' | 'params'> {
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  params?: z.ZodType<P>;
  /** Runs before validation, e.g. authentication (401 beats 400 for an anonymous caller). */
  before?: RequestHandler[];
  /** Status for a successful answer; the body is whatever handle() returns, always JSON. */
  status?: number;
  handle(input: RouteInput<B, Q, P>): Promise<unknown> | unknown;
}

/** A handler result that is already serialized JSON (cached bodies skip JSON.stringify). */
export class RawJson {
  constructor(readonly text: string) {}
}

/** Turns a zod failure into one 400 message naming the first bad field. */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.length ? issue.path.join('.') : where;
  throw badRequest(`invalid ${field}: ${issue.message}`);
}

/** The routes of one path prefix, as registered in the catalogue (which serves them all from one router). */
export interface MountedRoutes {
  prefix: string;
}

function carriesToken(result: unknown): boolean {
  return typeof result === 'object' && result !== null && 'token' in result;
}

/** Sends serialized JSON straight to the socket: Express's res.send (type lookup, freshness check) costs more than the work of a cached read. */
export function sendJson(res: Response, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

/** What the catalogue uses of a route of Express's router (router's Route and Layer, which have no types). */
interface DispatchableRoute {
  path: string;
  methods: Record<string, boolean>;
  _handlesMethod(method: string): boolean;
  dispatch(req: Request, res: Response, done: NextFunction): void;
}
interface RouterLayer {
  route?: DispatchableRoute;
  match(path: string): unknown;
}

/** A route path with nothing to match but itself (no parameter, wildcard, optional part or escape). */
const STATIC_PATH = /^[\w/.~-]+$/;

/**
 * Registers routes from declarative specs and records each for /api/docs and the OpenAPI document,
 * so the docs cannot drift from what is served.
 *
 * Every route is registered, under its full path and in the order given, on one router. `handler` (which
 * the app mounts once) answers a request whose method and path are exactly those of a route with a fixed
 * path (GET /api/order/menu) from a map, by that route's own dispatch: Express's router would first have
 * tried each earlier route's pattern in turn. A route is in the map only when no earlier route could take
 * the same request, so the map answers exactly as the router would; every other request (parameters, a
 * trailing slash, another letter case, HEAD) goes through the router.
 */
export class RouteCatalogue {
  readonly routes: RouteDoc[] = [];
  private readonly all: Router = Router();
  private readonly layers = (this.all as unknown as { stack: RouterLayer[] }).stack;
  private exact?: Map<string, DispatchableRoute>;

  /** Carries the router's `stack`, as a mounted Router does, for whatever lists the app's routes. */
  readonly handler: RequestHandler = Object.assign(
    (req: Request, res: Response, next: NextFunction) => {
      const route = (this.exact ??= this.exactRoutes()).get(`${req.method} ${req.path}`);
      if (route === undefined) return this.all(req, res, next);
      req.params = {};
      route.dispatch(req, res, next);
    },
    { stack: this.layers },
  );

  private exactRoutes(): Map<string, DispatchableRoute> {
    const layers = this.layers;
    const exact = new Map<string, DispatchableRoute>();
    layers.forEach((layer, index) => {
      const route = layer.route;
      if (!route || !STATIC_PATH.test(route.path)) return;
      for (const name of Object.keys(route.methods)) {
        const method = name.toUpperCase();
        if (method === '_ALL' || method === 'HEAD') continue;
        const key = `${method} ${route.path}`;
        const earlier = layers.slice(0, index).some((other) => other.route?._handlesMethod(method) && other.match(route.path));
        if (!earlier && !exact.has(key)) exact.set(key, route);
      }
    });
    return exact;
  }

  /** Registers `specs` under `prefix` (spec paths are relative to it). */
  router(prefix: string, specs: RouteSpec<any, any, any>[]): MountedRoutes {
    for (const spec of specs) {
      const fullPath = (prefix + spec.path).replace(/(.)\/$/, '$1');
      this.routes.push({ ...spec, path: fullPath });
      const answer = (req: Request, res: Response, result: unknown): void => {
        // Answers for a signed-in caller, or carrying a token, must not be kept by a browser or proxy cache.
        if (spec.auth !== 'none' || req.headers.authorization !== undefined || carriesToken(result)) res.setHeader('cache-control', 'no-store');
        sendJson(res, spec.status ?? 200, result instanceof RawJson ? result.text : JSON.stringify(result));
      };
      const handler = (req: Request, res: Response, _next: NextFunction): Promise<void> | void => {
        // Only what the spec declares is read: `req.query` parses the query string on first access.
        const body = spec.body ? parseOrThrow(spec.body, req.body ?? {}, 'body') : req.body;
        // The access log keeps only what the schema accepted, bounded (never the raw body).
        if (spec.body && req.body !== undefined) res.locals.loggedBody = loggableBody(body);
        const input = {
          body,
          query: spec.query ? parseOrThrow(spec.query, req.query, 'query') : undefined,
          params: spec.params ? parseOrThrow(spec.params, req.params, 'path') : req.params,
          req,
          res,
        };
        const result = spec.handle(input);
        // A handler with its answer at hand (a cached read) is answered in this turn, without a promise.
        // Express sends a throw here, or a rejection of the returned promise, to the error handler.
        if (result instanceof Promise) return result.then((value: unknown) => answer(req, res, value));
        answer(req, res, result);
      };
      const method = spec.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete';
      const route = this.all.route(fullPath);
      route[method](...(spec.before ?? []), handler);
    }
    return { prefix };
  }
}

/** Ids arrive as numbers or numeric strings (the frontend's <select> sends strings); nothing else coerces. */
export const id = z.preprocess(
  (v) => (typeof v === 'string' && /^\d{1,10}$/.test(v) ? Number(v) : v),
  z
    .number({ message: 'must be a positive integer id' })
    .int('must be a positive integer id')
    .positive('must be a positive integer id')
    .max(2_147_483_647, 'must be a positive integer id'),
);

/** Query-string integers with bounds (page, limit). */
export const queryInt = (min: number, max: number, fallback: number) =>
  z.preprocess(
    (v) => (v === undefined || v === '' ? fallback : typeof v === 'string' && /^-?\d{1,10}$/.test(v) ? Number(v) : v),
    z.number({ message: `must be an integer between ${min} and ${max}` }).int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`),
  );
