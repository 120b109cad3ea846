// The alerting and recording rules of jwt-pizza-service. Source of grafana/alerts/*.yml
// (run `npx tsx grafana/src/generate.ts` after editing; a test fails while the YAML is stale).
//
// Conventions, each proven by a promtool test in grafana/alerts/tests/:
// - aggregate `by (source)` so several instances raise one alert, not one per instance;
// - page on ratios with a minimum-volume guard, so the same rule works at 2 and at 2,000 orders/min;
// - windows longer than the quiet gaps of a bursty fault, plus `keep_firing_for`, so one fault is one alert.

import { SERVICE_SOURCE } from '../catalogue';
import {
  AUTH_SECURITY,
  AUTH_SECURITY_PANELS,
  ORDERS_FACTORY,
  ORDERS_FACTORY_PANELS,
  SERVICE_OVERVIEW,
  SERVICE_OVERVIEW_PANELS,
  SYSTEM,
  SYSTEM_PANELS,
} from '../dashboards';
import { AlertingRule, RuleFile, RuleGroup } from './model';

/** Rule groups are evaluated every minute, like Grafana Cloud's default; tests use the same interval. */
const EVERY_MINUTE = '1m' as const;

// ---------------------------------------------------------------------------------------------
// Orders

/** The admin action that ends a factory chaos (docs/runbooks/README.md: find the factory report URL). */
const FACTORY_CHAOS_ACTION =
  'Declare one incident. End the factory chaos: POST /api/order/factory/report with an admin token (it calls the factory report URL ' +
  'server-side). Keep the incident open until purchases succeed again.';

export const PIZZA_PURCHASE_FAILURES: AlertingRule = {
  alert: 'PizzaPurchaseFailures',
  // The 10 m window outlasts the quiet gaps of a bursty fault (2 m on 2025-11-26), so the ratio stays
  // up between bursts. ">= 2 failures" is the volume guard: one stray failure at 2 orders/min is not
  // an incident. The `unless` clause resolves on evidence, not on silence: only successful purchases
  // with no failure for 3 minutes count as recovery; then keep_firing_for holds the alert 5 more
  // minutes, and covers a silence longer than the window (users gave up).
  expr: [
    '(',
    '    source:pizza_purchases_failure:ratio10m > 0.05',
    '  and on (source)',
    '    source_outcome:pizza_purchases:increase10m{outcome="failure"} >= 2',
    ')',
    'unless on (source)',
    '(',
    '    source_outcome:pizza_purchases:increase3m{outcome="success"} >= 2',
    '  and on (source)',
    '    source_outcome:pizza_purchases:increase3m{outcome="failure"} == 0',
    ')',
  ].join('\n'),
  for: '1m',
  keepFiringFor: '5m',
  severity: 'page',
  summary: 'Pizza purchases are failing ({{ $value | humanizePercentage }} over 10m)',
  description:
    '{{ $value | humanizePercentage }} of pizza purchases on {{ $labels.source }} failed over the last 10 minutes (at least 2 failures). ' +
    'This alert stays firing through quiet gaps and resolves only after purchases succeed again: do not wait for it to clear. ' +
    'Declare an incident; the factory reportUrl is in the factory failure log, and POST /api/order/factory/report (admin) ends the chaos.',
  action: FACTORY_CHAOS_ACTION,
  runbook: 'pizza-purchase-failures',
  dashboard: ORDERS_FACTORY,
  panelId: ORDERS_FACTORY_PANELS.failureRatio,
  conditionInWords:
    'more than 5% of purchases failed over 10 min, with at least 2 failures; for 1 min; stays firing through quiet gaps until purchases succeed for 3 min, plus keep_firing_for 5 min',
};

