// Series helpers for pizza purchases, and the purchase-alert scenarios beyond the two incidents.

import { PIZZA_INVALID_JWT, PIZZA_PURCHASE_FAILURES, TELEMETRY_ABSENT, TELEMETRY_HEARTBEAT_SERIES } from '../rules/definitions';
import { expectFiring, RuleTestFile, Scenario } from './model';
import { counter, gauge, INSTANCE_A, INSTANCE_B, Labels, onTheMinute, serviceLabels, Series, within } from './series';

export const FAILURE_REASONS = ['factory_error', 'timeout', 'circuit_open', 'invalid_jwt'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export interface PurchaseTraffic {
  /** Successful purchases in (t - 30 s, t]. */
  successes: (t: number) => number;
  failures?: Partial<Record<FailureReason, (t: number) => number>>;
}

/** All five label sets of pizza_purchases_total, present at 0 from start-up as the service creates them. */
export function purchaseSeries(minutes: number, traffic: PurchaseTraffic, instance = INSTANCE_A): Series[] {
  const labels = (outcome: string, reason: string): Labels => ({ ...serviceLabels(instance), outcome, reason });
  return [
    { name: 'pizza_purchases_total', labels: labels('success', 'none'), values: counter(minutes, traffic.successes) },
    ...FAILURE_REASONS.map((reason) => ({
      name: 'pizza_purchases_total',
      labels: labels('failure', reason),
      values: counter(minutes, traffic.failures?.[reason] ?? (() => 0)),
    })),
  ];
}

/** The default process metrics are pushed whether or not there is traffic: TelemetryAbsent watches one. */
export function heartbeat(minutes: number, presentAt: (t: number) => boolean = () => true, instance = INSTANCE_A): Series {
  const match = /^(\w+)\{source="([^"]+)"\}$/.exec(TELEMETRY_HEARTBEAT_SERIES);
  if (!match) throw new Error(`unexpected heartbeat selector ${TELEMETRY_HEARTBEAT_SERIES}`);
  return {
    name: match[1],
    labels: { ...serviceLabels(instance), source: match[2] },
    values: gauge(minutes, (t) => (presentAt(t) ? 52_428_800 : null)),
  };
}

const sourceOnly = { source: serviceLabels().source };
const none = () => 0;

export const HEALTHY_ONE_PERCENT: Scenario = {
  name: 'healthy traffic for an hour, 100 purchases/min with 1% failing: no purchase alert, no TelemetryAbsent',
  minutes: 65,
  series: [
    ...purchaseSeries(65, {
      successes: (t) => (onTheMinute(t) ? 49 : 50),
      failures: { factory_error: (t) => (onTheMinute(t) ? 1 : 0) },
    }),
    heartbeat(65),
  ],
  expectations: [],
  quiet: [PIZZA_PURCHASE_FAILURES.alert, PIZZA_INVALID_JWT.alert, TELEMETRY_ABSENT.alert],
};

export const LOW_TRAFFIC_STRAY_FAILURE: Scenario = {
  name: 'low traffic, 2 purchases/min, one stray failure in an hour: the volume guard keeps it quiet',
  minutes: 60,
  series: [
    ...purchaseSeries(60, {
      successes: (t) => (t === 30 * 60 ? 0 : 1),
      failures: { factory_error: (t) => (t === 30 * 60 ? 1 : 0) },
    }),
    heartbeat(60),
  ],
  expectations: [],
  quiet: [PIZZA_PURCHASE_FAILURES.alert, PIZZA_INVALID_JWT.alert, TELEMETRY_ABSENT.alert],
};

export const NO_TRAFFIC: Scenario = {
  name: 'no traffic at all for an hour (the service still pushes its process metrics): nothing fires',
  minutes: 60,
  series: [...purchaseSeries(60, { successes: none }), heartbeat(60)],
  expectations: [],
  quiet: [PIZZA_PURCHASE_FAILURES.alert, PIZZA_INVALID_JWT.alert, TELEMETRY_ABSENT.alert],
};

/**
 * Two instances each take one purchase a minute; all fail from minute 5 to 20. The rule sums by
 * source, so this is ONE alert without an instance label, not one per instance.
 * Pending at 6 (2 failures), firing at 7; last failure at 20, recovery proven at 23 (3 min of
 * successes only), keep_firing_for 5m → firing through 27, resolved at 28.
 */
