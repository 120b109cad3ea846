// The metric contract between the service and everything under grafana/: rules, dashboards and tests
// may only use these names. Keep it in step with src/shared/metrics/metrics.ts.

export const SERVICE_SOURCE = 'jwt-pizza-service';
export const TEAM = 'pizza-oncall';
/** Where runbooks live; rule annotations link here so a page opens the runbook in one click. */
export const REPOSITORY_BLOB_URL = 'https://github.com/jwt-pizza/jwt-pizza-service/blob/main';

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricSpec {
  type: MetricType;
  labels: readonly string[];
}

const counter = (...labels: string[]): MetricSpec => ({ type: 'counter', labels });
const gauge = (...labels: string[]): MetricSpec => ({ type: 'gauge', labels });
const histogram = (...labels: string[]): MetricSpec => ({ type: 'histogram', labels });

/** Metrics the service exposes (besides `source` and `instance`, which every pushed series carries). */
export const SERVICE_METRICS: Readonly<Record<string, MetricSpec>> = {
  http_requests_total: counter('method', 'route', 'status_code'),
  http_request_duration_seconds: histogram('method', 'route', 'status_code'),
  pizza_purchases_total: counter('outcome', 'reason'),
  pizzas_sold_total: counter(),
  pizza_revenue_btc_total: counter(),
  pizza_factory_request_duration_seconds: histogram('outcome'),
  pizza_factory_circuit_state: gauge(),
  pizza_factory_late_answers_total: counter('pizza'),
  pizza_orders_pending: gauge(),
  auth_attempts_total: counter('action', 'outcome'),
  active_users: gauge(),
  http_suspicious_requests_total: counter('category'),
  rate_limited_requests_total: counter('limiter'),
  http_untrusted_forwarded_requests_total: counter(),
  rate_limit_store_degraded: gauge(),
  db_up: gauge(),
  db_pool_connections: gauge('state'),
  system_cpu_percent: gauge(),
  system_memory_percent: gauge(),
  telemetry_push_total: counter('sink', 'outcome'),
  telemetry_push_failures_total: counter('sink'),
  log_lines_dropped_total: counter(),
  trace_spans_dropped_total: counter('reason'),
};

/** prom-client's collectDefaultMetrics() (v15) on Linux. */
export const DEFAULT_METRICS: Readonly<Record<string, MetricSpec>> = {
  process_cpu_user_seconds_total: counter(),
  process_cpu_system_seconds_total: counter(),
  process_cpu_seconds_total: counter(),
  process_start_time_seconds: gauge(),
  process_resident_memory_bytes: gauge(),
  process_virtual_memory_bytes: gauge(),
  process_heap_bytes: gauge(),
  process_open_fds: gauge(),
  process_max_fds: gauge(),
  nodejs_eventloop_lag_seconds: gauge(),
  nodejs_eventloop_lag_min_seconds: gauge(),
  nodejs_eventloop_lag_max_seconds: gauge(),
  nodejs_eventloop_lag_mean_seconds: gauge(),
  nodejs_eventloop_lag_stddev_seconds: gauge(),
  nodejs_eventloop_lag_p50_seconds: gauge(),
  nodejs_eventloop_lag_p90_seconds: gauge(),
  nodejs_eventloop_lag_p99_seconds: gauge(),
  nodejs_active_resources: gauge('type'),
  nodejs_active_resources_total: gauge(),
  nodejs_active_handles: gauge('type'),
  nodejs_active_handles_total: gauge(),
  nodejs_active_requests: gauge('type'),
  nodejs_active_requests_total: gauge(),
  nodejs_heap_size_total_bytes: gauge(),
  nodejs_heap_size_used_bytes: gauge(),
  nodejs_external_memory_bytes: gauge(),
  nodejs_heap_space_size_total_bytes: gauge('space'),
  nodejs_heap_space_size_used_bytes: gauge('space'),
  nodejs_heap_space_size_available_bytes: gauge('space'),
  nodejs_version_info: gauge('version', 'major', 'minor', 'patch'),
  nodejs_gc_duration_seconds: histogram('kind'),
};

export const METRIC_CATALOGUE: Readonly<Record<string, MetricSpec>> = { ...SERVICE_METRICS, ...DEFAULT_METRICS };

/** Series written by Prometheus itself for alerting rules; queryable, never exposed by the service. */
export const PROMETHEUS_SYNTHETIC_SERIES = ['ALERTS', 'ALERTS_FOR_STATE'] as const;

/** The names a metric family appears under in the exposition format and in PromQL. */
export function exposedNames(family: string): string[] {
  const spec = METRIC_CATALOGUE[family];
  if (!spec) return [];
  return spec.type === 'histogram' ? [`${family}_bucket`, `${family}_sum`, `${family}_count`] : [family];
}

/** Maps an exposed series name (`x_bucket`, `x_total`, ...) back to its catalogue family, if any. */
export function familyOf(seriesName: string): string | undefined {
  if (METRIC_CATALOGUE[seriesName] && METRIC_CATALOGUE[seriesName].type !== 'histogram') return seriesName;
  const match = /^(.*)_(bucket|sum|count)$/.exec(seriesName);
  if (match && METRIC_CATALOGUE[match[1]]?.type === 'histogram') return match[1];
  return undefined;
}

/** The label every pushed series carries, as a PromQL matcher. */
export const SOURCE_MATCHER = `source="${SERVICE_SOURCE}"`;
