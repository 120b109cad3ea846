import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import type { Config } from './config';
import type { AppContext } from './context';
import { createFactoryClient } from './factory/client';
import { createLateAnswerRecorder } from './orders/lateAnswers';
import { startFactorySimulator, type RunningFactorySimulator } from './factory/simulator';
import { startBackgroundJobs } from './jobs';
import { seed } from './seed';
import { openDatabase } from './shared/db';
import { createLogger, type Logger } from './shared/logging/logger';
import { createMetrics } from './shared/metrics/metrics';
import { createHttpServer } from './shared/http/server';
import { createMemoryRateLimitStore, type RateLimitStore } from './shared/rateLimit/store';
import { createRedisRateLimitStore } from './shared/rateLimit/redisStore';
import { defaultInstanceId, startTelemetry } from './shared/telemetry';
import { shutdownTracing, tracingEnabled } from './shared/tracing';
import { traceRequests } from './shared/tracing/http';

/** Chaos-control key of the embedded simulator when FACTORY_ADMIN_KEY is unset (development only). */
export const DEV_SIMULATOR_ADMIN_KEY = 'dev-factory-admin-key';

export interface RunningService {
  url: string;
  port: number;
  ctx: AppContext;
  server: http.Server;
  /** Where GET /metrics is served when METRICS_PORT is set (otherwise on `url`). */
  metricsUrl?: string;
  simulator?: RunningFactorySimulator;
  /** Stop accepting, let in-flight requests finish (bounded), flush telemetry, close the factory and the pool. */
  shutdown(reason?: string): Promise<void>;
}

export interface StartOptions {
  /** Replaces stdout for logs (tests capture lines). */
  logDestination?: Parameters<typeof createLogger>[0]['destination'];
  isTty?: boolean;
  /** Replaces the body of GET /metrics (a cluster worker reports the aggregate of every worker). */
  metricsText?: () => Promise<string>;
}

/**
 * Composes the whole service from one validated config: database (migrated, seeded), factory (the real
 * one, or the embedded simulator when FACTORY_URL is unset), telemetry, the app, and an HTTP server.
 */
export async function startService(config: Config, options: StartOptions = {}): Promise<RunningService> {
  const metrics = createMetrics();
  // Scraped series carry `source` too, so the same rules and dashboards work for scrape and push.
  metrics.registry.setDefaultLabels({ source: config.metrics.source });
  const telemetry = startTelemetry({ config, metrics, instance: defaultInstanceId({ INSTANCE_ID: config.metrics.instanceId }) });
  const logger: Logger = createLogger({
    level: config.log.level,
    pretty: config.log.pretty,
    service: config.metrics.source,
    env: config.env,
    streams: telemetry.loggerStreams,
    destination: options.logDestination,
  });
  telemetry.start(logger);

  const database = openDatabase(config.database, { poolSize: config.dbPoolSize, timeoutMs: config.dbTimeoutMs });
  try {
    await database.migrate();
    await seed(database.db, config, logger);
  } catch (error) {
    // The message names the failing step; the URL (which may hold a password) is never logged.
    logger.fatal({ type: 'db', err: { message: (error as Error).message, code: (error as { code?: string }).code }, backend: config.database.kind }, 'database start-up failed');
    await database.close().catch(() => undefined);
    await telemetry.shutdown(2000);
    throw error;
  }

  let simulator: RunningFactorySimulator | undefined;
  let factoryUrl = config.factory.url;
  let apiKey = config.factory.apiKey;
  if (!factoryUrl) {
    // The embedded simulator only exists outside production (config refuses it there); its vendor key is
    // private to this process, and its chaos key has a documented development default.
    apiKey ??= randomBytes(16).toString('hex');
    const adminKey = config.factory.simulatorAdminKey ?? DEV_SIMULATOR_ADMIN_KEY;
    simulator = await startFactorySimulator({
      apiKey,
      adminKey,
      port: config.factory.simulatorPort,
      host: '127.0.0.1',
      logger: logger.child({ component: 'factory-simulator' }),
      ...(tracingEnabled() ? { requestTracing: traceRequests() } : {}),
    });
    factoryUrl = simulator.url;
    logger.info({ type: 'factory', url: factoryUrl, chaosKey: config.factory.simulatorAdminKey ? 'FACTORY_ADMIN_KEY' : 'development default' }, 'embedded factory simulator started');
  }
  const lateAnswers = createLateAnswerRecorder();
  const factory = createFactoryClient({
    url: factoryUrl,
    apiKey: apiKey ?? '',
    issuers: config.factory.jwtIssuers,
    timeoutMs: config.factory.timeoutMs,
    circuit: { failureThreshold: config.factory.circuitThreshold, cooldownMs: config.factory.circuitCooldownMs },
    lateAnswer: { windowMs: config.factory.lateAnswerMs, onAnswer: (answer) => lateAnswers.onAnswer(answer) },
    logger,
  });

  const rateLimits: RateLimitStore = config.redisUrl ? createRedisRateLimitStore(config.redisUrl, logger, config.redisKeyPrefix) : createMemoryRateLimitStore();
  const { app, ctx, metricsApp } = createApp({ config, database, logger, metrics, factory, factoryPublicUrl: factoryUrl, rateLimits, metricsText: options.metricsText });
  lateAnswers.bind(ctx);
  const jobs = startBackgroundJobs(ctx);
  await jobs.initial;

  let shuttingDown = false;
  const server = createHttpServer(app, config.http);
  // During the drain, answers on kept-alive connections tell the client to reconnect (elsewhere).
  server.on('request', (_req, res: http.ServerResponse) => {
    if (shuttingDown && !res.headersSent) res.setHeader('Connection', 'close');
  });
  await listen(server, config.port, config.host);
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host}:${port}`;
  // METRICS_PORT: the scrape endpoint on a listener of its own, never reachable through the service port.
  let metricsServer: http.Server | undefined;
  let metricsUrl: string | undefined;
  if (metricsApp && config.metrics.listen) {
    metricsServer = createHttpServer(metricsApp, config.http);
    await listen(metricsServer, config.metrics.listen.port, config.metrics.listen.host);
    const { host } = config.metrics.listen;
    metricsUrl = `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${(metricsServer.address() as AddressInfo).port}`;
    logger.info({ type: 'http', url: metricsUrl }, 'metrics listener started');
  }
  logger.info({ type: 'http', url, database: config.database.kind, factory: simulator ? 'embedded simulator' : 'external' }, 'jwt-pizza-service listening');

  let shutdownPromise: Promise<void> | undefined;
  const shutdown = (reason = 'shutdown') =>
    (shutdownPromise ??= (async () => {
      shuttingDown = true;
      logger.info({ type: 'http', reason }, 'shutting down: draining in-flight requests');
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
      await drained;
      clearTimeout(timer);
      jobs.stop();
      if (metricsServer) {
        const closed = new Promise<void>((resolve) => metricsServer!.close(() => resolve()));
        metricsServer.closeAllConnections();
        await closed;
      }
      await factory.close();
      await simulator?.close();
      await rateLimits.close();
      await database.close();
      logger.info({ type: 'http' }, 'shutdown complete');
      await telemetry.shutdown(5000);
      await shutdownTracing();
      await new Promise<void>((resolve) => logger.flush(() => resolve()));
    })());

  return { url, port, ctx, server, metricsUrl, simulator, shutdown };
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