export const PIZZA_INVALID_JWT: AlertingRule = {
  alert: 'PizzaInvalidJwt',
  expr: `sum by (source) (increase(pizza_purchases_total{outcome="failure", reason="invalid_jwt"}[10m])) > 0`,
  keepFiringFor: '10m',
  severity: 'page',
  summary: 'The pizza factory returned pizza JWTs that do not verify',
  description:
    '{{ $value | humanize }} pizza JWT(s) from the factory failed verification on {{ $labels.source }} in the last 10 minutes. ' +
    'Those orders were refused, not counted as sales (the badjwt chaos answers HTTP 200 with a bad signature).',
  action: FACTORY_CHAOS_ACTION,
  runbook: 'pizza-invalid-jwt',
  dashboard: ORDERS_FACTORY,
  panelId: ORDERS_FACTORY_PANELS.failedByReason,
  conditionInWords: 'any purchase failed with reason invalid_jwt in the last 10 min; keep_firing_for 10 min',
};

export const PIZZA_FACTORY_LATENCY_HIGH: AlertingRule = {
  alert: 'PizzaFactoryLatencyHigh',
  // A short window with a longer `for`: one slow call stays in the 3 m window less than 3 m, so it
  // cannot fire alone; the throttle chaos (every call ~32 s, cut at the client timeout) does.
  expr: [
    'source:pizza_factory_request_duration_seconds:p95_3m > 4',
    'and on (source)',
    'sum by (source) (increase(pizza_factory_request_duration_seconds_count[3m])) >= 2',
  ].join('\n'),
  for: '3m',
  // One minute less than PizzaPurchaseFailures', whose 3 m success window ends with this 3 m window at
  // the end of a throttle: this alert resolves first, so it is never un-inhibited for the fault's tail
  // (Alertmanager would page it the moment the purchase page resolved).
  keepFiringFor: '4m',
  severity: 'page',
  summary: 'Pizza factory calls are slow (p95 {{ $value | humanizeDuration }})',
  description:
    'The 95th percentile of pizza factory calls on {{ $labels.source }} has been {{ $value | humanizeDuration }} (over 4s) for 3 minutes. ' +
    'The throttle chaos holds calls ~32 s until the client times out; diners wait or fail. POST /api/order/factory/report (admin) ends it.',
  action: FACTORY_CHAOS_ACTION,
  runbook: 'pizza-factory-latency-high',
  dashboard: ORDERS_FACTORY,
  panelId: ORDERS_FACTORY_PANELS.factoryLatency,
  conditionInWords: 'p95 of factory call latency over 3 min above 4 s, with at least 2 calls; for 3 min; keep_firing_for 4 min',
};

export const PIZZA_FACTORY_CIRCUIT_OPEN: AlertingRule = {
  alert: 'PizzaFactoryCircuitOpen',
  expr: [
    'max by (source) (',
    '    max_over_time(pizza_factory_circuit_state[2m]) == 2',
    '  and',
    '    min_over_time(pizza_factory_circuit_state[2m]) >= 1',
    ')',
  ].join('\n'),
  for: '1m',
  keepFiringFor: '5m',
  severity: 'ticket',
  summary: 'Pizza factory circuit breaker has not closed for 3 minutes',
  description:
    'The factory circuit breaker on {{ $labels.source }} opened (state {{ $value | humanize }}; 2 = open) and has not closed for 3 minutes: ' +
    'purchases fail fast with reason circuit_open. PizzaPurchaseFailures pages for the diners; this ticket points at the cause.',
  action: FACTORY_CHAOS_ACTION,
  runbook: 'pizza-factory-circuit-open',
  dashboard: ORDERS_FACTORY,
  panelId: ORDERS_FACTORY_PANELS.circuitState,
  conditionInWords: 'the circuit breaker was open and never closed during the last 2 min, on some instance; for 1 min; keep_firing_for 5 min',
};

