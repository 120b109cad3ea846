import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { REPOSITORY_BLOB_URL, TEAM } from '../../grafana/src/catalogue';
import { DASHBOARDS } from '../../grafana/src/dashboards';
import { RULE_TEST_FILES } from '../../grafana/src/ruleTests';
import { allAlerts } from '../../grafana/src/rules/definitions';
import { parseYaml, YamlValue } from '../../grafana/src/yamlFile';
import { loadDashboard, panelsOf, REPOSITORY_ROOT, ruleFiles } from './metricNames';

type Obj = { [key: string]: YamlValue };
const obj = (v: YamlValue | undefined): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});
const arr = (v: YamlValue | undefined): YamlValue[] => (Array.isArray(v) ? v : []);

interface LoadedRule {
  file: string;
  group: string;
  rule: Obj;
}

function loadRules(): LoadedRule[] {
  return ruleFiles().flatMap((file) =>
    arr(obj(parseYaml(readFileSync(file, 'utf8'))).groups).flatMap((g) =>
      arr(obj(g).rules).map((rule) => ({ file: basename(file), group: String(obj(g).name), rule: obj(rule) })),
    ),
  );
}

const rules = loadRules();
const alerts = rules.filter((r) => typeof r.rule.alert === 'string');
const alertNames = alerts.map((a) => String(a.rule.alert));

const REQUIRED_ALERTS = [
  'PizzaPurchaseFailures',
  'PizzaInvalidJwt',
  'PizzaFactoryLatencyHigh',
  'PizzaFactoryCircuitOpen',
  'Http5xxRatioHigh',
  'HttpLatencyP99High',
  'ScannerProbesDetected',
  'LoginFailureBurst',
  'RateLimitingActive',
  'ProxyNotTrusted',
  'RateLimitStoreDegraded',
  'TelemetryAbsent',
  'DatabaseNotReady',
  'LogShippingFailing',
  'TraceExportFailing',
];