export const TWO_INSTANCES: Scenario = {
  name: 'two instances share a failing load: one alert labelled by source, resolved after purchases succeed',
  minutes: 35,
  series: [
    ...purchaseSeries(35, {
      successes: (t) => (onTheMinute(t) && !within(t, 5, 20) ? 1 : 0),
      failures: { factory_error: (t) => (onTheMinute(t) && within(t, 5, 20) ? 1 : 0) },
    }, INSTANCE_A),
    ...purchaseSeries(35, {
      successes: (t) => (!onTheMinute(t) && !within(t, 5, 20) ? 1 : 0),
      failures: { factory_error: (t) => (!onTheMinute(t) && within(t, 5, 20) ? 1 : 0) },
    }, INSTANCE_B),
  ],
  expectations: [expectFiring(PIZZA_PURCHASE_FAILURES, sourceOnly, [[7, 27]], { 7: '28.57%', 20: '100%' })],
};

/**
 * After 4 minutes of failures the diners give up: no traffic at all for 36 minutes. Silence is not
 * recovery: the alert holds while the failures are in the 10 m window (until 18) and keep_firing_for
 * holds it 5 more minutes (through 23).
 */
export const FAILURES_THEN_SILENCE: Scenario = {
  name: 'failures, then the diners give up (no traffic): the alert holds 15 minutes of silence',
  minutes: 45,
  series: [
    ...purchaseSeries(45, {
      successes: (t) => (within(t, 0, 5) ? 1 : 0),
      failures: { timeout: (t) => (within(t, 5, 9) ? 1 : 0) },
    }),
  ],
  expectations: [expectFiring(PIZZA_PURCHASE_FAILURES, sourceOnly, [[7, 23]], { 7: '28.57%', 12: '57.14%', 16: '100%' })],
};

/**
 * One pizza JWT fails verification at minute 10 among healthy purchases. PizzaInvalidJwt pages at once
 * and holds 10 m (window) + 10 m (keep_firing_for); one failure is below PizzaPurchaseFailures' guard.
 */
export const ONE_INVALID_JWT: Scenario = {
  name: 'one pizza JWT that does not verify: PizzaInvalidJwt pages, PizzaPurchaseFailures stays quiet',
  minutes: 35,
  series: [
    ...purchaseSeries(35, {
      successes: (t) => (t === 10 * 60 ? 0 : 1),
      failures: { invalid_jwt: (t) => (t === 10 * 60 ? 1 : 0) },
    }),
  ],
  expectations: [expectFiring(PIZZA_INVALID_JWT, sourceOnly, [[10, 29]], { 10: '1' })],
  quiet: [PIZZA_PURCHASE_FAILURES.alert],
};

/**
 * The badjwt chaos: every pizza JWT fails verification from 10 to 20, then purchases succeed again.
 * PizzaInvalidJwt pages first (no pending period) and holds 10 m + 10 m after the last bad JWT;
 * PizzaPurchaseFailures, which it inhibits in Alertmanager, starts later and ends earlier.
 */
export const BADJWT_CHAOS: Scenario = {
  name: 'badjwt chaos: PizzaInvalidJwt starts before and ends after PizzaPurchaseFailures (inhibition holds)',
  minutes: 45,
  series: [
    ...purchaseSeries(45, {
      successes: (t) => (within(t, 10, 20) ? 0 : 1),
      failures: { invalid_jwt: (t) => (within(t, 10, 20) ? 1 : 0) },
    }),
  ],
  expectations: [expectFiring(PIZZA_INVALID_JWT, sourceOnly, [[11, 39]]), expectFiring(PIZZA_PURCHASE_FAILURES, sourceOnly, [[12, 27]])],
};

export const PURCHASES_TEST_FILE: RuleTestFile = {
  path: 'grafana/alerts/tests/purchases.test.yml',
  ruleFiles: ['../orders.yml', '../platform.yml'],
  header: 'Purchase alerts: quiet on healthy traffic and silence, one alert across instances, silence is not recovery.',
  scenarios: [HEALTHY_ONE_PERCENT, LOW_TRAFFIC_STRAY_FAILURE, NO_TRAFFIC, TWO_INSTANCES, FAILURES_THEN_SILENCE, ONE_INVALID_JWT, BADJWT_CHAOS],
};