const PIZZA_PURCHASES_GROUP: RuleGroup = {
  name: 'jwt-pizza-service-purchases',
  interval: EVERY_MINUTE,
  rules: [
    { record: 'source_outcome:pizza_purchases:increase10m', expr: 'sum by (source, outcome) (increase(pizza_purchases_total[10m]))' },
    { record: 'source_outcome:pizza_purchases:increase3m', expr: 'sum by (source, outcome) (increase(pizza_purchases_total[3m]))' },
    {
      record: 'source:pizza_purchases_failure:ratio10m',
      expr: [
        'sum by (source) (source_outcome:pizza_purchases:increase10m{outcome="failure"})',
        '/',
        '(sum by (source) (source_outcome:pizza_purchases:increase10m) > 0)',
      ].join('\n'),
    },
    PIZZA_PURCHASE_FAILURES,
    PIZZA_INVALID_JWT,
  ],
};

const PIZZA_FACTORY_GROUP: RuleGroup = {
  name: 'jwt-pizza-service-factory',
  interval: EVERY_MINUTE,
  rules: [
    {
      record: 'source_le:pizza_factory_request_duration_seconds_bucket:rate3m',
      expr: 'sum by (source, le) (rate(pizza_factory_request_duration_seconds_bucket[3m]))',
    },
    {
      record: 'source:pizza_factory_request_duration_seconds:p95_3m',
      expr: 'histogram_quantile(0.95, source_le:pizza_factory_request_duration_seconds_bucket:rate3m)',
    },
    PIZZA_FACTORY_LATENCY_HIGH,
    PIZZA_FACTORY_CIRCUIT_OPEN,
  ],
};

// ---------------------------------------------------------------------------------------------
// HTTP

export const HTTP_5XX_RATIO_HIGH: AlertingRule = {
  alert: 'Http5xxRatioHigh',
  // Failed purchases answer 502/503/504 on purpose; they page as PizzaPurchaseFailures with the
  // business signal, so they are left out here to avoid two pages for one fault. A 500 on the
  // order route (a bug) still counts.
  expr: [
    'source:http_requests_unexpected_5xx:ratio_rate5m > 0.05',
    'and on (source)',
    'source:http_requests:rate5m * 300 >= 20',
  ].join('\n'),
  for: '3m',
  keepFiringFor: '5m',
  severity: 'page',
  summary: 'HTTP 5xx ratio is {{ $value | humanizePercentage }}',
  description:
    '{{ $value | humanizePercentage }} of requests to {{ $labels.source }} answered 5xx over 5 minutes (at least 20 requests). ' +
    'Not counted: 502/503/504 of failed purchases on POST /api/order (PizzaPurchaseFailures) and unmatched scanner routes.',
  runbook: 'http-5xx-ratio-high',
  dashboard: SERVICE_OVERVIEW,
  panelId: SERVICE_OVERVIEW_PANELS.errorRatio,
  conditionInWords:
    'more than 5% of requests answered 5xx over 5 min (at least 20 requests), not counting the 502/503/504 of failed purchases; for 3 min; keep_firing_for 5 min',
};

export const HTTP_LATENCY_P99_HIGH: AlertingRule = {
  alert: 'HttpLatencyP99High',
  expr: ['source:http_request_duration_seconds:p99_5m > 1', 'and on (source)', 'source:http_requests:rate5m * 300 >= 20'].join('\n'),
  for: '5m',
  keepFiringFor: '5m',
  severity: 'ticket',
  summary: 'HTTP p99 latency is {{ $value | humanizeDuration }}',
  description:
    'The 99th percentile of request latency on {{ $labels.source }} has been {{ $value | humanizeDuration }} (over 1s) for 5 minutes. ' +
    'POST /api/order is left out: its factory wait has its own alert (PizzaFactoryLatencyHigh).',
  runbook: 'http-latency-p99-high',
  dashboard: SERVICE_OVERVIEW,
  panelId: SERVICE_OVERVIEW_PANELS.latency,
  conditionInWords: 'p99 request latency over 5 min above 1 s (POST /api/order and unmatched excluded, at least 20 requests); for 5 min; keep_firing_for 5 min',
};

