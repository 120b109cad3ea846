import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { FACTORY_FAILURE_REASONS } from '../../factory/types';

export const SUSPICIOUS_CATEGORIES = ['dotenv', 'git', 'wordpress', 'php', 'admin', 'other'] as const;
export type SuspiciousCategory = (typeof SUSPICIOUS_CATEGORIES)[number];

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const FACTORY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32];

/**
 * Every metric of the service, declared once on one registry per app instance (no global registry,
 * so several apps can live in one process). Label sets that alerts divide by are created at 0 here.
 */
export interface MetricHooks {
  activeUsers?: () => Promise<number>;
  dbPool?: () => { inUse: number; idle: number };
  circuitState?: () => number;
}

/** A collect hook must never stall a scrape or a push: a slow source keeps its last value. */
async function withinDeadline<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work.catch(() => undefined), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  /** Filled in by createApp once the database and factory client exist; read at collection time. */
  const hooks: MetricHooks = {};
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const metrics = {
    registry,
    hooks,
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route template (or "unmatched") and status code',
      labelNames: ['method', 'route', 'status_code'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency in seconds, from first byte in to last byte out',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: HTTP_BUCKETS,
      registers,
    }),
    purchases: new Counter({
      name: 'pizza_purchases_total',
      help: 'Pizza orders that reached a final state: outcome success (reason "none") or failure with a bounded reason',
      labelNames: ['outcome', 'reason'] as const,
      registers,
    }),
    pizzasSold: new Counter({ name: 'pizzas_sold_total', help: 'Pizzas in fulfilled orders', registers }),
    revenue: new Counter({ name: 'pizza_revenue_btc_total', help: 'Revenue of fulfilled orders, in BTC', registers }),
    factoryDuration: new Histogram({
      name: 'pizza_factory_request_duration_seconds',
      help: 'Latency of calls to the pizza factory in seconds, by outcome',
      labelNames: ['outcome'] as const,
      buckets: FACTORY_BUCKETS,
      registers,
    }),
    circuitState: new Gauge({
      name: 'pizza_factory_circuit_state',
      help: 'Factory client circuit breaker: 0 closed, 1 half-open, 2 open',
      registers,
      // In a cluster (GET /metrics aggregates the workers' registries) the worst worker's circuit shows.
      aggregator: 'max',
      collect() {
        if (hooks.circuitState) this.set(hooks.circuitState());
      },
    }),
    ordersPending: new Gauge({
      name: 'pizza_orders_pending',
      help: 'Orders written as pending whose factory call has not finished in this process',
      registers,
    }),
    authAttempts: new Counter({
      name: 'auth_attempts_total',
      help: 'Authentication attempts by action (login, register, logout) and outcome (success, failure)',
      labelNames: ['action', 'outcome'] as const,
      registers,
    }),
    activeUsers: new Gauge({
      name: 'active_users',
      help: 'Distinct users with an unexpired session that made an authenticated request in the last 5 minutes',
      registers,
      // Every worker counts the same database-wide sessions: summing would multiply them.
      aggregator: 'max',
      async collect() {
        if (!hooks.activeUsers) return;
        const count = await withinDeadline(hooks.activeUsers(), 1000);
        if (count !== undefined) this.set(count);
      },
    }),
    suspiciousRequests: new Counter({
      name: 'http_suspicious_requests_total',
      help: 'Requests to known scanner paths (/.env, /.git/, wp-*, *.php, ...), by bounded category',
      labelNames: ['category'] as const,
      registers,
    }),
    rateLimited: new Counter({
      name: 'rate_limited_requests_total',
      help: 'Requests refused with 429, by limiter',
      labelNames: ['limiter'] as const,
      registers,
    }),
    dbUp: new Gauge({ name: 'db_up', help: '1 when the database answered its last health check, 0 when not', registers, aggregator: 'min' }),
    dbPool: new Gauge({
      name: 'db_pool_connections',
      help: 'Database pool connections by state (in_use, idle)',
      labelNames: ['state'] as const,
      registers,
      collect() {
        if (!hooks.dbPool) return;
        const { inUse, idle } = hooks.dbPool();
        this.set({ state: 'in_use' }, inUse);
        this.set({ state: 'idle' }, idle);
      },
    }),
    // Host-wide figures, sampled by each worker alike: averaged, not summed, across a cluster.
    systemCpu: new Gauge({ name: 'system_cpu_percent', help: 'Host CPU use over the last sample, percent of all cores', registers, aggregator: 'average' }),
    systemMemory: new Gauge({ name: 'system_memory_percent', help: 'Host memory in use, percent of total', registers, aggregator: 'average' }),
    telemetryPushes: new Counter({
      name: 'telemetry_push_total',
      help: 'Telemetry push attempts by sink (metrics, logs) and outcome',
      labelNames: ['sink', 'outcome'] as const,
      registers,
    }),
    telemetryPushFailures: new Counter({
      name: 'telemetry_push_failures_total',
      help: 'Telemetry pushes that failed after their retries, by sink',
      labelNames: ['sink'] as const,
      registers,
    }),
    logLinesDropped: new Counter({
      name: 'log_lines_dropped_total',
      help: 'Log lines dropped because the Loki push buffer was full or the push gave up',
      registers,
    }),
  };

  // Series exist from start-up so ratios and rate() have both sides before the first event.
  metrics.purchases.inc({ outcome: 'success', reason: 'none' }, 0);
  for (const reason of FACTORY_FAILURE_REASONS) metrics.purchases.inc({ outcome: 'failure', reason }, 0);
  for (const action of ['login', 'register', 'logout']) {
    for (const outcome of ['success', 'failure']) metrics.authAttempts.inc({ action, outcome }, 0);
  }
  for (const category of SUSPICIOUS_CATEGORIES) metrics.suspiciousRequests.inc({ category }, 0);
  for (const limiter of ['login', 'general']) metrics.rateLimited.inc({ limiter }, 0);
  for (const sink of ['metrics', 'logs']) {
    metrics.telemetryPushFailures.inc({ sink }, 0);
    for (const outcome of ['success', 'failure']) metrics.telemetryPushes.inc({ sink, outcome }, 0);
  }
  metrics.logLinesDropped.inc(0);
  metrics.pizzasSold.inc(0);
  metrics.revenue.inc(0);
  metrics.circuitState.set(0);
  metrics.ordersPending.set(0);
  metrics.activeUsers.set(0);
  metrics.dbUp.set(1);
  for (const state of ['in_use', 'idle']) metrics.dbPool.set({ state }, 0);
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
