// Factory alerts: the throttle chaos pages, a single slow call does not; a circuit that stays open
// raises a ticket, one that closes again does not.

import { PIZZA_FACTORY_CIRCUIT_OPEN, PIZZA_FACTORY_LATENCY_HIGH, PIZZA_PURCHASE_FAILURES } from '../rules/definitions';
import { expectFiring, RuleTestFile, Scenario } from './model';
import { purchaseSeries } from './purchases';
import { gauge, histogram, INSTANCE_A, INSTANCE_B, minutes, serviceLabels, Series, within } from './series';

/** The service's factory histogram buckets (src/shared/metrics/metrics.ts). */
export const FACTORY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32] as const;
const FACTORY_TIMEOUT_SECONDS = 8;

function factoryCalls(total: number, outcome: string, observationsAt: (t: number) => number[]): Series[] {
  return histogram('pizza_factory_request_duration_seconds', { ...serviceLabels(), outcome }, FACTORY_BUCKETS, total, observationsAt);
}

const source = serviceLabels().source;

/**
 * Two orders a minute. From minute 10 to 25 the throttle chaos holds every call until the client's
 * 8 s timeout. p95 over 3 m passes 4 s at 11 (pending) → firing at 14 (for 3m); the last slow call
 * leaves the window at 28 → keep_firing_for 4m → firing through 31.
 */
export const THROTTLE_CHAOS: Scenario = {
  name: 'throttle chaos: every factory call hits the 8 s client timeout for 15 minutes',
  minutes: 40,
  series: [
    ...factoryCalls(40, 'fulfilled', (t) => (within(t, 10, 25) ? [] : [0.3])),
    ...factoryCalls(40, 'timeout', (t) => (within(t, 10, 25) ? [FACTORY_TIMEOUT_SECONDS] : [])),
  ],
  expectations: [expectFiring(PIZZA_FACTORY_LATENCY_HIGH, { source }, [[14, 31]], { 14: '7.8s' })],
};

/**
 * The same throttle seen by both alerts: every purchase times out from 10 to 25. The purchase page
 * fires first (12, for 1m) and the latency page it inhibits fires later (14, for 3m); at the end
 * the latency page resolves first (through 31, keep_firing_for 4m) and the purchase page after it
 * (through 32), so Alertmanager never un-inhibits latency for the fault's tail. With keep_firing_for 5m
 * both would end at 32, and whichever rule group Prometheus evaluates last would page again.
 */
export const THROTTLE_INHIBITION_ORDER: Scenario = {
  name: 'throttle chaos: the purchase page starts before the latency page and ends after it (inhibition holds)',
  minutes: 45,
  series: [
    ...factoryCalls(45, 'fulfilled', (t) => (within(t, 10, 25) ? [] : [0.3])),
    ...factoryCalls(45, 'timeout', (t) => (within(t, 10, 25) ? [FACTORY_TIMEOUT_SECONDS] : [])),
    ...purchaseSeries(45, { successes: (t) => (within(t, 10, 25) ? 0 : 1), failures: { timeout: (t) => (within(t, 10, 25) ? 1 : 0) } }),
  ],
  expectations: [
    expectFiring(PIZZA_PURCHASE_FAILURES, { source }, [[12, 32]]),
    expectFiring(PIZZA_FACTORY_LATENCY_HIGH, { source }, [[14, 31]]),
  ],
};

/** One 20 s call among fast ones: it sits in the 3 m window for 3 evaluations only, less than `for: 3m`. */
export const ONE_SLOW_CALL: Scenario = {
  name: 'one slow factory call at low traffic does not page',
  minutes: 30,
  series: factoryCalls(30, 'fulfilled', (t) => [t === minutes(10) ? 20 : 0.3]),
  expectations: [],
  quiet: [PIZZA_FACTORY_LATENCY_HIGH.alert],
};

/**
 * Instance A's breaker opens after minute 10, probes half-open every 2 minutes and re-opens, and
 * closes after 20; instance B stays closed. The 2 m window holds no "closed" sample from 13 (pending)
 * → firing at 14; closed again at 20:30 → condition false at 21 → keep_firing_for 5m → through 25.
 */
export const CIRCUIT_STAYS_OPEN: Scenario = {
  name: 'circuit breaker open for 10 minutes with half-open probes: one ticket',
  minutes: 35,
  series: [
    {
      name: 'pizza_factory_circuit_state',
      labels: serviceLabels(INSTANCE_A),
      values: gauge(35, (t) => (within(t, 10, 20) ? ([12, 14, 16, 18].some((m) => t === minutes(m)) ? 1 : 2) : 0)),
    },
    { name: 'pizza_factory_circuit_state', labels: serviceLabels(INSTANCE_B), values: gauge(35, () => 0) },
  ],
  expectations: [expectFiring(PIZZA_FACTORY_CIRCUIT_OPEN, { source }, [[14, 25]], { 14: '2' })],
};

export const CIRCUIT_RECOVERS: Scenario = {
  name: 'circuit breaker open for one minute, then closed: no ticket',
  minutes: 20,
  series: [{ name: 'pizza_factory_circuit_state', labels: serviceLabels(), values: gauge(20, (t) => (within(t, 10, 11) ? 2 : 0)) }],
  expectations: [],
  quiet: [PIZZA_FACTORY_CIRCUIT_OPEN.alert],
};

export const FACTORY_TEST_FILE: RuleTestFile = {
  path: 'grafana/alerts/tests/factory.test.yml',
  ruleFiles: ['../orders.yml'],
  header: 'Factory alerts: latency (throttle chaos) and circuit breaker.',
  scenarios: [THROTTLE_CHAOS, THROTTLE_INHIBITION_ORDER, ONE_SLOW_CALL, CIRCUIT_STAYS_OPEN, CIRCUIT_RECOVERS],
};