const HTTP_GROUP: RuleGroup = {
  name: 'jwt-pizza-service-http',
  interval: EVERY_MINUTE,
  rules: [
    { record: 'source:http_requests:rate5m', expr: 'sum by (source) (rate(http_requests_total{route!="unmatched"}[5m]))' },
    {
      record: 'source:http_requests_unexpected_5xx:rate5m',
      expr: [
        'sum by (source) (',
        '    rate(http_requests_total{status_code=~"5..", route!="unmatched"}[5m])',
        '  unless on (method, route, status_code)',
        '    http_requests_total{method="POST", route="/api/order", status_code=~"502|503|504"}',
        ')',
      ].join('\n'),
    },
    {
      record: 'source:http_requests_unexpected_5xx:ratio_rate5m',
      expr: 'source:http_requests_unexpected_5xx:rate5m / source:http_requests:rate5m',
    },
    {
      record: 'source_le:http_request_duration_seconds_bucket:rate5m',
      expr: [
        'sum by (source, le) (',
        '    rate(http_request_duration_seconds_bucket{route!="unmatched"}[5m])',
        '  unless on (method, route)',
        '    http_request_duration_seconds_bucket{method="POST", route="/api/order"}',
        ')',
      ].join('\n'),
    },
    {
      record: 'source:http_request_duration_seconds:p99_5m',
      expr: 'histogram_quantile(0.99, source_le:http_request_duration_seconds_bucket:rate5m)',
    },
    HTTP_5XX_RATIO_HIGH,
    HTTP_LATENCY_P99_HIGH,
  ],
};

// ---------------------------------------------------------------------------------------------
// Security

export const SCANNER_PROBES_DETECTED: AlertingRule = {
  alert: 'ScannerProbesDetected',
  expr: 'sum by (source, category) (increase(http_suspicious_requests_total[10m])) >= 5',
  keepFiringFor: '15m',
  severity: 'ticket',
  summary: 'Scanner probes for {{ $labels.category }} paths',
  description:
    '{{ $value | humanize }} requests to {{ $labels.category }} scanner paths (e.g. GET /prod/.env) reached {{ $labels.source }} in 10 minutes. ' +
    'The raw paths and client addresses are in the security log.',
  runbook: 'scanner-probes-detected',
  dashboard: AUTH_SECURITY,
  panelId: AUTH_SECURITY_PANELS.probes,
  conditionInWords: 'at least 5 scanner probes of one category (dotenv, git, wordpress, php, admin, other) in 10 min; keep_firing_for 15 min',
};

export const LOGIN_FAILURE_BURST: AlertingRule = {
  alert: 'LoginFailureBurst',
  expr: 'sum by (source) (increase(auth_attempts_total{action="login", outcome="failure"}[5m])) >= 10',
  keepFiringFor: '10m',
  severity: 'ticket',
  summary: '{{ $value | humanize }} failed logins in 5 minutes',
  description:
    '{{ $value | humanize }} login attempts failed on {{ $labels.source }} in 5 minutes: password guessing or credential stuffing, ' +
    'or a broken client. The security log has the accounts and addresses.',
  runbook: 'login-failure-burst',
  dashboard: AUTH_SECURITY,
  panelId: AUTH_SECURITY_PANELS.authAttempts,
  conditionInWords: 'at least 10 failed logins in 5 min; keep_firing_for 10 min',
};

export const RATE_LIMITING_ACTIVE: AlertingRule = {
  alert: 'RateLimitingActive',
  expr: 'sum by (source, limiter) (increase(rate_limited_requests_total[5m])) >= 5',
  for: '2m',
  keepFiringFor: '10m',
  severity: 'ticket',
  summary: 'The {{ $labels.limiter }} rate limiter is refusing requests',
  description:
    '{{ $value | humanize }} requests were refused with 429 by the {{ $labels.limiter }} limiter on {{ $labels.source }} in 5 minutes, for 2 minutes running.',
  runbook: 'rate-limiting-active',
  dashboard: AUTH_SECURITY,
  panelId: AUTH_SECURITY_PANELS.rateLimited,
  conditionInWords: 'at least 5 requests refused by one limiter (login, general) in 5 min; for 2 min; keep_firing_for 10 min',
};

