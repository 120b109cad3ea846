// The two incident timelines, run through Prometheus' own rule engine (promtool test rules).
// The generated test files assert, at every evaluation minute, whether each alert is firing. Here we ask
// promtool for the firing state it computes at every minute (not the expected data written in
// grafana/src), count the firings in that, check they tell the story of each incident, and prove the
// checks can fail: the same data with the naive rule (or without keep_firing_for) must make promtool fail.

import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NAIVE_PURCHASE_FAILURES } from '../../grafana/src/rules/antiExamples';
import { PIZZA_PURCHASE_FAILURES, RULE_FILES } from '../../grafana/src/rules/definitions';
import { AlertingRule, ruleFileToYaml, RuleFile } from '../../grafana/src/rules/model';
import { renderOutputs } from '../../grafana/src/outputs';
import {
  APRIL,
  APRIL_OURS,
  APRIL_SCENARIO,
  APRIL_TEST_FILE,
  NOVEMBER,
  NOVEMBER_NAIVE,
  NOVEMBER_OURS,
  NOVEMBER_SCENARIO,
  NOVEMBER_TEST_FILE,
} from '../../grafana/src/ruleTests/incidents';
import { countFirings, countResolutions, firingCountExpr, firingSequence, RuleTestFile } from '../../grafana/src/ruleTests/model';
import { Series, valueAtMinute } from '../../grafana/src/ruleTests/series';
import { parseYaml, toYaml, YamlValue } from '../../grafana/src/yamlFile';
import { REPOSITORY_ROOT } from './metricNames';
import { runPromtool } from './promtool';

type Obj = { [key: string]: YamlValue };
const obj = (v: YamlValue | undefined): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});
const arr = (v: YamlValue | undefined): YamlValue[] => (Array.isArray(v) ? v : []);

function firstMinuteWithFailure(series: Series[], minutes: number): number {
  for (let minute = 0; minute <= minutes; minute++) {
    if (series.some((s) => s.labels.outcome === 'failure' && (valueAtMinute(s, minute) ?? 0) > 0)) return minute;
  }
  throw new Error('no failure in the timeline');
}

/** The promql_expr_test entries of the generated file on disk for one alert. */
function checksOnDisk(file: RuleTestFile, alertname: string) {
  const document = obj(parseYaml(readFileSync(join(REPOSITORY_ROOT, file.path), 'utf8')));
  const tests = arr(obj(arr(document.tests)[0]).promql_expr_test).map(obj);
  const perMinute = tests.filter((t) => t.expr === `ALERTS{alertname="${alertname}", alertstate="firing"}`);
  const count = tests.find((t) => String(t.expr).startsWith('sum(count_over_time((ALERTS{alertname="' + alertname + '"'));
  return { perMinute, count };
}

