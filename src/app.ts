import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Express } from 'express';
import { apiRouters } from './apiRoutes';
import type { Config } from './config';
import type { AppContext } from './context';
import { countActiveUsers } from './auth/sessionsRepository';
import { docsRouter } from './docs/docsRouter';
import type { FactoryClient } from './factory/types';
import type { DatabaseHandle } from './shared/db';
import { unauthorized } from './shared/errors';
import { chain, cors, errorHandler, generalRateLimit, jsonBody, observeRequests, requestId, securityHeaders, unknownEndpoint } from './shared/http/middleware';
import { RouteCatalogue } from './shared/http/routes';
import type { Logger } from './shared/logging/logger';
import { OPENMETRICS_CONTENT_TYPE, openMetricsText, wantsOpenMetrics, type Metrics } from './shared/metrics/metrics';
import { createMemoryRateLimitStore, type RateLimitStore } from './shared/rateLimit/store';
import { tracingEnabled } from './shared/tracing';
import { traceRequests } from './shared/tracing/http';

export const ACTIVE_USER_WINDOW_MS = 5 * 60_000;
const CIRCUIT_CODES = { closed: 0, half_open: 1, open: 2 } as const;

export interface AppDeps {
  config: Config;
  database: DatabaseHandle;
  logger: Logger;
  metrics: Metrics;
  factory: FactoryClient;
  factoryPublicUrl: string;
  rateLimits?: RateLimitStore;
  now?: () => number;
  /** The /metrics body; default this app's registry. A cluster worker answers for the whole group. */
  metricsText?: () => Promise<string>;
}

export function serviceVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * Builds the Express app with no listen() and no module-level state: tests run several side by side.
 * With METRICS_PORT set, GET /metrics lives on `metricsApp` (for its own listener) instead of `app`.
 */
export function createApp(deps: AppDeps): { app: Express; ctx: AppContext; metricsApp?: Express } {
  const ctx: AppContext = {
    config: deps.config,
    database: deps.database,
    db: deps.database.db,
    logger: deps.logger,
    metrics: deps.metrics,
    factory: deps.factory,
    factoryPublicUrl: deps.factoryPublicUrl,
    rateLimits: deps.rateLimits ?? createMemoryRateLimitStore(deps.now),
    now: deps.now ?? Date.now,
  };
  const { config, metrics, logger } = ctx;
  metrics.hooks.activeUsers = () => countActiveUsers(ctx.db, ctx.now() - ACTIVE_USER_WINDOW_MS, ctx.now());
  metrics.hooks.dbPool = () => deps.database.poolStats();
  metrics.hooks.circuitState = () => CIRCUIT_CODES[ctx.factory.state().circuit];
  metrics.hooks.rateLimitStoreDegraded = () => ctx.rateLimits.degraded?.() ?? false;

  const version = serviceVersion();
  const catalogue = new RouteCatalogue();

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (config.trustProxy !== undefined) app.set('trust proxy', /^\d+$/.test(config.trustProxy) ? Number(config.trustProxy) : config.trustProxy);

  // The request's server span, first, so everything after it runs in its trace (tracing on only).
  if (tracingEnabled()) app.use(traceRequests());
  // Middleware that every request runs is grouped into one router layer per stage (see chain()).
  app.use(chain(requestId(), ...(config.telemetryEnabled ? [observeRequests(metrics, logger)] : []), securityHeaders(), cors(config.corsOrigins)));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await ctx.database.ping();
      metrics.dbUp.set(1);
      res.json({ status: 'ready' });
    } catch (error) {
      metrics.dbUp.set(0);
      logger.warn({ type: 'db', err: error }, 'readiness check failed');
      res.status(503).json({ status: 'not ready', message: 'database not reachable' });
    }
  });
  const metricsApp = config.metrics.listen ? express() : app;
  metricsApp.get('/metrics', async (req, res) => {
    if (config.metrics.token && req.headers.authorization !== `Bearer ${config.metrics.token}`) throw unauthorized();
    // Exemplars (trace ids on the latency histograms) exist only with tracing, and only OpenMetrics carries
    // them: served to scrapers that ask for it. A cluster's aggregate across workers stays Prometheus text.
    if (tracingEnabled() && !deps.metricsText && wantsOpenMetrics(req.headers.accept)) {
      res.type(OPENMETRICS_CONTENT_TYPE).send(await openMetricsText(metrics.registry));
      return;
    }
    res.type(metrics.registry.contentType).send(await (deps.metricsText ?? (() => metrics.registry.metrics()))());
  });
  app.use(chain(generalRateLimit(ctx.rateLimits, config.rateLimitPerMinute, metrics, logger, config.trustProxy !== undefined), jsonBody({ limit: config.bodyLimit, timeoutMs: config.http.bodyTimeoutMs })));

  app.get('/', (_req, res) => {
    res.json({ message: 'welcome to JWT Pizza', version });
  });
  apiRouters(ctx, catalogue);
  app.use(catalogue.handler);
  app.use(docsRouter(catalogue, version, deps.factoryPublicUrl));
  app.use(unknownEndpoint(metrics, logger));
  app.use(errorHandler(logger));
  if (metricsApp !== app) {
    metricsApp.disable('x-powered-by');
    metricsApp.use((_req, res) => void res.status(404).json({ message: 'unknown endpoint' }));
    metricsApp.use(errorHandler(logger));
    return { app, ctx, metricsApp };
  }
  return { app, ctx };
}
