// A rule-test scenario: input series over a timeline, and for each alert the exact minutes it is
// firing. Rendered to a promtool test group that checks, at EVERY evaluation minute, the ALERTS
// series Prometheus' rule engine wrote (firing or not, with exact labels), plus the number of
// separate firings counted by PromQL itself, plus exact annotations at chosen checkpoints.

import { alertAnnotations, alertLabels, AlertingRule, renderTemplate } from '../rules/model';
import type { YamlValue } from '../yamlFile';
import { EVALUATION_MINUTES, formatValues, Labels, SAMPLE_SECONDS, Series, seriesSelector } from './series';

/** Inclusive range of evaluation minutes during which the alert is firing. */
export type FiringInterval = readonly [from: number, to: number];

export interface AlertExpectation {
  alertname: string;
  /** All labels of the alert besides alertname (rule labels and those kept from the expression). */
  labels: Labels;
  firing: readonly FiringInterval[];
  /** For real rules: the definition, so checkpoints can compare the rendered annotations exactly. */
  rule?: AlertingRule;
  /** Minute → the humanised $value Prometheus prints at that evaluation. */
  checkpoints?: Readonly<Record<number, string>>;
}

export interface Scenario {
  name: string;
  minutes: number;
  series: Series[];
  expectations: AlertExpectation[];
  /** Alert names that must not fire at all in this scenario (any label set). */
  quiet?: string[];
}

export interface RuleTestFile {
  path: string;
  /** Paths relative to the test file, as promtool reads them. */
  ruleFiles: string[];
  header: string;
  scenarios: Scenario[];
}

export function expectFiring(rule: AlertingRule, extraLabels: Labels, firing: FiringInterval[], checkpoints?: Record<number, string>): AlertExpectation {
  return { alertname: rule.alert, labels: { ...alertLabels(rule), ...extraLabels }, firing, rule, checkpoints };
}

export function isFiringAt(expectation: AlertExpectation, minute: number): boolean {
  return expectation.firing.some(([from, to]) => minute >= from && minute <= to);
}

/** The expected state at each evaluation minute, 0..minutes. */
export function firingSequence(expectation: AlertExpectation, minutes: number): boolean[] {
  return Array.from({ length: minutes / EVALUATION_MINUTES + 1 }, (_, i) => isFiringAt(expectation, i * EVALUATION_MINUTES));
}

/** Number of separate firings (not-firing → firing transitions) in a sequence of states. */
export function countFirings(states: readonly boolean[]): number {
  return states.filter((state, i) => state && (i === 0 || !states[i - 1])).length;
}

/** Number of firing → not-firing transitions (resolutions) in a sequence of states. */
export function countResolutions(states: readonly boolean[]): number {
  return states.filter((state, i) => !state && i > 0 && states[i - 1]).length;
}

const alertsSelector = (alertname: string) => `ALERTS{alertname="${alertname}", alertstate="firing"}`;

function alertsSeriesLabels(expectation: AlertExpectation): string {
  const labels: Labels = { alertname: expectation.alertname, alertstate: 'firing', ...expectation.labels };
  return seriesSelector({ name: 'ALERTS', labels });
}

/** PromQL counting the minutes at which the alert started firing (firing now, not one minute before). */
export function firingCountExpr(alertname: string, minutes: number): string {
  const firing = alertsSelector(alertname);
  return `sum(count_over_time((${firing} unless ${firing} offset ${EVALUATION_MINUTES}m)[${minutes + EVALUATION_MINUTES}m:${EVALUATION_MINUTES}m])) or vector(0)`;
}

function validate(scenario: Scenario): void {
  const samples = (scenario.minutes * 60) / SAMPLE_SECONDS + 1;
  for (const series of scenario.series) {
    if (series.values.length !== samples) {
      throw new Error(`${scenario.name}: ${seriesSelector(series)} has ${series.values.length} samples, expected ${samples}`);
    }
  }
  for (const expectation of scenario.expectations) {
    for (const [from, to] of expectation.firing) {
      if (from > to || from < 0 || to > scenario.minutes) throw new Error(`${scenario.name}: bad interval [${from}, ${to}]`);
    }
    for (const minute of Object.keys(expectation.checkpoints ?? {}).map(Number)) {
      if (!isFiringAt(expectation, minute)) throw new Error(`${scenario.name}: checkpoint ${minute} of ${expectation.alertname} is not in a firing interval`);
    }
  }
}

function renderScenario(scenario: Scenario): YamlValue {
  validate(scenario);
  const byAlert = new Map<string, AlertExpectation[]>();
  for (const expectation of scenario.expectations) byAlert.set(expectation.alertname, [...(byAlert.get(expectation.alertname) ?? []), expectation]);
  for (const alertname of scenario.quiet ?? []) if (!byAlert.has(alertname)) byAlert.set(alertname, []);

  const promqlTests: YamlValue[] = [];
  const alertTests: YamlValue[] = [];
  for (const [alertname, expectations] of byAlert) {
    for (let minute = 0; minute <= scenario.minutes; minute += EVALUATION_MINUTES) {
      promqlTests.push({
        expr: alertsSelector(alertname),
        eval_time: `${minute}m`,
        exp_samples: expectations.filter((e) => isFiringAt(e, minute)).map((e) => ({ labels: alertsSeriesLabels(e), value: 1 })),
      });
    }
    const firings = expectations.reduce((sum, e) => sum + countFirings(firingSequence(e, scenario.minutes)), 0);
    promqlTests.push({
      expr: firingCountExpr(alertname, scenario.minutes),
      eval_time: `${scenario.minutes}m`,
      exp_samples: [{ labels: '{}', value: firings }],
    });

    const checkpointMinutes = [...new Set(expectations.flatMap((e) => Object.keys(e.checkpoints ?? {}).map(Number)))].sort((a, b) => a - b);
    for (const minute of checkpointMinutes) {
      alertTests.push({
        eval_time: `${minute}m`,
        alertname,
        exp_alerts: expectations
          .filter((e) => isFiringAt(e, minute))
          .map((e) => {
            const value = e.checkpoints?.[minute];
            if (value === undefined || !e.rule) {
              throw new Error(`${scenario.name}: ${alertname} fires at checkpoint ${minute} for ${JSON.stringify(e.labels)} without a checkpoint value`);
            }
            const annotations = Object.fromEntries(
              Object.entries(alertAnnotations(e.rule)).map(([key, template]) => [key, renderTemplate(template, { value, labels: e.labels })]),
            );
            return { exp_labels: e.labels, exp_annotations: annotations };
          }),
      });
    }
  }

  return {
    name: scenario.name,
    interval: `${SAMPLE_SECONDS}s`,
    input_series: scenario.series.map((series) => ({ series: seriesSelector(series), values: formatValues(series.values) })),
    ...(alertTests.length > 0 ? { alert_rule_test: alertTests } : {}),
    promql_expr_test: promqlTests,
  };
}

export function renderRuleTestFile(file: RuleTestFile): { [key: string]: YamlValue } {
  return {
    rule_files: file.ruleFiles,
    evaluation_interval: `${EVALUATION_MINUTES}m`,
    tests: file.scenarios.map(renderScenario),
  };
}
