import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Config } from '../../config';
import { isConnectionError } from '../db';
import { AppError, badRequest, internal, payloadTooLarge, requestTimeout, serviceUnavailable, tooManyRequests, unsupportedMediaType } from '../errors';
import type { LogLine } from '../logging/events';
import type { Logger } from '../logging/logger';
import type { Metrics, SuspiciousCategory } from '../metrics/metrics';
import type { RateLimitStore, WindowCount } from '../rateLimit/store';
import { activeSpanContext, exemplarLabels, tracingEnabled } from '../tracing';

const REQUEST_ID = /^[\w.-]{1,64}$/;

export function requestId(): RequestHandler {
  return (req, res, next) => {
    const incoming = req.headers['x-request-id'];
    req.requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('x-request-id', req.requestId);
    if (tracingEnabled()) {
      // W3C Trace Context's response header: a client (or on-call holding a 5xx's requestId) finds the trace.
      const span = activeSpanContext();
      if (span) res.setHeader('traceresponse', `00-${span.traceId}-${span.spanId}-0${span.traceFlags & 1}`);
    }
    next();
  };
}

/**
 * Middlewares run in order as one router layer. Every layer costs Express's router a path match and its
 * bookkeeping on every request; the stages every request passes through are grouped instead. A thrown
 * error or a rejected promise goes to the error handler, as with a layer of its own.
 */
export function chain(...handlers: RequestHandler[]): RequestHandler {
  return (req, res, next) => {
    let index = 0;
    const step = (error?: unknown): void => {
      if (error) return next(error);
      const handler = handlers[index++];
      if (!handler) return next();
      try {
        const result: unknown = handler(req, res, step);
        if (result instanceof Promise) result.catch(next);
      } catch (thrown) {
        next(thrown);
      }
    };
    step();
  };
}

/** The request's path from the root (req.path is relative to the router that answers). */
function fullPath(req: Request): string {
  const url = req.originalUrl;
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

/** The route template (never the raw URL) keeps metric labels bounded: `/api/franchise/:franchiseId`. */
export function routeLabel(req: Request): string {
  // The catalogue registers every API route under its full path, as the app does its own (health,
  // metrics, docs): the route's path is its template, on error answers too.
  const path = req.route?.path;
  return typeof path === 'string' ? req.baseUrl + path : 'unmatched';
}

/**
 * The security headers of every answer. The service answers JSON (and /metrics text), never a page a browser
 * renders, so it sends the set OWASP's REST Security Cheat Sheet gives for APIs rather than helmet's defaults
 * for HTML sites: a policy under which a response loads nothing and nobody may frame it (and framing refused
 * again for browsers that predate `frame-ancestors`); no MIME sniffing; HTTPS only once a browser has seen
 * it over HTTPS; no reading by another origin's no-cors requests (CORS requests, the frontend's, are not
 * affected); no Referer sent from a response opened as a document. helmet's other defaults (COOP,
 * Origin-Agent-Cluster, X-DNS-Prefetch-Control, X-Download-Options, X-Permitted-Cross-Domain-Policies,
 * X-XSS-Protection) change only how a browser treats an HTML document, and each was a header on every answer.
 * Names are lower case, as HTTP/2 sends them: Node lowercases every name it is given, and this spares it that.
 */
export const SECURITY_HEADERS: readonly (readonly [name: string, value: string])[] = Object.freeze([
  ['content-security-policy', "default-src 'none'; frame-ancestors 'none'"],
  ['cross-origin-resource-policy', 'same-origin'],
  ['referrer-policy', 'no-referrer'],
  ['strict-transport-security', 'max-age=31536000; includeSubDomains'],
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'DENY'],
] as const);

export function securityHeaders(): RequestHandler {
  const names = SECURITY_HEADERS.map(([name]) => name);
  const values = SECURITY_HEADERS.map(([, value]) => value);
  return (_req, res, next) => {
    for (let i = 0; i < names.length; i++) res.setHeader(names[i], values[i]);
    next();
  };
}

/** Exemplar labels without tracing: none, and the same object for every request. */
const NO_EXEMPLAR: Record<string, string> = Object.freeze({}) as Record<string, string>;

/**
 * HTTP RED metrics and one `http` log line per request, both recorded when the response is finished. One
 * `finish` listener serves every response (it reads the response as `this`): no closure per request.
 */
