import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type HistogramConfiguration, type LabelValues } from 'prom-client';
import { FACTORY_FAILURE_REASONS } from '../../factory/types';
import { spanDrops } from '../tracing';

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
  rateLimitStoreDegraded?: () => boolean;
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

/**
 * A histogram that keeps, per bucket, the trace id of its latest sampled observation. prom-client only
 * lets such a histogram join an OpenMetrics registry; ours stays Prometheus text for everyone who asks for
 * it (tests, the cluster aggregation, remote_write), and the exemplars are shown to scrapers that ask for
 * OpenMetrics (see openMetricsText). Observed with `observe({ labels, value, exemplarLabels })`.
 */
export type ExemplarHistogram<T extends string> = Omit<Histogram<T>, 'observe'> & {
  observe(data: { labels: LabelValues<T>; value: number; exemplarLabels?: Record<string, string> }): void;
};

function exemplarHistogram<T extends string>(registry: Registry, config: HistogramConfiguration<T>): ExemplarHistogram<T> {
  const histogram = new Histogram<T>({ ...config, enableExemplars: true, registers: [] });
  registry.registerMetric(histogram);
  return histogram as ExemplarHistogram<T>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  /** Filled in by createApp once the database and factory client exist; read at collection time. */
  const hooks: MetricHooks = {};
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const seenDrops: Partial<Record<'queue_full' | 'export_failed', number>> = { queue_full: spanDrops.queueFull, export_failed: spanDrops.exportFailed };

  const metrics = {
    registry,
    hooks,
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route template (or "unmatched") and status code',
      labelNames: ['method', 'route', 'status_code'] as const,
      registers,
    }),
    httpDuration: exemplarHistogram(registry, {
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency in seconds, from first byte in to last byte out',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: HTTP_BUCKETS,
    }),
    purchases: new Counter({
      name: 'pizza_purchases_total',
      help: `Pizza orders that reached a final state: outcome success (reason "none") or failure with reason ${FACTORY_FAILURE_REASONS.join(', ')}`,
      labelNames: ['outcome', 'reason'] as const,
      registers,
    }),
    pizzasSold: new Counter({ name: 'pizzas_sold_total', help: 'Pizzas in fulfilled orders', registers }),
    revenue: new Counter({ name: 'pizza_revenue_btc_total', help: 'Revenue of fulfilled orders, in BTC', registers }),
    factoryDuration: exemplarHistogram(registry, {
      name: 'pizza_factory_request_duration_seconds',
      help: 'Latency of calls to the pizza factory in seconds, by outcome',
      labelNames: ['outcome'] as const,
      buckets: FACTORY_BUCKETS,
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
    factoryLateAnswers: new Counter({
      name: 'pizza_factory_late_answers_total',
      help: 'Factory answers that arrived after their order had failed timeout, by whether a pizza JWT came back (made, none)',
      labelNames: ['pizza'] as const,
      registers,
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
      help: 'Requests refused with 429, by limiter (login, general)',
      labelNames: ['limiter'] as const,
      registers,
    }),
    untrustedForwarded: new Counter({
      name: 'http_untrusted_forwarded_requests_total',
      help: 'Requests that carried X-Forwarded-For while no proxy is trusted (TRUST_PROXY unset or none): the header is ignored and the peer is limited as one client',
      registers,
    }),
    rateLimitStoreDegraded: new Gauge({
      name: 'rate_limit_store_degraded',
      help: '1 while the shared rate-limit store (Redis) is unreachable: the general limit fails open, login limits are per instance; 0 otherwise or without Redis',
      registers,
      // In a cluster, any worker that cannot reach Redis shows.
      aggregator: 'max',
      collect() {
        this.set(hooks.rateLimitStoreDegraded?.() ? 1 : 0);
      },
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
      help: 'Telemetry push attempts (every HTTP request to a receiver, retries included) by sink (metrics, logs) and outcome (success, failure)',
      labelNames: ['sink', 'outcome'] as const,
      registers,
    }),
    telemetryPushFailures: new Counter({
      name: 'telemetry_push_failures_total',
      help: 'Telemetry batches lost, by sink: given up after retries or refused with a 4xx; for metrics also not collected, dropped from a full queue or unsent at shutdown',
      labelNames: ['sink'] as const,
      registers,
    }),
    logLinesDropped: new Counter({
      name: 'log_lines_dropped_total',
      help: 'Log lines that will never reach Loki: the push buffer was full, their batch was given up or refused, or they were unsent at shutdown',
      registers,
    }),
    traceSpansDropped: new Counter({
      name: 'trace_spans_dropped_total',
      help: 'Sampled trace spans that will never reach the OTLP collector, by reason (queue_full, export_failed)',
      labelNames: ['reason'] as const,
      registers,
      // The tracing SDK is one per process and counts its own drops; each registry adds what is new since it last looked.
      collect() {
        for (const [reason, total] of [['queue_full', spanDrops.queueFull], ['export_failed', spanDrops.exportFailed]] as const) {
          const delta = total - (seenDrops[reason] ?? 0);
          if (delta > 0) this.inc({ reason }, delta);
          seenDrops[reason] = total;
        }
      },
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
  for (const pizza of ['made', 'none']) metrics.factoryLateAnswers.inc({ pizza }, 0);
  metrics.logLinesDropped.inc(0);
  metrics.untrustedForwarded.inc(0);
  for (const reason of ['queue_full', 'export_failed']) metrics.traceSpansDropped.inc({ reason }, 0);
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

export const OPENMETRICS_CONTENT_TYPE = Registry.OPENMETRICS_CONTENT_TYPE;

/** Whether a scraper prefers OpenMetrics (Prometheus asks for it first; exemplars exist only there). */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('application/openmetrics-text');
}

/**
 * The registry in OpenMetrics text, with exemplars. prom-client's own OpenMetrics rendering renames every
 * counter of the registry in place (it drops `_total` from the family name), which would break the
 * Prometheus text served from the same registry; each counter is rendered through a view with the
 * OpenMetrics family name instead, and the registry is left untouched.
 */
export async function openMetricsText(registry: Registry): Promise<string> {
  // prom-client keeps a registry's default labels (our `source`) private, and has no getter for them.
  const defaultLabels = (registry as unknown as { _defaultLabels?: Record<string, string> })._defaultLabels ?? {};
  // prom-client's typings know neither the content-type argument nor getMetricsAsString.
  const view = new (Registry as unknown as new (contentType: string) => Registry)(Registry.OPENMETRICS_CONTENT_TYPE) as Registry & { getMetricsAsString(metric: unknown): Promise<string> };
  view.setDefaultLabels(defaultLabels);
  const families = await Promise.all(
    registry.getMetricsAsArray().map((metric) => {
      const { type, name } = metric as unknown as { type: string; name: string };
      const shown = type === 'counter' ? Object.create(metric, { name: { value: name.replace(/_total$/, '') } }) : metric;
      return view.getMetricsAsString(shown);
    }),
  );
  return `${families.join('\n')}\n# EOF\n`;
}
