// The pizza factory simulator. By default it answers as the production JWT Pizza factory does on the wire (the
// recorded contract: test/fixtures/factory-contract, held by test/e2e/contract/simulator.test.ts). What goes
// beyond production (the admin chaos API, ratios, bursts, start delays, key rotation, stats, /healthz,
// configurable delays, publicUrl, a CORS origin list) is an extension that stays off unless asked for.
import { createHash, sign as rsaSign, timingSafeEqual, verify as rsaVerify } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import pino, { type Logger } from 'pino';
import { z } from 'zod';
import { redactReportUrl } from '../redact';
import { PRODUCTION_FACTORY_ISSUER } from '../types';
import { PRODUCTION_BAD_JWT } from './badJwt';
import {
  activateChaos,
  chaosRequestSchema,
  chaosStrikes,
  describeChaos,
  describeVendorChaos,
  initiateProductionChaos,
  isChaosType,
  type Chaos,
  type ChaosType,
  type EndedChaos,
} from './chaos';
import { createKeyRing, generateSigningKey, type Jwks, type SigningKey } from './keys';

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-[\da-f]{2}$/;

export interface FactorySimulatorOptions {
  /** Vendor API key: `Authorization: [Bearer ]<key>` on orders and the vendor API, and the key in report URLs. */
  apiKey: string;
  /** Key for the admin chaos API (extension). */
  adminKey: string;
  vendor?: { id: string; name: string; email?: string };
  /** The pizza JWT's `iss` header claim; production's is "cs329.click". */
  issuer?: string;
  /** Production holds an oven-full order 32 s before its 503. */
  oven?: { fullDelayMs?: number };
  /** Production holds a throttled order 32 s. */
  throttleDelayMs?: number;
  /**
   * Extension: base URL of the report URLs. Unset (or empty), they are production's
   * `https://<Host header's hostname>/api/support/<key>/report/<code>`.
   */
  publicUrl?: () => string | undefined;
  signingKey?: SigningKey;
  logger?: Logger;
  now?: () => number;
  /** Dice in [0, 1): the minute a vendor chaos starts at, and per-order strikes of partial (admin) chaos. */
  random?: () => number;
  /**
   * Extension: restrict CORS to these browser origins. Unset, CORS is production's: any Origin is echoed (`*`
   * without one), so the JWT Pizza frontend can verify pizzas from the browser.
   */
  corsOrigins?: (origin: string) => boolean;
  /** Runs first on every request: the embedded simulator gets the service's server spans when tracing is on. */
  requestTracing?: express.RequestHandler;
}

export interface FactorySimulatorStats {
  orderRequests: number;
  jwksRequests: number;
}

export interface FactorySimulator {
  app: express.Express;
  chaos: {
    current(): Chaos | null;
    /** Admin-style chaos (extension): at once unless `startInMs`. */
    activate(type: ChaosType, settings?: z.input<typeof chaosRequestSchema>): Chaos;
    /** Production-style chaos, as `PUT /api/vendor/chaos/:type`: starts at a random minute of the next day. */
    initiate(type: ChaosType): Chaos;
    end(): void;
  };
  jwks(): Jwks;
  /** New signing key; the previous one stays published. Returns the new kid. */
  rotateKeys(): string;
  stats(): FactorySimulatorStats;
  /** Ends pending oven and throttle waits, e.g. before closing the server. */
  dispose(): void;
}

/** The production factory's recorded texts. */
export const FACTORY_MESSAGES = {
  invalidAuthentication: 'invalid authentication',
  missingParameters: 'Missing required parameters',
  ovenFull: 'Unable to satisfy pizza order. The oven is full.',
  chaosMonkey: 'chaos monkey',
  chaosInitiated: 'Chaos initiated',
  invalidChaosType: 'Invalid chaos type',
  resolved: 'Problem resolved. Pizza is back on the menu!',
  unresolved: 'Problem unresolved',
  noChaos: 'No chaos currently executing',
  valid: 'valid',
  invalid: 'invalid',
  welcome: 'welcome to JWT Pizza Factory',
  unknownEndpoint: 'unknown endpoint',
} as const;

