import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Config } from './config';
import { startFactorySimulator, type RunningFactorySimulator } from './factory/simulator';
import { seed } from './seed';
import { openDatabase } from './shared/db';
import { createLogger, type Logger } from './shared/logging/logger';

/**
 * WEB_CONCURRENCY > 1: a primary that prepares what must happen once, then forks that many workers,
 * each running the whole service on the shared port.
 *
 * - Migrations and seeding run in the primary before any fork. Kysely's migration lock is a MySQL
 *   GET_LOCK, but a no-op on SQLite: two processes migrating a fresh SQLite file at once fail with
 *   "table already exists". Workers still call migrate() at start, which then finds nothing to do.
 * - With FACTORY_URL unset, the primary starts the one embedded factory simulator and hands its URL and
 *   keys to the workers, who then use it as an external factory.
 * - The primary hands its JWT secret to the workers, so a token from one worker is valid on all.
 * - GET /metrics (on the service port, or on METRICS_PORT, which the workers share like the service port):
 *   the worker that gets the scrape asks the primary, which collects every worker's registry with
 *   prom-client's AggregatorRegistry and answers with the sum. METRICS_TOKEN applies as in one process.
 * - A worker that dies is replaced; one that keeps dying at once stops the whole group.
 * - SIGTERM/SIGINT are forwarded to the workers, which drain like a single process; the primary exits
 *   when they have, or kills the stragglers after SHUTDOWN_TIMEOUT_MS plus a margin.
 */

const METRICS_REQUEST = 'jwt-pizza:cluster-metrics-request';
const METRICS_RESPONSE = 'jwt-pizza:cluster-metrics-response';
const CRASH_WINDOW_MS = 60_000;
const MAX_CRASHES_IN_WINDOW = 5;
const RESTART_DELAY_MS = 1_000;

interface MetricsRequest { type: typeof METRICS_REQUEST; id: number }
interface MetricsResponse { type: typeof METRICS_RESPONSE; id: number; text?: string; error?: string }

export interface ClusterPrimary {
  workers(): Worker[];
  shutdown(reason: string): Promise<number>;
}

