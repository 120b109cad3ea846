import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { familyOf, METRIC_CATALOGUE, PROMETHEUS_SYNTHETIC_SERIES } from '../../grafana/src/catalogue';
import { DASHBOARDS } from '../../grafana/src/dashboards';
import { toYaml, YamlValue } from '../../grafana/src/yamlFile';
import { runPromtool } from './promtool';
import {
  dashboardFiles,
  loadDashboard,
  metricFamiliesUsed,
  metricNamesInPromql,
  metricNamesInVariableQuery,
  metricNamesOf,
  metricNamesUsed,
  panelsOf,
  queriesInDashboard,
  QueryLocation,
  recordedNames,
} from './metricNames';

type Obj = { [key: string]: YamlValue };
const obj = (v: YamlValue | undefined): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});
const arr = (v: YamlValue | undefined): YamlValue[] => (Array.isArray(v) ? v : []);

const DATASOURCE_VARIABLES: Record<string, string> = { prometheus: '${datasource}', loki: '${loki}' };

/** Problems with one dashboard's structure; empty when it is valid. */
function dashboardProblems(dashboard: Obj): string[] {
  const problems: string[] = [];
  if (typeof dashboard.uid !== 'string' || !/^[a-z0-9-]{1,40}$/.test(dashboard.uid)) problems.push(`bad uid ${String(dashboard.uid)}`);
  if (typeof dashboard.title !== 'string' || dashboard.title === '') problems.push('missing title');
  if (typeof dashboard.schemaVersion !== 'number' || dashboard.schemaVersion < 36 || dashboard.schemaVersion > 41) problems.push(`schemaVersion ${String(dashboard.schemaVersion)}`);
  if ('id' in dashboard && dashboard.id !== null) problems.push('a provisioned dashboard must not carry a numeric id');

  const variables = arr(obj(dashboard.templating).list).map(obj);
  const variable = (name: string) => variables.find((v) => v.name === name);
  if (variable('datasource')?.type !== 'datasource' || variable('datasource')?.query !== 'prometheus') problems.push('no $datasource (prometheus) variable');
  if (variable('loki')?.type !== 'datasource' || variable('loki')?.query !== 'loki') problems.push('no $loki variable');
  if (variable('source')?.type !== 'query') problems.push('no $source variable');

  const panels = panelsOf(dashboard);
  const ids = panels.map((p) => p.id);
  if (ids.some((id) => typeof id !== 'number')) problems.push('panel without numeric id');
  const duplicates = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (duplicates.length > 0) problems.push(`duplicate panel ids ${duplicates.join(', ')}`);

  const cells = new Set<string>();
  for (const panel of panels) {
    const grid = obj(panel.gridPos);
    const [x, y, w, h] = [grid.x, grid.y, grid.w, grid.h].map(Number);
    if (![x, y, w, h].every(Number.isInteger) || x < 0 || w < 1 || x + w > 24 || h < 1) problems.push(`panel ${String(panel.id)} has a bad gridPos`);
    for (let cx = x; cx < x + w; cx++) for (let cy = y; cy < y + h; cy++) {
      const cell = `${cx},${cy}`;
      if (cells.has(cell)) problems.push(`panel ${String(panel.id)} overlaps another at ${cell}`);
      cells.add(cell);
    }
    if (panel.type === 'row' || panel.type === 'alertlist') continue;
    const targets = arr(panel.targets).map(obj);
    if (targets.length === 0) problems.push(`panel ${String(panel.id)} has no query`);
    for (const target of targets) {
      const datasource = obj(target.datasource ?? panel.datasource);
      const expected = DATASOURCE_VARIABLES[String(datasource.type)];
      if (!expected || datasource.uid !== expected) problems.push(`panel ${String(panel.id)} ${String(target.refId)} does not use a datasource variable`);
      if (typeof target.expr !== 'string' || target.expr.trim() === '') problems.push(`panel ${String(panel.id)} ${String(target.refId)} has no expr`);
    }
  }
  return [...new Set(problems)];
}

/** Metric names a query uses that are neither in the catalogue, nor recorded by our rules, nor ALERTS. */
function unknownMetricNames(query: QueryLocation, recorded: Set<string>): string[] {
  return metricNamesOf(query).filter(
    (name) => !familyOf(name) && !recorded.has(name) && !(PROMETHEUS_SYNTHETIC_SERIES as readonly string[]).includes(name),
  );
}