export const SIMULATOR_VERSION = 'simulator';
const PIZZA_TTL_SECONDS = 24 * 60 * 60;
const MAX_OVEN_ITEMS = 20;

interface EndpointDoc {
  method: string;
  path: string;
  requiresAuth: boolean;
  description: string;
  /** Set on what the production factory does not have. */
  simulatorExtension?: true;
}

const ENDPOINTS: EndpointDoc[] = [
  { method: 'POST', path: '/api/order', requiresAuth: true, description: 'Create a JWT pizza: {diner, order} → {jwt} (plus reportUrl while chaos strikes)' },
  { method: 'POST', path: '/api/order/verify', requiresAuth: false, description: 'Verify a pizza JWT\'s signature: {jwt} → {message: "valid", payload} or 403 {message: "invalid"}' },
  { method: 'GET', path: '/.well-known/jwks.json', requiresAuth: false, description: 'The JSON Web Key Set for independent JWT verification' },
  { method: 'GET', path: '/api/support/:vendorToken/report/:fixCode', requiresAuth: false, description: 'Report a problem: the fix code from a reportUrl ends the chaos' },
  { method: 'GET', path: '/api/vendor', requiresAuth: true, description: 'The vendor and its chaos (type and dates, no fix code)' },
  { method: 'PUT', path: '/api/vendor/chaos/:type', requiresAuth: true, description: 'Initiate chaos (badjwt | fail | throttle) at a random minute of the next day, 15:00-20:59 UTC' },
  { method: 'GET', path: '/api/chaos', requiresAuth: true, description: 'Admin key: show the current chaos, fix code included', simulatorExtension: true },
  {
    method: 'PUT',
    path: '/api/chaos/:type',
    requiresAuth: true,
    description: 'Admin key: start chaos at once (fail | throttle | badjwt; none ends it), body {ratio?, delayMs?, startInMs?, burstMs?, gapMs?}',
    simulatorExtension: true,
  },
  { method: 'DELETE', path: '/api/chaos', requiresAuth: true, description: 'Admin key: end the chaos', simulatorExtension: true },
  { method: 'GET', path: '/healthz', requiresAuth: false, description: 'Liveness', simulatorExtension: true },
];

/** The endpoint list `GET /api/docs` serves (production's and the simulator's extensions, marked). */
export function simulatorEndpoints(): readonly EndpointDoc[] {
  return ENDPOINTS;
}

