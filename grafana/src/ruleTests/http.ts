// HTTP alerts: unexpected 5xx ratio and p99 latency.

import { HTTP_5XX_RATIO_HIGH, HTTP_LATENCY_P99_HIGH } from '../rules/definitions';
import { expectFiring, RuleTestFile, Scenario } from './model';
import { histogram, lazyCounter, minutes, onTheMinute, serviceLabels, Series, within } from './series';

/** The service's HTTP histogram buckets (src/shared/metrics/metrics.ts). */
export const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

const source = serviceLabels().source;

function requests(total: number, method: string, route: string, status: number, eventsAt: (t: number) => number): Series {
  return { name: 'http_requests_total', labels: { ...serviceLabels(), method, route, status_code: String(status) }, values: lazyCounter(total, eventsAt) };
}

function durations(total: number, method: string, route: string, status: number, observationsAt: (t: number) => number[]): Series[] {
  const labels = { ...serviceLabels(), method, route, status_code: String(status) };
  return histogram('http_request_duration_seconds', labels, HTTP_BUCKETS, total, observationsAt);
}

/**
 * 12 requests a minute; from minute 10 to 25, 2 a minute on GET /api/franchise answer 500 (17%).
 * 4 of 60 in 5 m at 12 (pending) → firing at 15 (for 3m); down to 2 of 60 at 29 → through 33.
 */
export const FRANCHISE_500S: Scenario = {
  name: 'GET /api/franchise answers 500 to one request in six for 15 minutes',
  minutes: 40,
  series: [
    requests(40, 'GET', '/api/franchise', 200, (t) => (within(t, 10, 25) ? 4 : 5)),
    requests(40, 'GET', '/api/franchise', 500, (t) => (within(t, 10, 25) ? 1 : 0)),
    requests(40, 'POST', '/api/order', 200, () => 1),
  ],
  expectations: [expectFiring(HTTP_5XX_RATIO_HIGH, { source }, [[15, 33]], { 20: '16.67%' })],
};

/** All purchases fail with 503 (factory down): PizzaPurchaseFailures pages for that, not this rule. */
export const FAILED_PURCHASES_503: Scenario = {
  name: 'failed purchases answer 503 on POST /api/order: excluded, no 5xx page',
  minutes: 40,
  series: [
    requests(40, 'GET', '/api/franchise', 200, () => 5),
    requests(40, 'POST', '/api/order', 200, (t) => (within(t, 10, 25) ? 0 : 1)),
    requests(40, 'POST', '/api/order', 503, (t) => (within(t, 10, 25) ? 1 : 0)),
  ],
  expectations: [],
  quiet: [HTTP_5XX_RATIO_HIGH.alert],
};

/** One 500 among 5 requests in 5 minutes: below the 20-request volume guard. */
export const LOW_TRAFFIC_500: Scenario = {
  name: 'a single 500 at one request a minute: below the volume guard',
  minutes: 30,
  series: [
    requests(30, 'GET', '/api/order/menu', 200, (t) => (onTheMinute(t) && t !== minutes(15) ? 1 : 0)),
    requests(30, 'GET', '/api/order/menu', 500, (t) => (t === minutes(15) ? 1 : 0)),
  ],
  expectations: [],
  quiet: [HTTP_5XX_RATIO_HIGH.alert],
};

/**
 * Every GET /api/franchise takes 1.8 s from minute 10 to 25 (a slow database). p99 > 1 s at 11
 * (pending) → firing at 16 (for 5m); the last slow request leaves the 5 m window at 30 → through 34.
 */
export const SLOW_FRANCHISE: Scenario = {
  name: 'GET /api/franchise takes 1.8 s for 15 minutes',
  minutes: 40,
  series: [
    requests(40, 'GET', '/api/franchise', 200, () => 5),
    ...durations(40, 'GET', '/api/franchise', 200, (t) => Array<number>(5).fill(within(t, 10, 25) ? 1.8 : 0.02)),
  ],
  expectations: [expectFiring(HTTP_LATENCY_P99_HIGH, { source }, [[16, 34]], { 20: '2.485s' })],
};

/** POST /api/order waits 8 s on the factory (its own alert) and one GET is slow once: no ticket. */
export const SLOW_ORDERS_AND_ONE_OUTLIER: Scenario = {
  name: 'slow purchases (factory wait) and one slow outlier do not raise HttpLatencyP99High',
  minutes: 30,
  series: [
    requests(30, 'GET', '/api/franchise', 200, () => 5),
    ...durations(30, 'GET', '/api/franchise', 200, (t) => [t === minutes(10) ? 3 : 0.02, 0.02, 0.02, 0.02, 0.02]),
    requests(30, 'POST', '/api/order', 200, () => 1),
    ...durations(30, 'POST', '/api/order', 200, () => [8]),
  ],
  expectations: [],
  quiet: [HTTP_LATENCY_P99_HIGH.alert],
};

export const HTTP_TEST_FILE: RuleTestFile = {
  path: 'grafana/alerts/tests/http.test.yml',
  ruleFiles: ['../http.yml'],
  header: 'HTTP alerts: unexpected 5xx ratio (failed purchases excluded) and p99 latency (order creation excluded).',
  scenarios: [FRANCHISE_500S, FAILED_PURCHASES_503, LOW_TRAFFIC_500, SLOW_FRANCHISE, SLOW_ORDERS_AND_ONE_OUTLIER],
};