export const PROXY_NOT_TRUSTED: AlertingRule = {
  alert: 'ProxyNotTrusted',
  // Some clients send X-Forwarded-For themselves (corporate proxies); an undeclared proxy in front makes it
  // most of the traffic. The volume guard keeps a handful of requests from deciding.
  expr: [
    'sum by (source) (increase(http_untrusted_forwarded_requests_total[10m]))',
    '  > 0.5 * sum by (source) (increase(http_requests_total[10m]))',
    'and sum by (source) (increase(http_requests_total[10m])) >= 100',
  ].join('\n'),
  for: '10m',
  severity: 'ticket',
  summary: 'Most requests arrive through a proxy that TRUST_PROXY does not name',
  description:
    '{{ $value | humanize }} requests reached {{ $labels.source }} with X-Forwarded-For in 10 minutes while no proxy is trusted, more than half ' +
    'of its traffic: a proxy or load balancer is in front and not declared. Its clients share the proxy\'s one general per-IP limit and ' +
    'login limits. Set TRUST_PROXY to the proxy address.',
  runbook: 'proxy-not-trusted',
  dashboard: AUTH_SECURITY,
  panelId: AUTH_SECURITY_PANELS.untrustedForwarded,
  conditionInWords: 'more than half of the requests in 10 min carried X-Forwarded-For while TRUST_PROXY is unset, with at least 100 requests; for 10 min',
};

export const RATE_LIMIT_STORE_DEGRADED: AlertingRule = {
  alert: 'RateLimitStoreDegraded',
  // ioredis reconnects within 2 s and a Redis restart takes well under a minute: `for: 5m` lets that blip
  // pass. Counting instances (not max) puts how many are degraded in the ticket.
  expr: 'count by (source) (rate_limit_store_degraded > 0)',
  for: '5m',
  keepFiringFor: '5m',
  severity: 'ticket',
  summary: 'The rate limiter cannot reach Redis: login limits are per instance',
  description:
    '{{ $value | humanize }} instance(s) of {{ $labels.source }} have not reached the rate-limit store (Redis) for 5 minutes: the general ' +
    'per-IP limit fails open, and the login limits count in each instance\'s memory, so brute force is bounded per instance only.',
  runbook: 'rate-limit-store-degraded',
  dashboard: AUTH_SECURITY,
  panelId: AUTH_SECURITY_PANELS.rateLimitStore,
  conditionInWords: 'rate_limit_store_degraded is 1 on some instance; for 5 min; keep_firing_for 5 min',
};

const SECURITY_GROUP: RuleGroup = {
  name: 'jwt-pizza-service-security',
  interval: EVERY_MINUTE,
  rules: [SCANNER_PROBES_DETECTED, LOGIN_FAILURE_BURST, RATE_LIMITING_ACTIVE, PROXY_NOT_TRUSTED, RATE_LIMIT_STORE_DEGRADED],
};

// ---------------------------------------------------------------------------------------------
// Platform

/** Every push carries the default process metrics, traffic or not: its absence means no telemetry at all. */
export const TELEMETRY_HEARTBEAT_SERIES = `process_resident_memory_bytes{source="${SERVICE_SOURCE}"}`;

export const TELEMETRY_ABSENT: AlertingRule = {
  alert: 'TelemetryAbsent',
  expr: `absent_over_time(${TELEMETRY_HEARTBEAT_SERIES}[5m])`,
  for: '1m',
  severity: 'page',
  summary: 'No telemetry from jwt-pizza-service for 6 minutes',
  description:
    'No sample of {{ $labels.source }} metrics has arrived for 6 minutes (absent_over_time = {{ $value | humanize }}): the service is down or its ' +
    'metrics push is failing. Every other alert is blind until this clears.',
  runbook: 'telemetry-absent',
  dashboard: SYSTEM,
  panelId: SYSTEM_PANELS.telemetryAge,
  conditionInWords: `no sample of ${TELEMETRY_HEARTBEAT_SERIES} for 5 min; for 1 min`,
};