export function createFactorySimulator(options: FactorySimulatorOptions): FactorySimulator {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const logger = options.logger ?? pino({ level: 'silent' });
  const vendor = options.vendor ?? { id: 'jwt-pizza-service', name: 'JWT Pizza Service' };
  const issuer = options.issuer ?? PRODUCTION_FACTORY_ISSUER;
  const ovenFullDelayMs = options.oven?.fullDelayMs ?? 32_000;
  const throttleDelayMs = options.throttleDelayMs ?? 32_000;
  const keyRing = createKeyRing(options.signingKey ?? generateSigningKey());
  const createdAt = now();
  let chaos: Chaos | null = null;
  let endedChaos: EndedChaos | null = null;
  const stats: FactorySimulatorStats = { orderRequests: 0, jwksRequests: 0 };
  const pendingWaits = new Set<() => void>();

  function store(next: Chaos, by: string): Chaos {
    chaos = next;
    logger.warn({ type: 'chaos', event: 'activated', by, chaos: { ...describeChaos(next, now()), fixCode: undefined } }, `chaos ${next.type} activated`);
    return next;
  }

  const activate = (type: ChaosType, settings: z.input<typeof chaosRequestSchema> = {}): Chaos =>
    store(activateChaos(type, chaosRequestSchema.parse(settings), now(), throttleDelayMs), 'admin');
  const initiate = (type: ChaosType): Chaos => store(initiateProductionChaos(type, now(), random, throttleDelayMs), 'vendor');

  function end(by: string): boolean {
    if (!chaos) return false;
    logger.warn({ type: 'chaos', event: 'resolved', chaosType: chaos.type, by }, 'chaos resolved');
    endedChaos = { activatedAt: chaos.activatedAt, startsAt: chaos.startsAt, endedAt: now() };
    chaos = null;
    return true;
  }

  // Production's form: a compact RS256 JWS whose protected header is {iat, exp, iss, alg, kid} (no typ) and whose
  // payload is {vendor: {id, name}, diner, order}, diner and order exactly as sent.
  function signPizza(diner: unknown, order: unknown, key: SigningKey): string {
    const iat = Math.floor(now() / 1000);
    const header = { iat, exp: iat + PIZZA_TTL_SECONDS, iss: issuer, alg: 'RS256', kid: key.kid };
    const payload = { vendor: { id: vendor.id, name: vendor.name }, diner, order };
    const signingInput = `${base64url(header)}.${base64url(payload)}`;
    return `${signingInput}.${rsaSign('sha256', Buffer.from(signingInput), key.privateKey).toString('base64url')}`;
  }

  // Production's /api/order/verify: the signature by a published key, nothing else (an expired pizza is "valid").
  function verifyPizza(token: unknown): { payload: unknown } | null {
    if (typeof token !== 'string') return null;
    const segments = token.split('.');
    if (segments.length !== 3 || !segments.every((segment) => /^[\w-]+$/.test(segment))) return null;
    const [headerPart, payloadPart, signaturePart] = segments as [string, string, string];
    try {
      const header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8')) as { alg?: unknown; kid?: unknown } | null;
      if (header?.alg !== 'RS256' || typeof header.kid !== 'string') return null;
      const key = keyRing.find(header.kid);
      if (!key) return null;
      if (!rsaVerify('sha256', Buffer.from(`${headerPart}.${payloadPart}`), key.publicKey, Buffer.from(signaturePart, 'base64url'))) return null;
      return { payload: JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8')) as unknown };
    } catch {
      return null;
    }
  }

  // Resolves false when the caller hung up or the simulator is disposed, so no timer outlives a request.
  function waitWhileConnected(ms: number, res: Response): Promise<boolean> {
    return new Promise((resolve) => {
      const finish = (completed: boolean): void => {
        clearTimeout(timer);
        res.off('close', onClose);
        pendingWaits.delete(onClose);
        resolve(completed);
      };
      const onClose = (): void => finish(false);
      const timer = setTimeout(() => finish(true), ms);
      res.on('close', onClose);
      pendingWaits.add(onClose);
    });
  }

  // Production: always https, the hostname of the Host header the factory saw (port dropped), the key as is.
  function reportUrlFor(req: Request, struck: Chaos): string {
    const base = options.publicUrl?.() || `https://${req.hostname || 'localhost'}`;
    return `${base.replace(/\/$/, '')}/api/support/${options.apiKey}/report/${struck.fixCode}`;
  }

  const vendorAuth = (req: Request, res: Response, next: NextFunction): void => {
    if (secretsEqual(presentedKey(req.get('authorization')), options.apiKey)) next();
    else res.status(401).json({ message: FACTORY_MESSAGES.invalidAuthentication });
  };
  // Extension: the admin API keeps its own `Bearer` key and message.
  const adminAuth = (req: Request, res: Response, next: NextFunction): void => {
    const match = /^Bearer (.+)$/i.exec(req.get('authorization') ?? '');
    if (secretsEqual(match?.[1], options.adminKey)) next();
    else res.status(401).json({ message: 'unauthorized' });
  };

  const app = express();
  app.disable('x-powered-by');
  if (options.requestTracing) app.use(options.requestTracing);
  // Production parses the body before it sets CORS headers: a malformed body is a 500 without them.
  app.use(express.json({ limit: '100kb' }));
  app.use(cors(options.corsOrigins));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/api/docs', (_req, res) => {
    res.json({ message: FACTORY_MESSAGES.welcome, version: SIMULATOR_VERSION, endpoints: ENDPOINTS });
  });

  app.get('/.well-known/jwks.json', (_req, res) => {
    stats.jwksRequests += 1;
    res.json(keyRing.jwks());
  });

  app.post(
    '/api/order',
    (_req, _res, next) => {
      stats.orderRequests += 1;
      next();
    },
    vendorAuth,
    async (req, res) => {
      const body = (req.body ?? {}) as { diner?: unknown; order?: unknown };
      // The caller's W3C trace context: logged with its trace id, so the factory's side of an order is
      // found from the service's trace (and back). Only well-formed values; nothing is logged without one.
      const traceparent = req.headers.traceparent;
      const trace = typeof traceparent === 'string' ? TRACEPARENT.exec(traceparent) : null;
      if (trace) logger.info({ type: 'factory', event: 'order_received', orderId: orderIdOf(body.order), traceparent, trace_id: trace[1], parent_span_id: trace[2] }, 'order received');

      // Chaos comes after authentication and before any look at the body.
      let reportUrl: string | undefined;
      const stored = chaos;
      if (stored && chaosStrikes(stored, now(), random)) {
        reportUrl = reportUrlFor(req, stored);
        logger.info({ type: 'chaos', event: 'strike', chaosType: stored.type, reportUrl: redactReportUrl(reportUrl), ...(trace ? { trace_id: trace[1] } : {}) }, 'chaos strikes an order');
        if (stored.type === 'fail') {
          res.status(500).json({ message: FACTORY_MESSAGES.chaosMonkey, reportUrl });
          return;
        }
        if (stored.type === 'badjwt') {
          res.json({ jwt: PRODUCTION_BAD_JWT, reportUrl });
          return;
        }
        // throttle: hold the order, then answer it normally (whatever it is), with the report URL.
        if (!(await waitWhileConnected(stored.delayMs, res))) return;
      }

      const { diner, order } = body;
      if (!diner || !order) {
        res.status(400).json({ message: FACTORY_MESSAGES.missingParameters });
        return;
      }
      // Production reads order.items.length unchecked: without items that throws, and its error handler answers
      // 500 with the TypeError's text. The same property read here gives the same text on the same Node version.
      let itemCount: unknown;
      try {
        itemCount = (order as { items: { length: unknown } }).items.length;
      } catch (error) {
        res.status(500).json({ message: error instanceof Error ? error.message : String(error) });
        return;
      }
      if (itemCount === 0 || Number(itemCount) > MAX_OVEN_ITEMS) {
        if (await waitWhileConnected(ovenFullDelayMs, res)) res.status(503).json({ message: FACTORY_MESSAGES.ovenFull });
        return;
      }

      const jwt = signPizza(diner, order, keyRing.current());
      res.json(reportUrl === undefined ? { jwt } : { jwt, reportUrl });
    },
  );

  app.post('/api/order/verify', (req, res) => {
    const verified = verifyPizza((req.body as { jwt?: unknown } | undefined)?.jwt);
    if (verified) res.json({ message: FACTORY_MESSAGES.valid, payload: verified.payload });
    else res.status(403).json({ message: FACTORY_MESSAGES.invalid });
  });

  // The key in the path is the credential. An unknown key answers like "no chaos", as production does.
  app.get('/api/support/:apiKey/report/:fixCode', (req, res) => {
    const stored = chaos;
    if (!stored || !secretsEqual(req.params.apiKey, options.apiKey)) {
      res.json({ message: FACTORY_MESSAGES.noChaos });
      return;
    }
    if (!secretsEqual(req.params.fixCode, stored.fixCode)) {
      res.status(400).json({ message: FACTORY_MESSAGES.unresolved });
      return;
    }
    end('report url');
    res.json({ message: FACTORY_MESSAGES.resolved });
  });

  app.get('/api/vendor', vendorAuth, (_req, res) => {
    res.json({
      id: vendor.id,
      name: vendor.name,
      apiKey: options.apiKey,
      email: vendor.email ?? `${vendor.id}@jwt-pizza-factory.local`,
      created: new Date(createdAt).toISOString(),
      chaos: describeVendorChaos(chaos, endedChaos),
      roles: ['vendor'],
      connections: {},
    });
  });

  app.put('/api/vendor/chaos/:type', vendorAuth, (req, res) => {
    const type = req.params.type as string;
    if (!isChaosType(type)) {
      res.status(400).json({ message: FACTORY_MESSAGES.invalidChaosType });
      return;
    }
    initiate(type);
    res.json({ message: FACTORY_MESSAGES.chaosInitiated });
  });

  app.get('/api/chaos', adminAuth, (_req, res) => {
    res.json({ chaos: chaos ? describeChaos(chaos, now()) : null });
  });

  app.put('/api/chaos/:type', adminAuth, (req, res) => {
    const type = req.params.type as string;
    if (type === 'none') {
      const ended = end('admin');
      res.json({ message: ended ? 'Chaos resolved' : 'No chaos active', chaos: null });
      return;
    }
    if (!isChaosType(type)) {
      res.status(400).json({ message: `unknown chaos type '${type}': use fail, throttle, badjwt or none` });
      return;
    }
    const settings = chaosRequestSchema.safeParse(req.body ?? {});
    if (!settings.success) {
      res.status(400).json({ message: describeIssue(settings.error) });
      return;
    }
    const activated = activate(type, settings.data);
    res.json({ message: `chaos ${type} activated`, chaos: describeChaos(activated, now()) });
  });

  app.delete('/api/chaos', adminAuth, (_req, res) => {
    const ended = end('admin');
    res.json({ message: ended ? 'Chaos resolved' : 'No chaos active', chaos: null });
  });

  app.use((_req, res) => {
    res.status(404).json({ message: FACTORY_MESSAGES.unknownEndpoint });
  });

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    // The body parser's errors (malformed JSON, too large) carry a `type`; production answers them 500 with
    // their message (for JSON, JSON.parse's own text).
    if (typeof (error as { type?: unknown }).type === 'string' && error instanceof Error) {
      res.status(500).json({ message: error.message });
      return;
    }
    logger.error({ type: 'error', err: error }, 'factory simulator error');
    res.status(500).json({ message: 'internal error' });
  });

  return {
    app,
    chaos: {
      current: () => chaos,
      activate,
      initiate,
      end: () => void end('api'),
    },
    jwks: () => keyRing.jwks(),
    rotateKeys() {
      const key = keyRing.rotate();
      logger.info({ type: 'factory', event: 'keys_rotated', kid: key.kid }, 'signing key rotated');
      return key.kid;
    },
    stats: () => ({ ...stats }),
    dispose() {
      for (const cancel of [...pendingWaits]) cancel();
    },
  };
}

