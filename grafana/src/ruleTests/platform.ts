// Platform alerts: the telemetry pipeline, the database, log shipping.

import { DATABASE_NOT_READY, LOG_SHIPPING_FAILING, TELEMETRY_ABSENT } from '../rules/definitions';
import { expectFiring, RuleTestFile, Scenario } from './model';
import { heartbeat, purchaseSeries } from './purchases';
import { counter, gauge, INSTANCE_A, INSTANCE_B, minutes, onTheMinute, serviceLabels, Series, within } from './series';

const source = serviceLabels().source;

function telemetryCounters(total: number, logPushFailures: (t: number) => number, droppedLines: (t: number) => number): Series[] {
  return [
    { name: 'telemetry_push_failures_total', labels: { ...serviceLabels(), sink: 'metrics' }, values: counter(total, () => 0) },
    { name: 'telemetry_push_failures_total', labels: { ...serviceLabels(), sink: 'logs' }, values: counter(total, logPushFailures) },
    { name: 'log_lines_dropped_total', labels: serviceLabels(), values: counter(total, droppedLines) },
  ];
}

/**
 * The pushes stop after minute 20 and resume at 40. No sample in [m-5m, m] from 26 (pending) →
 * page at 27 (for 1m); the first sample back at 40 resolves it.
 */
export const PUSHES_STOP: Scenario = {
  name: 'the metrics push stops for 20 minutes: TelemetryAbsent pages, then resolves when samples return',
  minutes: 50,
  series: [heartbeat(50, (t) => t <= minutes(20) || t >= minutes(40))],
  expectations: [expectFiring(TELEMETRY_ABSENT, { source }, [[27, 39]], { 30: '1' })],
};

export const TRAFFIC_AND_A_HICCUP: Scenario = {
  name: 'traffic flowing, a 3-minute push hiccup, one failed log push: nothing fires',
  minutes: 40,
  series: [
    heartbeat(40, (t) => !within(t, 15, 18)),
    ...purchaseSeries(40, { successes: () => 1 }),
    { name: 'db_up', labels: serviceLabels(), values: gauge(40, () => 1) },
    ...telemetryCounters(40, (t) => (t === minutes(10) ? 1 : 0), () => 0),
  ],
  expectations: [],
  quiet: [TELEMETRY_ABSENT.alert, DATABASE_NOT_READY.alert, LOG_SHIPPING_FAILING.alert],
};

/**
 * Instance A loses its database from minute 10 to 14: pending at 11, page at 12, back at 14:30 →
 * keep_firing_for 2m → through 16. Instance B blips to 0 for one minute at 31: pending only, no page.
 */
export const DATABASE_DOWN: Scenario = {
  name: 'the database is down for 4 minutes on one instance (one page), then a 1-minute blip (no page)',
  minutes: 40,
  series: [
    heartbeat(40),
    { name: 'db_up', labels: serviceLabels(INSTANCE_A), values: gauge(40, (t) => (within(t, 10, 14) ? 0 : 1)) },
    { name: 'db_up', labels: serviceLabels(INSTANCE_B), values: gauge(40, (t) => (within(t, 30, 31) ? 0 : 1)) },
  ],
  expectations: [expectFiring(DATABASE_NOT_READY, { source }, [[12, 16]], { 12: '0' })],
};

/**
 * Loki pushes fail once a minute from 10 to 20: 3 in 10 m at 13 (pending) → ticket at 15, through 37.
 * Later a single dropped log line at 45 raises it again (47 → 64): data loss is always a ticket.
 */
export const LOKI_DOWN: Scenario = {
  name: 'Loki pushes fail for 10 minutes, later one log line is dropped: two separate tickets',
  minutes: 70,
  series: [heartbeat(70), ...telemetryCounters(70, (t) => (onTheMinute(t) && within(t, 10, 20) ? 1 : 0), (t) => (t === minutes(45) ? 1 : 0))],
  expectations: [expectFiring(LOG_SHIPPING_FAILING, { source }, [[15, 37], [47, 64]], { 15: '5', 47: '1' })],
};

export const PLATFORM_TEST_FILE: RuleTestFile = {
  path: 'grafana/alerts/tests/platform.test.yml',
  ruleFiles: ['../platform.yml'],
  header: 'Platform alerts: telemetry absent, database not ready, log shipping failing.',
  scenarios: [PUSHES_STOP, TRAFFIC_AND_A_HICCUP, DATABASE_DOWN, LOKI_DOWN],
};
