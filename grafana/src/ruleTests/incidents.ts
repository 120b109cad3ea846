// The two incident timelines as rule tests: our PizzaPurchaseFailures against the alert that failed.

import { SERVICE_SOURCE } from '../catalogue';
import { NAIVE_PURCHASE_FAILURES, STATIC_THRESHOLD_PIZZA_ERRORS } from '../rules/antiExamples';
import { PIZZA_PURCHASE_FAILURES } from '../rules/definitions';
import { AlertExpectation, expectFiring, FiringInterval, RuleTestFile, Scenario } from './model';
import { purchaseSeries } from './purchases';
import { EVALUATION_MINUTES, minutes, onTheMinute, Series, valueAtMinute, within } from './series';

/**
 * What the naive rule `increase(x[1m]) > 0` does, derived from the data alone: it fires at minute m
 * exactly when the failure counter rose since m - 1 (no `for`, no `keep_firing_for`).
 */
export function naiveFiringIntervals(series: Series, totalMinutes: number): FiringInterval[] {
  const intervals: [number, number][] = [];
  for (let minute = EVALUATION_MINUTES; minute <= totalMinutes; minute += EVALUATION_MINUTES) {
    const rose = (valueAtMinute(series, minute) ?? 0) > (valueAtMinute(series, minute - 1) ?? 0);
    if (!rose) continue;
    const last = intervals[intervals.length - 1];
    if (last && last[1] === minute - EVALUATION_MINUTES) last[1] = minute;
    else intervals.push([minute, minute]);
  }
  return intervals;
}

function naiveExpectations(series: Series[], totalMinutes: number): AlertExpectation[] {
  return series
    .filter((s) => s.labels.outcome === 'failure')
    .map((s) => ({
      alertname: NAIVE_PURCHASE_FAILURES.alert,
      labels: { ...s.labels, anti_example: 'true' },
      firing: naiveFiringIntervals(s, totalMinutes),
    }))
    .filter((expectation) => expectation.firing.length > 0);
}

// ---------------------------------------------------------------------------------------------
// 2025-11-26 (17:30 UTC = minute 0): 100% of purchases fail from 17:36 for 45 minutes, in bursts of
// about 4 minutes separated by ~2 minutes with no traffic at all; the reportUrl is opened at 18:21.

export const NOVEMBER = {
  minutes: 75,
  healthyUntil: 6,
  fixedAt: 51,
  burstMinutes: 4,
  gapMinutes: 2,
} as const;

/** True when t falls in a failure burst: (6, 10], (12, 16], ... (48, 51]. */
export function inNovemberBurst(t: number): boolean {
  if (!within(t, NOVEMBER.healthyUntil, NOVEMBER.fixedAt)) return false;
  const cycle = minutes(NOVEMBER.burstMinutes + NOVEMBER.gapMinutes);
  const phase = ((t - minutes(NOVEMBER.healthyUntil) - 1) % cycle) + 1; // in (0, cycle]
  return phase <= minutes(NOVEMBER.burstMinutes);
}

const novemberSeries = purchaseSeries(NOVEMBER.minutes, {
  // Two purchases a minute (one per 30 s sample) whenever diners are ordering.
  successes: (t) => (within(t, 0, NOVEMBER.healthyUntil) || t > minutes(NOVEMBER.fixedAt) ? 1 : 0),
  failures: { factory_error: (t) => (inNovemberBurst(t) ? 1 : 0) },
});

/**
 * PizzaPurchaseFailures: first failures at 6:30 and 7:00 → pending at 7, firing at 8 (for 1m).
 * It holds through every gap (the 10 m window still holds failures). Fix at 51; successes from 51:30;
 * at 54 the last 3 minutes hold successes only → condition false; keep_firing_for 5m → firing through
 * 58, resolved at 59. $value: 4/16 at 8, 100% mid-incident, 12/16 frozen from minute 53 while kept firing.
 */
export const NOVEMBER_OURS: AlertExpectation = expectFiring(PIZZA_PURCHASE_FAILURES, { source: SERVICE_SOURCE }, [[8, 58]], {
  8: '25%',
  20: '100%',
  56: '75%',
});

export const NOVEMBER_NAIVE: AlertExpectation[] = naiveExpectations(novemberSeries, NOVEMBER.minutes);

export const NOVEMBER_SCENARIO: Scenario = {
  name: '2025-11-26: 45 minutes of bursts (4 min all failing, 2 min no traffic), then purchases succeed',
  minutes: NOVEMBER.minutes,
  series: novemberSeries,
  expectations: [NOVEMBER_OURS, ...NOVEMBER_NAIVE],
};

export const NOVEMBER_TEST_FILE: RuleTestFile = {
  path: 'grafana/alerts/tests/incident-2025-11-26.test.yml',
  ruleFiles: ['../orders.yml', 'naive.rules.yml'],
  header: [
    'Incident 2025-11-26 (flapping purchase alert). Minute 0 = 17:30 UTC.',
    'Every minute, promtool checks whether PizzaPurchaseFailures and the naive anti-example are firing;',
    'the count expressions then prove ONE firing for ours and one per burst for the naive rule.',
  ].join('\n'),
  scenarios: [NOVEMBER_SCENARIO],
};

// ---------------------------------------------------------------------------------------------
// 2025-04-08 (11:45 = minute 0): three orders a minute; chaos from 11:55 to 12:14 (minutes 10-29);
// five orders fail, spread among successful ones.

export const APRIL = {
  minutes: 40,
  chaosFrom: 10,
  chaosUntil: 29,
  failureSeconds: [12.5, 15, 17.5, 21.5, 25.5].map((m) => m * 60),
} as const;

const aprilFailsAt = (t: number) => (APRIL.failureSeconds as readonly number[]).includes(t);
const aprilSeries = purchaseSeries(APRIL.minutes, {
  // Three orders a minute: two in the sample on the minute, one in the sample on the half minute.
  successes: (t) => (onTheMinute(t) ? 2 : 1) - (aprilFailsAt(t) ? 1 : 0),
  failures: { factory_error: (t) => (aprilFailsAt(t) ? 1 : 0) },
});

/**
 * Second failure at 15:00 → 2 of 30 orders in 10 min (6.7% > 5%) → pending at 15, firing at 16.
 * Between spread failures the 3-minute "recovered" check is briefly true (at 21) but the next
 * failure comes within keep_firing_for, so it stays one alert; last failure 25:30 → condition false
 * at 29 → firing through 33.
 */
export const APRIL_OURS: AlertExpectation = expectFiring(PIZZA_PURCHASE_FAILURES, { source: SERVICE_SOURCE }, [[16, 33]], {
  16: '6.667%',
});

export const APRIL_SCENARIO: Scenario = {
  name: '2025-04-08: three orders a minute, five failed orders spread over 19 minutes',
  minutes: APRIL.minutes,
  series: aprilSeries,
  expectations: [APRIL_OURS],
  // The old alert: a raw count tuned for peak traffic. At a few orders a minute it never fires.
  quiet: [STATIC_THRESHOLD_PIZZA_ERRORS.alert],
};

export const APRIL_TEST_FILE: RuleTestFile = {
  path: 'grafana/alerts/tests/incident-2025-04-08.test.yml',
  ruleFiles: ['../orders.yml', 'naive.rules.yml'],
  header: [
    'Incident 2025-04-08 (an alert that never fired). Minute 0 = 11:45.',
    'PizzaPurchaseFailures fires at 16 and stays one alert; the old static threshold never fires.',
  ].join('\n'),
  scenarios: [APRIL_SCENARIO],
};