export function observeRequests(metrics: Metrics, logger: Logger): RequestHandler {
  function finished(this: Response): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the listener is shared; `this` is the response
    const res = this;
    const req = res.req;
    const seconds = (performance.now() - (res.locals.startedAt ?? 0)) / 1000;
    const labels = { method: req.method, route: routeLabel(req), status_code: String(res.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe({ labels, value: seconds, exemplarLabels: tracingEnabled() ? exemplarLabels() : NO_EXEMPLAR });
    const line: Record<string, unknown> = {
      type: 'http',
      reqId: req.requestId,
      method: req.method,
      route: labels.route,
      // A path is whatever the client sent (up to Node's 16 KB header limit): the first 200 characters.
      path: fullPath(req).slice(0, 200),
      status: res.statusCode,
      latencyMs: Math.round(seconds * 1e6) / 1e3,
      authorized: req.user !== undefined || req.authenticatedUserId !== undefined,
      ip: clientIp(req),
    };
    // Of a body, only what the route's schema accepted, bounded (loggableBody, set once validated); of
    // a body refused before that (too large, not JSON, invalid), its size and type only.
    const contentLength = req.headers['content-length'];
    if (contentLength !== undefined || req.headers['transfer-encoding'] !== undefined) {
      line.reqBytes = Number(contentLength ?? 0) || undefined;
      line.reqType = req.headers['content-type']?.slice(0, 64);
      if (res.locals.loggedBody !== undefined) line.reqBody = res.locals.loggedBody;
    }
    if (res.locals.errorMessage) line.error = String(res.locals.errorMessage).slice(0, 200);
    const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
    logger[level](line, `${req.method} ${labels.route} ${res.statusCode}`);
  }
  return (_req, res, next) => {
    res.locals.startedAt = performance.now();
    res.on('finish', finished);
    next();
  };
}

/** Browsers with `credentials: 'include'` need the exact origin echoed; `*` is never sent. */
export function cors(allowed: Config['corsOrigins']): RequestHandler {
  const localhost = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;
  const isAllowed = (origin: string) =>
    allowed === 'localhost' ? localhost.test(origin) : allowed === 'none' ? false : allowed.includes(origin);
  return (req, res, next) => {
    const origin = req.headers.origin;
    // Nothing has set Vary yet on almost every request; vary() parses and merges for the rest.
    if (res.hasHeader('vary')) res.vary('Origin');
    else res.setHeader('vary', 'Origin');
    if (origin && isAllowed(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('access-control-allow-methods', 'GET, POST, PUT, DELETE, OPTIONS');
      res.setHeader('access-control-allow-headers', 'Content-Type, Authorization, Idempotency-Key, X-Request-Id');
      res.setHeader('access-control-max-age', '600');
    }
    if (req.method === 'OPTIONS') {
      if (origin && !isAllowed(origin)) {
        res.status(403).json({ message: 'origin not allowed' });
        return;
      }
      res.status(200).json({ message: 'ok' });
      return;
    }
    next();
  };
}

/**
 * Request bodies: a body on POST/PUT must be JSON (415 otherwise, before anything is read), and is parsed
 * with express.json. Requests without a body (every GET) skip the parser, which would otherwise look at
 * each one again to find nothing to do.
 */
export function jsonBody(options: { limit: string | number; timeoutMs: number }): RequestHandler {
  const parse = express.json({ limit: options.limit, strict: true });
  return (req, res, next) => {
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (!hasBody) return next();
    if ((req.method === 'POST' || req.method === 'PUT') && !req.is('application/json')) throw unsupportedMediaType();
    // A body that trickles in holds a socket and a parser: past the bound it is answered 408 through the
    // error handler (JSON, logged, counted) and the connection is closed, whatever the client still sends.
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      res.setHeader('Connection', 'close');
      res.once('finish', () => setTimeout(() => req.socket.destroy(), 500).unref());
      next(requestTimeout('request body not received in time'));
    }, options.timeoutMs);
    parse(req, res, (error?: unknown) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      next(error);
    });
  };
}

/**
 * The client's address, worked out once per request. Express's `req.ip` runs proxy-addr on every read
 * (~3.5 µs per read in the service under load; the rate limiter and the access log both read it); without
 * `trust proxy` its answer is always the socket's peer address, read here directly.
 */
export function clientIp(req: Request): string {
  const locals = req.res?.locals ?? {};
  locals.clientIp ??= (req.app.get('trust proxy') ? req.ip : req.socket.remoteAddress) ?? 'unknown';
  return locals.clientIp;
}

/**
 * The general per-IP limit. The client's address is the peer's, unless TRUST_PROXY names the peer as a
 * proxy (then Express takes the address the proxy appended to X-Forwarded-For). No header a client writes
 * ever exempts it from the limit. `proxyTrustConfigured` is whether any proxy is trusted: without one, a
 * request carrying X-Forwarded-For is counted in http_untrusted_forwarded_requests_total (the
 * ProxyNotTrusted ticket) and the possible misconfiguration is logged once, because if the peer really is
 * a proxy, every client behind it now shares the proxy's one limit.
 */
