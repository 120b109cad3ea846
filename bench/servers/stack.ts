/**
 * What each middleware of the service costs per request: the menu's answer (a cached JSON text, as the service
 * serves it) behind the first STACK_LAYERS of the service's own middlewares, taken from its build (dist/), in the
 * service's order. Run one process per depth beside each other (`npm run bench:compare` with
 * `--variant=n:ENTRY=stack,STACK_LAYERS=n`); the difference between depths n-1 and n is layer n's CPU per request.
 *   0 bare Express 5, the answer written as the service writes it (sendJson)
 *   1 requestId        2 observeRequests (metrics + access line)   3 securityHeaders   4 cors
 *   5 generalRateLimit (memory store)   6 jsonBody   7 the service's routing: the app-level routes before the
 *   routers, and the answer from a catalogue route registered after some auth and user routes (the catalogue's
 *   one router, as src/app.ts mounts it)
 */
import { join } from 'node:path';
import express, { type RequestHandler } from 'express';

const dist = join(__dirname, '..', '..', 'dist');
const middleware = require(join(dist, 'shared/http/middleware.js')) as Record<string, (...args: unknown[]) => RequestHandler>;
const routes = require(join(dist, 'shared/http/routes.js')) as { sendJson(res: unknown, status: number, text: string): void; RouteCatalogue: new () => { handler: RequestHandler; router(prefix: string, specs: unknown[]): { prefix: string } }; RawJson: new (text: string) => unknown };
const { createMetrics } = require(join(dist, 'shared/metrics/metrics.js')) as { createMetrics(): unknown };
const { createLogger } = require(join(dist, 'shared/logging/logger.js')) as { createLogger(options: { level: string }): unknown };
const { createMemoryRateLimitStore } = require(join(dist, 'shared/rateLimit/store.js')) as { createMemoryRateLimitStore(): unknown };

const layers = Number(process.env.STACK_LAYERS ?? 0);
const MENU = JSON.stringify(
  Array.from({ length: 10 }, (_, i) => ({ id: i + 1, title: `Pizza ${i + 1}`, image: `pizza${i + 1}.png`, price: 0.0038 + i / 10_000, description: 'A garden of delight, baked the way it always was' })),
);

const metrics = createMetrics();
const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'info' });
const app = express();
app.disable('x-powered-by');
app.set('etag', false);
const first: RequestHandler[] = [];
if (layers >= 1) first.push(middleware.requestId());
if (layers >= 2) first.push(middleware.observeRequests(metrics, logger));
if (layers >= 3) first.push(middleware.securityHeaders());
if (layers >= 4) first.push(middleware.cors('localhost'));
if (first.length) app.use(middleware.chain(...first));
app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
if (layers >= 7) {
  app.get('/readyz', (_req, res) => void res.json({ status: 'ready' }));
  app.get('/metrics', (_req, res) => void res.json({}));
}
const second: RequestHandler[] = [];
if (layers >= 5) second.push(middleware.generalRateLimit(createMemoryRateLimitStore(), 10_000_000, metrics, logger, false));
if (layers >= 6) second.push(middleware.jsonBody({ limit: '64kb', timeoutMs: 10_000 }));
if (second.length) app.use(middleware.chain(...second));
if (layers >= 7) {
  app.get('/', (_req, res) => void res.json({ message: 'welcome' }));
  const catalogue = new routes.RouteCatalogue();
  const other = (prefix: string, paths: string[]) => catalogue.router(prefix, paths.map((path) => ({ method: 'GET', path, auth: 'none', description: path, handle: () => ({}) })));
  other('/api/auth', ['/', '/other']);
  other('/api/user', ['/me', '/', '/:userId']);
  catalogue.router('/api/order', [{ method: 'GET', path: '/menu', auth: 'none', description: 'menu', handle: () => new routes.RawJson(MENU) }]);
  app.use(catalogue.handler);
} else {
  app.get('/api/order/menu', (_req, res) => routes.sendJson(res, 200, MENU));
}

const server = app.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');
server.keepAliveTimeout = 65_000;
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
