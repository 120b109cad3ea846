import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import jwt from 'jsonwebtoken';
import pino, { type Logger } from 'pino';
import { z } from 'zod';
import { redactReportUrl } from '../redact';
import { activateChaos, chaosRequestSchema, chaosStrikes, describeChaos, isChaosType, type Chaos, type ChaosType } from './chaos';
import { createKeyRing, generateSigningKey, type Jwks, type SigningKey } from './keys';

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-[\da-f]{2}$/;

export interface FactorySimulatorOptions {
  /** Vendor key expected as `Authorization: Bearer` on orders. */
  apiKey: string;
  /** Key for the chaos endpoints. */
  adminKey: string;
  vendor?: { id: string; name: string };
  /** The JWT `iss` claim. */
  issuer?: string;
  oven?: { fullDelayMs?: number };
  throttleDelayMs?: number;
  /** Base URL used to build report URLs; defaults to the host the request came to. */
  publicUrl?: () => string;
  signingKey?: SigningKey;
  logger?: Logger;
  now?: () => number;
  /** Per-order dice for partial chaos, in [0, 1). */
  random?: () => number;
  /** Browser origins allowed by CORS; default any localhost / 127.0.0.1 origin. */
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
    activate(type: ChaosType, settings?: z.input<typeof chaosRequestSchema>): Chaos;
    end(): void;
  };
  jwks(): Jwks;
  /** New signing key; the previous one stays published. Returns the new kid. */
  rotateKeys(): string;
  stats(): FactorySimulatorStats;
  /** Ends pending oven and throttle waits, e.g. before closing the server. */
  dispose(): void;
}

const PIZZA_TTL_SECONDS = 24 * 60 * 60;
const MAX_OVEN_ITEMS = 20;

const id = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)], { error: 'expected a numeric id' });
const orderRequestSchema = z.object({
  diner: z.object({ id, name: z.string(), email: z.string() }),
  order: z.object({
    id,
    franchiseId: id,
    storeId: id,
    items: z.array(z.object({ menuId: id, description: z.string(), price: z.number().nonnegative() })),
  }),
});

const ENDPOINTS = [
  { method: 'POST', path: '/api/order', auth: 'vendor key', description: 'Make pizzas: {diner, order} → {jwt, reportUrl?}' },
  { method: 'POST', path: '/api/order/verify', auth: 'none', description: 'Verify a pizza JWT: {jwt} → {message, payload}' },
  { method: 'GET', path: '/.well-known/jwks.json', auth: 'none', description: 'Public keys that sign pizza JWTs' },
  { method: 'GET', path: '/api/support/:apiKey/report/:fixCode', auth: 'vendor key in path', description: 'Report a problem: ends the chaos it came with' },
  { method: 'GET', path: '/api/chaos', auth: 'admin key', description: 'Show the current chaos' },
  { method: 'PUT', path: '/api/chaos/:type', auth: 'admin key', description: 'Start chaos: fail | throttle | badjwt | none, body {ratio?, delayMs?, startInMs?, burstMs?, gapMs?}' },
  { method: 'DELETE', path: '/api/chaos', auth: 'admin key', description: 'End the chaos' },
  { method: 'GET', path: '/healthz', auth: 'none', description: 'Liveness' },
  { method: 'GET', path: '/api/docs', auth: 'none', description: 'This list' },
];

