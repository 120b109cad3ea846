// Platform alerts: the telemetry pipeline, the database, log shipping, trace export.

import { DATABASE_NOT_READY, LOG_SHIPPING_FAILING, TELEMETRY_ABSENT, TRACE_EXPORT_FAILING } from '../rules/definitions';
import { expectFiring, RuleTestFile, Scenario } from './model';
import { heartbeat, purchaseSeries } from './purchases';
import { counter, gauge, INSTANCE_A, INSTANCE_B, lazyCounter, minutes, onTheMinute, serviceLabels, Series, within } from './series';

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

/**
 * Spans dropped per reason. The service creates a reason's series at its first drop, so increase()
 * only sees the drops after that one.
 */
function spanDrops(total: number, exportFailed: (t: number) => number, queueFull: (t: number) => number): Series[] {
  return [
    { name: 'trace_spans_dropped_total', labels: { ...serviceLabels(), reason: 'export_failed' }, values: lazyCounter(total, exportFailed) },
    { name: 'trace_spans_dropped_total', labels: { ...serviceLabels(), reason: 'queue_full' }, values: lazyCounter(total, queueFull) },
  ];
}

/**
 * Two collector restarts: one batch (512 spans) lost at 5, two batches at 20:30 and 21:30. Drops in 2 of
 * 10 minutes at most: no ticket.
 */
export const COLLECTOR_RESTARTS: Scenario = {
  name: 'the collector restarts twice, losing a batch or two each time: no ticket',
  minutes: 40,
  series: [heartbeat(40), ...spanDrops(40, (t) => ([minutes(5), minutes(20.5), minutes(21.5)].includes(t) ? 512 : 0), () => 0)],
  expectations: [],
  quiet: [TRACE_EXPORT_FAILING.alert],
};

/**
 * The collector is down from 10 to 20, every minute's batch fails (100 spans); the first drop only creates
 * the series, so minutes 12, 13, 14 have drops → ticket at 14. From 40 to 46 the export queue overflows
 * under load (200 spans every 30 s) → minutes 41–43 → ticket at 43. Each resolves once fewer than 3 of the
 * last 10 minutes had drops (the 10m:1m subquery holds 11 points, both ends, in Prometheus 2.x), plus
 * keep_firing_for 5m.
 */
export const COLLECTOR_DOWN_THEN_OVERLOAD: Scenario = {
  name: 'the collector is down for 10 minutes, later the export queue overflows under load: two separate tickets',
  minutes: 70,
  series: [
    heartbeat(70),
    ...spanDrops(
      70,
      (t) => (onTheMinute(t) && within(t, 10, 20) ? 100 : 0),
      (t) => (within(t, 40, 46) ? 200 : 0),
    ),
  ],
  expectations: [expectFiring(TRACE_EXPORT_FAILING, { source }, [[14, 33], [43, 59]], { 14: '3', 43: '3' })],
};

export const PLATFORM_TEST_FILE: RuleTestFile = {
  path: 'grafana/alerts/tests/platform.test.yml',
  ruleFiles: ['../platform.yml'],
  header: 'Platform alerts: telemetry absent, database not ready, log shipping failing, trace export failing.',
  scenarios: [PUSHES_STOP, TRAFFIC_AND_A_HICCUP, DATABASE_DOWN, LOKI_DOWN, COLLECTOR_RESTARTS, COLLECTOR_DOWN_THEN_OVERLOAD],
};