describe('alert rule files (grafana/alerts/*.yml)', () => {
  test('every required alert exists exactly once', () => {
    for (const name of REQUIRED_ALERTS) expect(alertNames.filter((n) => n === name)).toHaveLength(1);
    expect(new Set(alertNames).size).toBe(alertNames.length);
  });

  test('group names are unique across files (the ruler namespace holds them all)', () => {
    const groups = ruleFiles().flatMap((file) => arr(obj(parseYaml(readFileSync(file, 'utf8'))).groups).map((g) => String(obj(g).name)));
    expect(new Set(groups).size).toBe(groups.length);
  });

  test('recording rules are named level:metric:operation', () => {
    for (const { rule } of rules.filter((r) => typeof r.rule.record === 'string')) {
      expect(String(rule.record)).toMatch(/^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$/);
    }
  });

  describe.each(alerts.map((a) => [String(a.rule.alert), a] as const))('%s', (_name, { rule }) => {
    const labels = obj(rule.labels);
    const annotations = obj(rule.annotations);

    test('has severity page|ticket and the on-call team', () => {
      expect(['page', 'ticket']).toContain(labels.severity);
      expect(labels.team).toBe(TEAM);
    });

    test('has a summary and a description that shows the humanised $value', () => {
      expect(String(annotations.summary).length).toBeGreaterThan(10);
      expect(String(annotations.description)).toMatch(/\{\{ \$value \| humanize(Percentage|Duration)? \}\}/);
    });

    test('links to a runbook in this repository that exists', () => {
      const url = String(annotations.runbook_url);
      expect(url.startsWith(`${REPOSITORY_BLOB_URL}/docs/runbooks/`)).toBe(true);
      const relative = url.slice(REPOSITORY_BLOB_URL.length + 1);
      expect(relative).toMatch(/\.md$/);
      expect(existsSync(join(REPOSITORY_ROOT, relative))).toBe(true);
      const index = readFileSync(join(REPOSITORY_ROOT, 'docs/runbooks/README.md'), 'utf8');
      expect(index).toContain(basename(relative));
    });

    test('its runbook names the alert, its dashboard, and (for pages) how to declare and keep an incident open', () => {
      const runbook = readFileSync(join(REPOSITORY_ROOT, String(annotations.runbook_url).slice(REPOSITORY_BLOB_URL.length + 1)), 'utf8');
      expect(runbook.startsWith(`# ${String(rule.alert)}\n`)).toBe(true);
      expect(runbook).toContain(String(annotations.dashboard_uid));
      expect(runbook).toMatch(/## Verify recovery/);
      if (labels.severity === 'page') expect(runbook).toMatch(/[Dd]eclare an incident/);
      if (String(rule.alert).startsWith('Pizza')) {
        expect(runbook).toContain('{service="jwt-pizza-service", type="factory"} | json | reportUrl != ""');
        expect(runbook).toMatch(/GET \/api\/order\/(failures|factory)/);
      }
    });

    test('links to an existing dashboard and panel', () => {
      const dashboard = DASHBOARDS.find((d) => d.identity.uid === annotations.dashboard_uid);
      expect(dashboard).toBeDefined();
      const panelIds = panelsOf(loadDashboard(join(REPOSITORY_ROOT, (dashboard as (typeof DASHBOARDS)[number]).file))).map((p) => String(p.id));
      expect(panelIds).toContain(String(annotations.panel_id));
      expect(annotations.dashboard_url).toBe(`/d/${String(annotations.dashboard_uid)}/${dashboard?.identity.slug}?viewPanel=${String(annotations.panel_id)}`);
    });

    test('aggregates away the instance, so several instances raise one alert', () => {
      const expr = String(rule.expr);
      const aggregatesBySource = /by \(source/.test(expr) || /^absent_over_time\(/.test(expr) || /^\s*source(_\w+)?:/m.test(expr);
      expect(aggregatesBySource).toBe(true);
      expect(expr).not.toMatch(/by \([^)]*instance/);
    });

    test('has a promtool scenario where it fires and one where it stays quiet', () => {
      const scenarios = RULE_TEST_FILES.flatMap((f) => f.scenarios);
      const fires = scenarios.some((s) => s.expectations.some((e) => e.alertname === rule.alert && e.firing.length > 0));
      const quiet = scenarios.some((s) => (s.quiet ?? []).includes(String(rule.alert)));
      expect({ fires, quiet }).toEqual({ fires: true, quiet: true });
    });
  });

  test('PizzaPurchaseFailures pages on a guarded ratio with a window longer than a quiet gap, for and keep_firing_for', () => {
    const { rule } = alerts.find((a) => a.rule.alert === 'PizzaPurchaseFailures') as LoadedRule;
    expect(obj(rule.labels).severity).toBe('page');
    expect(rule.for).toBe('1m');
    expect(rule.keep_firing_for).toMatch(/^[1-9][0-9]*m$/);
    expect(String(rule.expr)).toContain('source:pizza_purchases_failure:ratio10m > 0.05');
    expect(String(rule.expr)).toMatch(/increase10m\{outcome="failure"\} >= 2/);
  });
});

describe('the alert catalogue sentence (conditionInWords, shown in docs/alerts.md)', () => {
  const inWords = (duration: string) => {
    const match = /^(\d+)([smh])$/.exec(duration);
    if (!match) throw new Error(`unexpected duration ${duration}`);
    return `${match[1]} ${{ s: 's', m: 'min', h: 'h' }[match[2] as 's' | 'm' | 'h']}`;
  };

  test.each(allAlerts().map((rule) => [rule.alert, rule] as const))('%s states its for and keep_firing_for as the rule has them', (_name, rule) => {
    const text = rule.conditionInWords;
    if (rule.keepFiringFor) expect(text).toContain(`keep_firing_for ${inWords(rule.keepFiringFor)}`);
    else expect(text).not.toContain('keep_firing_for');
    const withoutKeep = text.replace(/keep_firing_for \d+ \w+/g, '');
    if (rule.for) expect(withoutKeep).toMatch(new RegExp(`; for ${inWords(rule.for)}(;|$)`));
    else expect(withoutKeep).not.toMatch(/; for \d/);
  });
});