const files = dashboardFiles();
const dashboards = files.map((file) => ({ file: basename(file), json: loadDashboard(file) }));
const recorded = recordedNames();

describe('dashboards (grafana/dashboards/*.json)', () => {
  test('the four dashboards exist, one file each, with stable unique uids', () => {
    expect(files.map((f) => basename(f)).sort()).toEqual(DASHBOARDS.map((d) => basename(d.file)).sort());
    const uids = dashboards.map((d) => d.json.uid);
    expect(new Set(uids).size).toBe(uids.length);
    expect(uids.sort()).toEqual(['jwt-pizza-auth-security', 'jwt-pizza-orders-factory', 'jwt-pizza-service-overview', 'jwt-pizza-system']);
  });

  test.each(dashboards.map((d) => [d.file, d.json] as const))('%s is a valid dashboard', (_file, json) => {
    expect(dashboardProblems(json)).toEqual([]);
  });

  test.each(dashboards.map((d) => [d.file, d.json] as const))('%s only queries catalogued metrics', (file, json) => {
    const unknown = queriesInDashboard(json, file).flatMap((q) => unknownMetricNames(q, recorded).map((name) => `${q.where}: ${name}`));
    expect(unknown).toEqual([]);
  });

  test.each(dashboards.map((d) => [d.file, d.json] as const))('%s filters every service metric by $source and $instance', (file, json) => {
    const unfiltered: string[] = [];
    for (const query of queriesInDashboard(json, file).filter((q) => q.kind === 'promql')) {
      for (const match of query.expr.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})?/g)) {
        const [, name, matchers = ''] = match;
        if (!familyOf(name)) continue;
        if (!matchers.includes('source=~"$source"') || !matchers.includes('instance=~"$instance"')) unfiltered.push(`${query.where}: ${name}`);
      }
    }
    expect(unfiltered).toEqual([]);
  });

  test('every PromQL query parses (Prometheus\' own parser, through promtool check rules)', async () => {
    // Grafana variables replaced by values Prometheus accepts, each query checked as a recording rule.
    const queries = dashboards.flatMap((d) => queriesInDashboard(d.json, d.file)).filter((q) => q.kind === 'promql');
    const substitute = (expr: string) => expr.replace(/\$__rate_interval|\$__interval/g, '5m').replace(/\$\{?(source|instance)\}?/g, '.*');
    const rules = queries.map((q, index) => ({ record: `dashboard_query:check:${index}`, expr: substitute(q.expr) }));
    const dir = mkdtempSync(join(tmpdir(), 'pizza-dashboards-'));
    try {
      writeFileSync(join(dir, 'queries.yml'), toYaml({ groups: [{ name: 'dashboard-queries', rules }] }));
      const result = await runPromtool(['check', 'rules', join(dir, 'queries.yml')]);
      if (result.code !== 0) throw new Error(result.output);
      expect(result.output).toContain(`SUCCESS: ${rules.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('Loki panels read this service\'s streams', () => {
    const logQueries = dashboards.flatMap((d) => queriesInDashboard(d.json, d.file)).filter((q) => q.kind === 'logql');
    expect(logQueries.length).toBeGreaterThanOrEqual(3);
    for (const query of logQueries) expect(query.expr).toMatch(/^\{service="jwt-pizza-service"/);
  });

  test('the orders dashboard shows the factory failure log with the (redacted) reportUrl and the purchase alert state', () => {
    const orders = dashboards.find((d) => d.json.uid === 'jwt-pizza-orders-factory')?.json as Obj;
    const queries = queriesInDashboard(orders, 'orders');
    expect(queries.some((q) => q.kind === 'logql' && q.expr.includes('type="factory"') && q.expr.includes('reportUrl'))).toBe(true);
    expect(queries.some((q) => q.expr.includes('ALERTS{alertname=~"Pizza.*"'))).toBe(true);
    expect(panelsOf(orders).some((p) => p.type === 'alertlist')).toBe(true);
  });

  test('together they show what course users expect (OBSERVABILITY.md, last section)', () => {
    const used = new Set(metricFamiliesUsed());
    const expected = [
      'http_requests_total', // requests per minute by method
      'active_users',
      'auth_attempts_total', // auth attempts per minute
      'system_cpu_percent',
      'system_memory_percent',
      'pizzas_sold_total',
      'pizza_purchases_total', // sold / failed per minute
      'pizza_revenue_btc_total',
      'http_request_duration_seconds', // service latency
      'pizza_factory_request_duration_seconds', // pizza creation latency
      'pizza_factory_circuit_state',
      'pizza_orders_pending',
      'http_suspicious_requests_total',
      'rate_limited_requests_total',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
      'db_pool_connections',
      'db_up',
      'telemetry_push_total',
    ];
    expect(expected.filter((name) => !used.has(name))).toEqual([]);
    const allPanels = dashboards.flatMap((d) => panelsOf(d.json));
    expect(allPanels.some((p) => p.type === 'logs')).toBe(true);
    const overview = queriesInDashboard(dashboards.find((d) => d.json.uid === 'jwt-pizza-service-overview')?.json as Obj, 'overview');
    expect(overview.some((q) => /sum by \(method\) \(rate\(http_requests_total/.test(q.expr) && q.expr.endsWith('* 60'))).toBe(true);
  });
});

describe('the dashboard validators can fail', () => {
  const valid = dashboards[0].json;

  test('when two panels share an id, then it is reported', () => {
    const panels = arr(valid.panels).map(obj);
    const broken = { ...valid, panels: [...panels, { ...panels[1], gridPos: { x: 0, y: 500, w: 4, h: 4 } }] };
    expect(dashboardProblems(broken).join('\n')).toMatch(/duplicate panel ids/);
  });

  test('when a target hard-codes a datasource uid, then it is reported', () => {
    const panels = arr(valid.panels).map(obj);
    const index = panels.findIndex((p) => arr(p.targets).length > 0);
    const panel = panels[index];
    const target = { ...obj(arr(panel.targets)[0]), datasource: { type: 'prometheus', uid: 'grafanacloud-prom' } };
    const broken = { ...valid, panels: panels.map((p, i) => (i === index ? { ...panel, targets: [target] } : p)) };
    expect(dashboardProblems(broken).join('\n')).toMatch(/does not use a datasource variable/);
  });

  test('when a query uses a metric outside the catalogue, then it is reported', () => {
    const query: QueryLocation = { where: 'test', kind: 'promql', expr: 'sum(rate(pizza_orders_total{source=~"$source"}[5m]))' };
    expect(unknownMetricNames(query, recorded)).toEqual(['pizza_orders_total']);
  });
});

describe('PromQL metric-name extraction', () => {
  test.each([
    ['sum by (le) (rate(http_request_duration_seconds_bucket{route!="unmatched"}[5m]))', ['http_request_duration_seconds_bucket']],
    ['histogram_quantile(0.95, sum(rate(a_bucket[$__rate_interval])) by (le)) > 1e3', ['a_bucket']],
    ['x / on (source) group_left y offset 5m', ['x', 'y']],
    ['time() - max(timestamp(up{job="a b"}))', ['up']],
    ['absent_over_time(process_resident_memory_bytes{source="jwt-pizza-service"}[5m])', ['process_resident_memory_bytes']],
    ['a and b unless c or vector(0)', ['a', 'b', 'c']],
    ['source:pizza_purchases_failure:ratio10m > bool 0.05', ['source:pizza_purchases_failure:ratio10m']],
  ])('%s → %j', (expr, names) => {
    expect(metricNamesInPromql(expr).sort()).toEqual([...names].sort());
  });

  test('label_values() variable queries yield the selector metric only', () => {
    expect(metricNamesInVariableQuery('label_values(process_resident_memory_bytes{source=~"$source"}, instance)')).toEqual(['process_resident_memory_bytes']);
    expect(metricNamesInVariableQuery('label_values(source)')).toEqual([]);
  });
});

describe('metricNamesUsed() (shared with the live /metrics test)', () => {
  test('returns sorted exposition names from the catalogue only: no recording rules, no ALERTS', () => {
    const names = metricNamesUsed();
    expect(names).toEqual([...names].sort());
    expect(names).toContain('pizza_purchases_total');
    expect(names).toContain('pizza_factory_request_duration_seconds_bucket');
    expect(names).toContain('process_resident_memory_bytes');
    for (const name of names) {
      expect(familyOf(name)).toBeDefined();
      expect(name).not.toContain(':');
      expect(name).not.toBe('ALERTS');
    }
  });

  test('families map histogram series back to their metric', () => {
    const families = metricFamiliesUsed();
    expect(families).toContain('http_request_duration_seconds');
    expect(families).not.toContain('http_request_duration_seconds_bucket');
    for (const family of families) expect(METRIC_CATALOGUE[family]).toBeDefined();
  });
});