// Production's CORS: the request's Origin echoed (`*` without one), with credentials. With an origin list
// (extension), other origins get no CORS headers and their preflight is refused.
function cors(restrictTo: ((origin: string) => boolean) | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const origin = req.get('origin');
    const allowed = origin === undefined || restrictTo === undefined || restrictTo(origin);
    if (origin !== undefined) res.vary('Origin');
    if (allowed) {
      res.set({
        'access-control-allow-origin': origin ?? '*',
        'access-control-allow-methods': 'GET, POST, PUT, DELETE',
        'access-control-allow-headers': 'Content-Type, Authorization',
        'access-control-allow-credentials': 'true',
      });
    }
    if (req.method !== 'OPTIONS') {
      next();
      return;
    }
    if (allowed) res.status(204).end();
    else res.status(403).json({ message: 'origin not allowed' });
  };
}

/** A CORS origin list for the extension: any localhost / 127.0.0.1 origin. */
export function isLocalOrigin(origin: string): boolean {
  try {
    const { protocol, hostname } = new URL(origin);
    return (protocol === 'http:' || protocol === 'https:') && ['localhost', '127.0.0.1', '[::1]'].includes(hostname);
  } catch {
    return false;
  }
}

// Production takes the Authorization header with an optional, case-insensitive "Bearer " prefix.
function presentedKey(header: string | undefined): string | undefined {
  return header?.replace(/^bearer /i, '');
}

function secretsEqual(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function orderIdOf(order: unknown): unknown {
  return typeof order === 'object' && order !== null ? (order as { id?: unknown }).id : undefined;
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid request';
  const field = issue.path.length > 0 ? issue.path.join('.') : 'body';
  return `invalid ${field}: ${issue.message}`;
}