/** Runs a generated incident test file against a modified copy of the purchase rules. */
async function runWithPurchaseRule(file: RuleTestFile, replacement: AlertingRule | ((rules: RuleFile) => RuleFile)) {
  const dir = mkdtempSync(join(tmpdir(), 'pizza-rules-'));
  try {
    const ordersFile = RULE_FILES.find((f) => f.path.endsWith('/orders.yml')) as RuleFile;
    const mutated =
      typeof replacement === 'function'
        ? replacement(ordersFile)
        : {
            ...ordersFile,
            groups: ordersFile.groups.map((g) => ({ ...g, rules: g.rules.map((r) => ('alert' in r && r.alert === replacement.alert ? replacement : r)) })),
          };
    mkdirSync(join(dir, 'tests'));
    writeFileSync(join(dir, 'orders.yml'), toYaml(ruleFileToYaml(mutated)));
    const outputs = renderOutputs();
    writeFileSync(join(dir, 'tests', 'naive.rules.yml'), outputs.get('grafana/alerts/tests/naive.rules.yml') as string);
    writeFileSync(join(dir, 'tests', 'incident.test.yml'), outputs.get(file.path) as string);
    return await runPromtool(['test', 'rules', 'incident.test.yml'], join(dir, 'tests'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Whether each alert is firing at every evaluation minute, as promtool's rule engine computes it on the
 * timeline of a generated incident file. The file's own checks are replaced by probes no result can pass
 * (a count of -1), so promtool reports what it got for every one of them.
 */
async function firingFromPromtool(file: RuleTestFile, alertnames: string[], minutes: number): Promise<Record<string, boolean[]>> {
  const testsDir = join(REPOSITORY_ROOT, file.path, '..');
  const document = obj(parseYaml(readFileSync(join(REPOSITORY_ROOT, file.path), 'utf8')));
  const timeline = obj(arr(document.tests)[0]);
  const probe: Obj = {
    rule_files: arr(document.rule_files).map((ruleFile) => join(testsDir, String(ruleFile))),
    evaluation_interval: document.evaluation_interval as YamlValue,
    tests: [
      {
        name: 'firing state probe',
        interval: timeline.interval as YamlValue,
        input_series: timeline.input_series as YamlValue,
        promql_expr_test: alertnames.flatMap((alertname) =>
          Array.from({ length: minutes + 1 }, (_, minute) => ({
            expr: `count(ALERTS{alertname="${alertname}", alertstate="firing"}) or vector(0)`,
            eval_time: `${minute}m`,
            exp_samples: [{ labels: '{}', value: -1 }],
          })),
        ),
      },
    ],
  };
  const dir = mkdtempSync(join(tmpdir(), 'pizza-probe-'));
  try {
    writeFileSync(join(dir, 'probe.test.yml'), toYaml(probe));
    const result = await runPromtool(['test', 'rules', 'probe.test.yml'], dir);
    const states: Record<string, boolean[]> = Object.fromEntries(alertnames.map((name) => [name, []]));
    const got = /expr: "count\(ALERTS\{alertname=\\"(\w+)\\", alertstate=\\"firing\\"\}\) or vector\(0\)", time: ([\dhms.]+),\s*exp: [^\n]*\n\s*got: \{\} ([\d.E+-]+)/g;
    for (const [, alertname, time, value] of result.output.matchAll(got)) states[alertname!]![minutesOf(time!)] = Number(value) > 0;
    for (const alertname of alertnames) {
      const reported = states[alertname]!.filter((state) => state !== undefined).length;
      if (reported !== minutes + 1) throw new Error(`promtool reported ${reported} of ${minutes + 1} minutes for ${alertname}:\n${result.output.slice(0, 4000)}`);
    }
    return states;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Minutes in a Go duration as promtool prints it ("0s", "7m", "1h15m0s"). */
function minutesOf(duration: string): number {
  const part = (unit: string) => Number(new RegExp(`(\\d+)${unit}`).exec(duration)?.[1] ?? 0);
  return part('h') * 60 + part('m') + part('s') / 60;
}

/** The firing count promtool computed for an alert, from its failure report ("got: {} 8E+00"). */
function countPromtoolGot(output: string, alertname: string): number | null {
  const escaped = firingCountExpr(alertname, NOVEMBER.minutes).replace(/"/g, '\\"');
  const at = output.indexOf(escaped);
  if (at < 0) return null;
  const got = /got:\s*\{\}\s*([0-9.E+-]+)/.exec(output.slice(at));
  return got ? Number(got[1]) : null;
}

describe('2025-11-26: bursts of failures separated by quiet gaps', () => {
  // The expected sequences written in grafana/src (what the generated file checks) ...
  const ours = firingSequence(NOVEMBER_OURS, NOVEMBER.minutes);
  const naive = NOVEMBER_NAIVE.map((e) => firingSequence(e, NOVEMBER.minutes));
  // ... and what the rule engine computes on the same timeline.
  let engine: Record<string, boolean[]>;
  beforeAll(async () => {
    engine = await firingFromPromtool(NOVEMBER_TEST_FILE, [PIZZA_PURCHASE_FAILURES.alert, NAIVE_PURCHASE_FAILURES.alert], NOVEMBER.minutes);
  });

  test('the timeline has 8 bursts of failures with no traffic at all in the gaps', () => {
    const failures = NOVEMBER_SCENARIO.series.find((s) => s.labels.reason === 'factory_error') as Series;
    const successes = NOVEMBER_SCENARIO.series.find((s) => s.labels.outcome === 'success') as Series;
    const minuteDelta = (s: Series, m: number) => (valueAtMinute(s, m) ?? 0) - (valueAtMinute(s, m - 1) ?? 0);
    let bursts = 0;
    for (let m = 1; m <= NOVEMBER.minutes; m++) {
      if (minuteDelta(failures, m) > 0 && minuteDelta(failures, m - 1) === 0) bursts++;
      if (m > NOVEMBER.healthyUntil && m <= NOVEMBER.fixedAt) expect(minuteDelta(successes, m)).toBe(0);
    }
    expect(bursts).toBe(8);
    expect(minuteDelta(failures, 11) + minuteDelta(failures, 12)).toBe(0); // a gap: no purchase at all
  });

  test('our rule fires ONCE (as promtool evaluates it): within 2 minutes of the first failure, through every gap, until purchases succeed', () => {
    const firing = engine[PIZZA_PURCHASE_FAILURES.alert]!;
    expect(countFirings(firing)).toBe(1);
    expect(countResolutions(firing)).toBe(1);
    const onset = firing.indexOf(true);
    const lastFiring = firing.lastIndexOf(true);
    const firstFailure = firstMinuteWithFailure(NOVEMBER_SCENARIO.series, NOVEMBER.minutes);
    expect(onset - firstFailure).toBeLessThanOrEqual(2);
    expect(lastFiring).toBeGreaterThanOrEqual(NOVEMBER.fixedAt); // never resolved while purchases failed
    expect(lastFiring).toBeLessThanOrEqual(NOVEMBER.fixedAt + 10); // resolved soon after purchases succeed
  });

  test('the naive rule fires once per burst (as promtool evaluates it): 8 separate pages, as in the incident', () => {
    expect(countFirings(engine[NAIVE_PURCHASE_FAILURES.alert]!)).toBe(8);
  });

  test('the expected sequences the generated file checks are the ones promtool computes, minute by minute', () => {
    expect(engine[PIZZA_PURCHASE_FAILURES.alert]).toEqual(ours);
    expect(naive).toHaveLength(1);
    expect(engine[NAIVE_PURCHASE_FAILURES.alert]).toEqual(naive[0]);
  });

  test('the generated promtool file checks both alerts at every minute and their firing counts (1 and 8)', () => {
    const oursOnDisk = checksOnDisk(NOVEMBER_TEST_FILE, PIZZA_PURCHASE_FAILURES.alert);
    const naiveOnDisk = checksOnDisk(NOVEMBER_TEST_FILE, NAIVE_PURCHASE_FAILURES.alert);
    for (const [checks, states] of [
      [oursOnDisk, ours],
      [naiveOnDisk, naive[0]],
    ] as const) {
      expect(checks.perMinute).toHaveLength(NOVEMBER.minutes + 1);
      checks.perMinute.forEach((check, minute) => {
        expect(check.eval_time).toBe(`${minute}m`);
        expect(arr(check.exp_samples).length).toBe(states[minute] ? 1 : 0);
      });
    }
    expect(obj(arr(oursOnDisk.count?.exp_samples)[0]).value).toBe(1);
    expect(obj(arr(naiveOnDisk.count?.exp_samples)[0]).value).toBe(8);
  });

  test('promtool (the Prometheus rule engine) confirms every minute of both sequences', async () => {
    const result = await runPromtool(['test', 'rules', NOVEMBER_TEST_FILE.path.split('/').pop() as string], join(REPOSITORY_ROOT, 'grafana/alerts/tests'));
    if (result.code !== 0) throw new Error(result.output.slice(0, 8000));
  });

  test('when our rule is replaced by the naive one, then promtool fails and counts 8 firings', async () => {
    const result = await runWithPurchaseRule(NOVEMBER_TEST_FILE, {
      ...PIZZA_PURCHASE_FAILURES,
      expr: NAIVE_PURCHASE_FAILURES.expr.replace('increase(', 'sum by (source) (increase(').replace('[1m])', '[1m]))'),
      for: undefined,
      keepFiringFor: undefined,
    });
    expect(result.code).not.toBe(0);
    expect(countPromtoolGot(result.output, PIZZA_PURCHASE_FAILURES.alert)).toBe(8);
  });

  test('when keep_firing_for is removed, then promtool fails (the alert would resolve 5 minutes early)', async () => {
    const result = await runWithPurchaseRule(NOVEMBER_TEST_FILE, { ...PIZZA_PURCHASE_FAILURES, keepFiringFor: undefined });
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/time: 5[4-8]m/);
  });

  test('when the window is shorter than the quiet gap and nothing holds the alert, then promtool fails: it flaps 8 times', async () => {
    // Either protection alone (10 m window, keep_firing_for) keeps this timeline to one alert; without both it flaps.
    const result = await runWithPurchaseRule(NOVEMBER_TEST_FILE, (file) => ({
      ...file,
      groups: file.groups.map((g) => ({
        ...g,
        rules: g.rules.map((r) => {
          const shortened = { ...r, expr: r.expr.replace(/\[10m\]/g, '[1m]') };
          return 'alert' in shortened && shortened.alert === PIZZA_PURCHASE_FAILURES.alert ? { ...shortened, keepFiringFor: undefined } : shortened;
        }),
      })),
    }));
    expect(result.code).not.toBe(0);
    expect(countPromtoolGot(result.output, PIZZA_PURCHASE_FAILURES.alert)).toBe(8);
  });
});

describe('2025-04-08: a few orders a minute, five failures spread over 19 minutes', () => {
  const ours = firingSequence(APRIL_OURS, APRIL.minutes);
  let engine: Record<string, boolean[]>;
  beforeAll(async () => {
    engine = await firingFromPromtool(APRIL_TEST_FILE, [PIZZA_PURCHASE_FAILURES.alert, 'StaticThresholdPizzaErrors'], APRIL.minutes);
  });

  test('the timeline has exactly five failed orders among three orders a minute', () => {
    const failures = APRIL_SCENARIO.series.filter((s) => s.labels.outcome === 'failure');
    const all = APRIL_SCENARIO.series;
    const total = (list: Series[]) => list.reduce((sum, s) => sum + (valueAtMinute(s, APRIL.minutes) ?? 0), 0);
    expect(total(failures)).toBe(5);
    expect(total(all)).toBe(3 * APRIL.minutes);
  });

  test('our rule fires, once, while the chaos lasts (as promtool evaluates it, and as the generated file expects)', () => {
    const firing = engine[PIZZA_PURCHASE_FAILURES.alert]!;
    expect(countFirings(firing)).toBe(1);
    expect(firing.indexOf(true)).toBeGreaterThan(APRIL.chaosFrom);
    expect(firing.indexOf(true)).toBeLessThan(APRIL.chaosUntil);
    expect(firing.lastIndexOf(true)).toBeGreaterThanOrEqual(APRIL.chaosUntil);
    expect(firing).toEqual(ours);
  });

  test('the old static threshold never fires on the same data (promtool evaluates it, and the file checks it every minute)', () => {
    expect(engine.StaticThresholdPizzaErrors!.some((state) => state)).toBe(false);
    expect(APRIL_SCENARIO.quiet).toContain('StaticThresholdPizzaErrors');
    const { perMinute, count } = checksOnDisk(APRIL_TEST_FILE, 'StaticThresholdPizzaErrors');
    expect(perMinute).toHaveLength(APRIL.minutes + 1);
    expect(perMinute.every((check) => arr(check.exp_samples).length === 0)).toBe(true);
    expect(obj(arr(count?.exp_samples)[0]).value).toBe(0);
  });

  test('promtool confirms it', async () => {
    const result = await runPromtool(['test', 'rules', APRIL_TEST_FILE.path.split('/').pop() as string], join(REPOSITORY_ROOT, 'grafana/alerts/tests'));
    if (result.code !== 0) throw new Error(result.output.slice(0, 8000));
  });

  test('when the ratio threshold is tuned for peak traffic (10%), then promtool fails: the alert never fires', async () => {
    const result = await runWithPurchaseRule(APRIL_TEST_FILE, {
      ...PIZZA_PURCHASE_FAILURES,
      expr: PIZZA_PURCHASE_FAILURES.expr.replace('> 0.05', '> 0.10'),
    });
    expect(result.code).not.toBe(0);
  });
});