export function generalRateLimit(store: RateLimitStore, perMinute: number, metrics: Metrics, logger: Logger, proxyTrustConfigured: boolean): RequestHandler {
  let warned = false;
  return (req, _res, next) => {
    if (!proxyTrustConfigured && req.headers['x-forwarded-for'] !== undefined) {
      metrics.untrustedForwarded.inc();
      if (!warned) {
        warned = true;
        logger.warn(
          { type: 'security', event: 'untrusted_forwarded', ip: clientIp(req) } satisfies LogLine,
          'X-Forwarded-For received from a peer TRUST_PROXY does not name: the header is ignored and the peer is limited as one client; if this peer is a proxy, set TRUST_PROXY to its address so each client behind it is counted separately',
        );
      }
    }
    if (perMinute <= 0) return next();
    const ip = clientIp(req);
    const judge = ({ count, resetMs }: WindowCount) => {
      if (count > perMinute) {
        metrics.rateLimited.inc({ limiter: 'general' });
        if (count === perMinute + 1) logger.warn({ type: 'security', event: 'rate_limit', limiter: 'general', ip } satisfies LogLine, 'per-IP request limit hit');
        throw tooManyRequests('too many requests, slow down', resetMs / 1000);
      }
    };
    const counted = store.hit(`general:${ip}`, 60_000);
    // The in-memory store answers at once: no promise and no microtask hop on every request.
    if (!(counted instanceof Promise)) {
      judge(counted);
      return next();
    }
    return counted.then((count) => {
      judge(count);
      next();
    });
  };
}

const PROBES: [RegExp, SuspiciousCategory][] = [
  [/(^|\/)\.env/i, 'dotenv'],
  [/(^|\/)\.git(\/|$)/i, 'git'],
  [/wp-|wordpress|xmlrpc/i, 'wordpress'],
  [/\.php\d?($|\/|\?)/i, 'php'],
  [/(phpmyadmin|\/admin(\.|\/|$)|\/manager\/html|\/actuator|\/console(\/|$)|\/server-status|\/solr\/)/i, 'admin'],
  [/(\/\.aws|\/\.ssh|\/\.DS_Store|\/config\.(json|ya?ml)|\/cgi-bin|\/\.htaccess|\/\.svn|\/etc\/passwd|\.\.\/|%2e%2e|\/backup|\.sql$|\.bak$)/i, 'other'],
];

export function probeCategory(path: string): SuspiciousCategory | undefined {
  // Scanners percent-encode to slip past naive filters (/static/..%2f..%2fetc%2fpasswd).
  const candidates = [path, safeDecode(path)];
  for (const [pattern, category] of PROBES) if (candidates.some((candidate) => pattern.test(candidate))) return category;
  return undefined;
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** Unknown paths: 404 JSON, and scanner probes are counted and logged as security events. */
export function unknownEndpoint(metrics: Metrics, logger: Logger): RequestHandler {
  return (req, res) => {
    const category = probeCategory(req.originalUrl);
    if (category) {
      metrics.suspiciousRequests.inc({ category });
      logger.warn({ type: 'security', event: 'probe', category, method: req.method, path: req.path.slice(0, 200), ip: clientIp(req), reqId: req.requestId } satisfies LogLine, 'scanner probe');
    }
    res.status(404).json({ message: 'unknown endpoint' });
  };
}

interface BodyParserError { type?: string; status?: number }

/** The one error handler: AppErrors become their status and message; everything else is logged and answered generically. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req: Request, res: Response, _next: NextFunction) => {
    let appError: AppError;
    const parserError = error as BodyParserError;
    if (error instanceof AppError) appError = error;
    else if (parserError?.type === 'entity.parse.failed') appError = badRequest('malformed JSON body');
    else if (parserError?.type === 'entity.too.large') appError = payloadTooLarge();
    else if (parserError?.type === 'encoding.unsupported' || parserError?.type === 'charset.unsupported') appError = unsupportedMediaType('unsupported body encoding');
    // Other framework 4xx carry only a status: a body that fails to decompress (gzip over plain text), a
    // path with broken percent-encoding (/api/user/%E0%A4%A). They are the client's fault, not a 500.
    else if (typeof parserError?.status === 'number' && parserError.status >= 400 && parserError.status < 500) appError = badRequest('malformed request');
    else if (isConnectionError(error)) {
      logger.error({ type: 'db', err: error, reqId: req.requestId }, 'database unavailable');
      appError = serviceUnavailable('service temporarily unavailable, try again shortly');
    } else {
      logger.error({ type: 'error', err: error, reqId: req.requestId, method: req.method, path: fullPath(req) }, 'unhandled error');
      appError = internal();
    }
    res.locals.errorMessage = appError.message;
    if (res.headersSent) return;
    res.set(appError.headers);
    if (req.headers.authorization !== undefined) res.setHeader('cache-control', 'no-store');
    res.status(appError.status).json({ message: appError.message, ...appError.body, ...(appError.status >= 500 ? { requestId: req.requestId } : {}) });
  };
}