export async function startClusterPrimary(config: Config): Promise<ClusterPrimary> {
  const logger: Logger = createLogger({ level: config.log.level, pretty: config.log.pretty, service: config.metrics.source, env: config.env }).child({ component: 'cluster-primary' });
  if (config.database.kind === 'sqlite' && config.database.file === ':memory:') {
    throw new Error('WEB_CONCURRENCY > 1 needs a database the workers share; sqlite::memory: would give each worker its own');
  }

  const database = openDatabase(config.database, { poolSize: 1, timeoutMs: config.dbTimeoutMs });
  try {
    await database.migrate();
    await seed(database.db, config, logger);
  } finally {
    await database.close();
  }

  const workerEnv: Record<string, string> = { JWT_SECRET: config.jwt.secret };
  let simulator: RunningFactorySimulator | undefined;
  if (!config.factory.url) {
    const apiKey = config.factory.apiKey ?? randomBytes(16).toString('hex');
    const adminKey = config.factory.simulatorAdminKey ?? randomBytes(16).toString('hex');
    simulator = await startFactorySimulator({ apiKey, adminKey, port: config.factory.simulatorPort, host: '127.0.0.1', logger: logger.child({ component: 'factory-simulator' }) });
    Object.assign(workerEnv, { FACTORY_URL: simulator.url, FACTORY_API_KEY: apiKey, FACTORY_ADMIN_KEY: adminKey });
    logger.info(
      { type: 'factory', url: simulator.url, ...(config.factory.simulatorAdminKey ? {} : { chaosAdminKey: adminKey }) },
      'embedded factory simulator started by the cluster primary, shared by every worker',
    );
  }

  // Collects the workers' registries on request; its constructor installs prom-client's listeners.
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker: Worker, message: unknown) => {
    if ((message as MetricsRequest)?.type !== METRICS_REQUEST) return;
    const id = (message as MetricsRequest).id;
    const reply = (answer: Omit<MetricsResponse, 'type' | 'id'>) => {
      if (worker.isConnected()) worker.send({ type: METRICS_RESPONSE, id, ...answer } satisfies MetricsResponse);
    };
    aggregator.clusterMetrics().then(
      (text) => reply({ text }),
      (error: unknown) => reply({ error: error instanceof Error ? error.message : String(error) }),
    );
  });

  let shuttingDown = false;
  const crashes: number[] = [];
  const fork = () => {
    const worker = cluster.fork(workerEnv);
    worker.once('online', () => logger.info({ type: 'cluster', workerId: worker.id, pid: worker.process.pid }, 'worker started'));
    return worker;
  };

  cluster.on('exit', (worker, code, signal) => {
    if (shuttingDown) return;
    const now = Date.now();
    crashes.push(now);
    while (crashes.length && crashes[0] < now - CRASH_WINDOW_MS) crashes.shift();
    if (crashes.length >= MAX_CRASHES_IN_WINDOW) {
      logger.fatal({ type: 'cluster', workerId: worker.id, code, signal, crashes: crashes.length }, `workers keep dying (${crashes.length} in ${CRASH_WINDOW_MS / 1000} s): stopping`);
      void primary.shutdown('crash loop').then((exitCode) => process.exit(exitCode));
      return;
    }
    logger.error({ type: 'cluster', workerId: worker.id, pid: worker.process.pid, code, signal }, 'worker died; starting a replacement');
    setTimeout(() => {
      if (!shuttingDown) fork();
    }, RESTART_DELAY_MS).unref();
  });

  logger.info({ type: 'cluster', workers: config.webConcurrency, pid: process.pid }, `cluster primary forking ${config.webConcurrency} workers`);
  for (let i = 0; i < config.webConcurrency; i++) fork();

  let shutdownPromise: Promise<number> | undefined;
  const primary: ClusterPrimary = {
    workers: () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined),
    shutdown: (reason) =>
      (shutdownPromise ??= (async () => {
        shuttingDown = true;
        const workers = primary.workers();
        logger.info({ type: 'cluster', reason, workers: workers.length }, 'stopping workers');
        const exited = Promise.all(workers.map((w) => (w.isDead() ? Promise.resolve() : new Promise<void>((resolve) => w.once('exit', () => resolve())))));
        for (const w of workers) if (!w.isDead()) w.process.kill('SIGTERM');
        let forced = false;
        const timer = setTimeout(() => {
          forced = true;
          for (const w of primary.workers()) if (!w.isDead()) w.process.kill('SIGKILL');
        }, config.shutdownTimeoutMs + 10_000);
        await exited;
        clearTimeout(timer);
        await simulator?.close();
        logger.info({ type: 'cluster', forced }, 'cluster stopped');
        await new Promise<void>((resolve) => logger.flush(() => resolve()));
        return forced || reason === 'crash loop' ? 1 : 0;
      })()),
  };
  return primary;
}

/** In a worker: what startService needs so GET /metrics answers for the whole group. */
export function clusterWorkerMetrics(): () => Promise<string> {
  let next = 0;
  const pending = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
  process.on('message', (message: unknown) => {
    const response = message as MetricsResponse;
    if (response?.type !== METRICS_RESPONSE) return;
    const request = pending.get(response.id);
    if (!request) return;
    pending.delete(response.id);
    clearTimeout(request.timer);
    if (response.text !== undefined) request.resolve(response.text);
    else request.reject(new Error(`cluster metrics: ${response.error ?? 'no answer'}`));
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      // prom-client gives up on a silent worker after 5 s; this bounds the wait for the primary itself.
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('cluster metrics: the primary did not answer'));
      }, 7_000);
      pending.set(id, { resolve, reject, timer });
      process.send?.({ type: METRICS_REQUEST, id } satisfies MetricsRequest);
    });
}

/**
 * In a worker, once the service runs: answer the primary's metric collections. (A worker whose primary
 * is gone exits by itself: Node's cluster ends a worker when its IPC channel closes.)
 */
export function joinCluster(registry: Registry): void {
  AggregatorRegistry.setRegistries([registry]);
  // Constructing one installs prom-client's worker-side listener that answers the primary.
  new AggregatorRegistry();
}