export const DATABASE_NOT_READY: AlertingRule = {
  alert: 'DatabaseNotReady',
  expr: 'min by (source) (db_up) == 0',
  for: '1m',
  keepFiringFor: '2m',
  severity: 'page',
  summary: 'The database is not answering',
  description:
    'db_up has been {{ $value | humanize }} for over a minute on at least one {{ $labels.source }} instance: requests that need the database answer 503 ' +
    'and /readyz fails.',
  runbook: 'database-not-ready',
  dashboard: SYSTEM,
  panelId: SYSTEM_PANELS.dbUp,
  conditionInWords: 'db_up is 0 on some instance; for 1 min; keep_firing_for 2 min',
};

export const LOG_SHIPPING_FAILING: AlertingRule = {
  alert: 'LogShippingFailing',
  expr: [
    'sum by (source) (increase(telemetry_push_failures_total{sink="logs"}[10m])) >= 3',
    'or',
    'sum by (source) (increase(log_lines_dropped_total[10m])) > 0',
  ].join('\n'),
  for: '2m',
  keepFiringFor: '10m',
  severity: 'ticket',
  summary: 'Logs are not reaching Loki',
  description:
    '{{ $value | humanize }} Loki pushes failed after retries or log lines were dropped on {{ $labels.source }} in 10 minutes. ' +
    'Factory failure lines (with the reportUrl) may be missing from Loki: use GET /api/order/failures (admin) instead.',
  runbook: 'log-shipping-failing',
  dashboard: SYSTEM,
  panelId: SYSTEM_PANELS.telemetryFailures,
  conditionInWords: 'at least 3 failed Loki pushes, or any dropped log line, in 10 min; for 2 min; keep_firing_for 10 min',
};

export const TRACE_EXPORT_FAILING: AlertingRule = {
  alert: 'TraceExportFailing',
  // Counts minutes with drops, not spans: one failed batch at a collector restart (up to a whole batch of
  // spans, in one or two minutes) stays under 3, while a dead collector or a queue that overflows under
  // load drops in most minutes, whatever the traffic.
  expr: 'count_over_time((sum by (source) (increase(trace_spans_dropped_total[1m])) > 0)[10m:1m]) >= 3',
  keepFiringFor: '5m',
  severity: 'ticket',
  summary: 'Trace spans are being dropped: traces in Tempo have gaps',
  description:
    'Spans were dropped (export failed or export queue full) in {{ $value | humanize }} of the last 10 minutes on {{ $labels.source }}: ' +
    'the OTLP collector is down, slow or refusing, or the queue is too small for the load. Requests are not affected; ' +
    'trace links from exemplars and logs may lead nowhere.',
  runbook: 'trace-export-failing',
  dashboard: SYSTEM,
  panelId: SYSTEM_PANELS.traceSpansDropped,
  conditionInWords: 'spans dropped (any reason) in at least 3 of the last 10 minutes; keep_firing_for 5 min',
};

const PLATFORM_GROUP: RuleGroup = {
  name: 'jwt-pizza-service-platform',
  interval: EVERY_MINUTE,
  rules: [TELEMETRY_ABSENT, DATABASE_NOT_READY, LOG_SHIPPING_FAILING, TRACE_EXPORT_FAILING],
};

// ---------------------------------------------------------------------------------------------

export const RULE_FILES: readonly RuleFile[] = [
  { path: 'grafana/alerts/orders.yml', groups: [PIZZA_PURCHASES_GROUP, PIZZA_FACTORY_GROUP] },
  { path: 'grafana/alerts/http.yml', groups: [HTTP_GROUP] },
  { path: 'grafana/alerts/security.yml', groups: [SECURITY_GROUP] },
  { path: 'grafana/alerts/platform.yml', groups: [PLATFORM_GROUP] },
];

export function allAlerts(): AlertingRule[] {
  return RULE_FILES.flatMap((file) => file.groups.flatMap((group) => group.rules)).filter(
    (rule): rule is AlertingRule => 'alert' in rule,
  );
}