export function createFactorySimulator(options: FactorySimulatorOptions): FactorySimulator {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const logger = options.logger ?? pino({ level: 'silent' });
  const vendor = options.vendor ?? { id: 'jwt-pizza-service', name: 'JWT Pizza Service' };
  const issuer = options.issuer ?? 'jwt-pizza-factory';
  const ovenFullDelayMs = options.oven?.fullDelayMs ?? 32_000;
  const throttleDelayMs = options.throttleDelayMs ?? 32_000;
  const corsAllowed = options.corsOrigins ?? isLocalOrigin;
  const keyRing = createKeyRing(options.signingKey ?? generateSigningKey());
  let forgeryKey: SigningKey | undefined;
  let chaos: Chaos | null = null;
  const stats: FactorySimulatorStats = { orderRequests: 0, jwksRequests: 0 };
  const pendingWaits = new Set<() => void>();

  function activate(type: ChaosType, settings: z.input<typeof chaosRequestSchema> = {}): Chaos {
    chaos = activateChaos(type, chaosRequestSchema.parse(settings), now(), throttleDelayMs);
    logger.warn({ type: 'chaos', event: 'activated', chaos: { ...describeChaos(chaos, now()), fixCode: undefined } }, `chaos ${type} activated`);
    return chaos;
  }

  function end(by: string): boolean {
    if (!chaos) return false;
    logger.warn({ type: 'chaos', event: 'resolved', chaosType: chaos.type, by }, 'chaos resolved');
    chaos = null;
    return true;
  }

  function signPizza(claims: { diner: unknown; order: unknown }, key: SigningKey): string {
    const iat = Math.floor(now() / 1000);
    const payload = { vendor, diner: claims.diner, order: claims.order, iss: issuer, iat, exp: iat + PIZZA_TTL_SECONDS };
    return jwt.sign(payload, key.privateKey, { algorithm: 'RS256', keyid: key.kid });
  }

  // A pizza that looks right (same kid, same claims) but is signed by a throwaway key, so only a
  // signature check catches it.
  function signBadPizza(claims: { diner: unknown; order: unknown }): string {
    forgeryKey ??= generateSigningKey();
    return signPizza(claims, { ...forgeryKey, kid: keyRing.current().kid });
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

  function reportUrlFor(req: Request, activeChaos: Chaos): string {
    const base = options.publicUrl?.() ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
    return `${base.replace(/\/$/, '')}/api/support/${encodeURIComponent(options.apiKey)}/report/${activeChaos.fixCode}`;
  }

  const requireKey =
    (key: string) =>
    (req: Request, res: Response, next: NextFunction): void => {
      if (bearerMatches(req.get('authorization'), key)) next();
      else res.status(401).json({ message: 'unauthorized' });
    };
  const requireVendor = requireKey(options.apiKey);
  const requireAdmin = requireKey(options.adminKey);

  const app = express();
  app.disable('x-powered-by');
  if (options.requestTracing) app.use(options.requestTracing);
  app.use(cors(corsAllowed));
  app.use(express.json({ limit: '100kb' }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/api/docs', (_req, res) => {
    res.json({ name: issuer, endpoints: ENDPOINTS });
  });

  app.get('/.well-known/jwks.json', (_req, res) => {
    stats.jwksRequests += 1;
    res.set('cache-control', 'public, max-age=300').json(keyRing.jwks());
  });

  app.post(
    '/api/order',
    (_req, _res, next) => {
      stats.orderRequests += 1;
      next();
    },
    requireVendor,
    async (req, res) => {
      const parsed = orderRequestSchema.safeParse(req.body);
      if (!parsed.success) {
        res.status(400).json({ message: describeIssue(parsed.error) });
        return;
      }
      const { diner, order } = parsed.data;
      // The caller's W3C trace context: logged with its trace id, so the factory's side of an order is
      // found from the service's trace (and back). Only well-formed values; nothing is logged without one.
      const traceparent = req.headers.traceparent;
      const trace = typeof traceparent === 'string' ? TRACEPARENT.exec(traceparent) : null;
      if (trace) logger.info({ type: 'factory', event: 'order_received', orderId: order.id, traceparent, trace_id: trace[1], parent_span_id: trace[2] }, 'order received');

      if (order.items.length === 0 || order.items.length > MAX_OVEN_ITEMS) {
        if (await waitWhileConnected(ovenFullDelayMs, res)) res.status(503).json({ message: 'The oven is full' });
        return;
      }

      const activeChaos = chaos;
      if (!activeChaos || !chaosStrikes(activeChaos, now(), random)) {
        res.json({ jwt: signPizza({ diner, order }, keyRing.current()) });
        return;
      }

      const reportUrl = reportUrlFor(req, activeChaos);
      logger.info({ type: 'chaos', event: 'strike', chaosType: activeChaos.type, reportUrl: redactReportUrl(reportUrl), ...(trace ? { trace_id: trace[1] } : {}) }, 'chaos strikes an order');
      switch (activeChaos.type) {
        case 'fail':
          res.status(500).json({ message: 'chaos monkey', reportUrl });
          return;
        case 'throttle':
          if (await waitWhileConnected(activeChaos.delayMs, res)) res.json({ jwt: signPizza({ diner, order }, keyRing.current()), reportUrl });
          return;
        case 'badjwt':
          res.json({ jwt: signBadPizza({ diner, order }), reportUrl });
          return;
      }
    },
  );

  app.post('/api/order/verify', (req, res) => {
    const token: unknown = (req.body as { jwt?: unknown } | undefined)?.jwt;
    const payload = typeof token === 'string' ? verifyPizza(token) : null;
    if (payload) res.json({ message: 'valid', payload });
    else res.status(403).json({ message: 'invalid' });
  });

  function verifyPizza(token: string): jwt.JwtPayload | null {
    try {
      const decoded = jwt.decode(token, { complete: true });
      const key = typeof decoded?.header.kid === 'string' ? keyRing.find(decoded.header.kid) : undefined;
      if (!key) return null;
      const payload = jwt.verify(token, key.publicKey, { algorithms: ['RS256'], clockTimestamp: Math.floor(now() / 1000) });
      return typeof payload === 'object' ? payload : null;
    } catch {
      return null;
    }
  }

  app.get('/api/support/:apiKey/report/:fixCode', (req, res) => {
    if (!secretsEqual(req.params.apiKey, options.apiKey)) {
      res.status(401).json({ message: 'unauthorized' });
      return;
    }
    if (!chaos) {
      res.json({ message: 'No chaos active' });
      return;
    }
    if (!secretsEqual(req.params.fixCode, chaos.fixCode)) {
      res.status(404).json({ message: 'unknown report' });
      return;
    }
    end('report url');
    res.json({ message: 'Chaos resolved' });
  });

  app.get('/api/chaos', requireAdmin, (_req, res) => {
    res.json({ chaos: chaos ? describeChaos(chaos, now()) : null });
  });

  app.put('/api/chaos/:type', requireAdmin, (req, res) => {
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

  app.delete('/api/chaos', requireAdmin, (_req, res) => {
    const ended = end('admin');
    res.json({ message: ended ? 'Chaos resolved' : 'No chaos active', chaos: null });
  });

  app.use((_req, res) => {
    res.status(404).json({ message: 'unknown endpoint' });
  });

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = (error as { status?: unknown }).status;
    if (status === 400 || status === 413) {
      res.status(status).json({ message: status === 413 ? 'request body too large' : 'invalid JSON body' });
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

function cors(allowed: (origin: string) => boolean) {
  return (req: Request, res: Response, next: NextFunction): void => {
    res.vary('Origin');
    const origin = req.get('origin');
    const originAllowed = origin !== undefined && allowed(origin);
    if (originAllowed) {
      res.set({
        'access-control-allow-origin': origin,
        'access-control-allow-credentials': 'true',
        'access-control-allow-methods': 'GET, POST, PUT, DELETE, OPTIONS',
        'access-control-allow-headers': 'Content-Type, Authorization',
        'access-control-max-age': '600',
      });
    }
    if (req.method !== 'OPTIONS') {
      next();
      return;
    }
    if (originAllowed) res.status(204).end();
    else res.status(403).json({ message: 'origin not allowed' });
  };
}

export function isLocalOrigin(origin: string): boolean {
  try {
    const { protocol, hostname } = new URL(origin);
    return (protocol === 'http:' || protocol === 'https:') && ['localhost', '127.0.0.1', '[::1]'].includes(hostname);
  } catch {
    return false;
  }
}

function bearerMatches(header: string | undefined, key: string): boolean {
  const match = /^Bearer (.+)$/i.exec(header ?? '');
  return match?.[1] !== undefined && secretsEqual(match[1], key);
}

function secretsEqual(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid request';
  const field = issue.path.length > 0 ? issue.path.join('.') : 'body';
  return `invalid ${field}: ${issue.message}`;
}
