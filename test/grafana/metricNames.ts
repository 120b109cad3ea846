// Which metric names the rules and dashboards query. metricNamesUsed() is shared with the test that
// compares them with the live /metrics of the service.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { familyOf, PROMETHEUS_SYNTHETIC_SERIES } from '../../grafana/src/catalogue';
import { parseYaml, YamlValue } from '../../grafana/src/yamlFile';

export const REPOSITORY_ROOT = join(__dirname, '..', '..');
export const ALERTS_DIR = join(REPOSITORY_ROOT, 'grafana', 'alerts');
export const DASHBOARDS_DIR = join(REPOSITORY_ROOT, 'grafana', 'dashboards');

const KEYWORDS = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless', 'atan2',
  'inf', 'nan', 'Inf', 'NaN', 'start', 'end',
]);

/**
 * Metric names in a PromQL expression: identifiers that are not functions, aggregations, keywords,
 * label names (inside {} or by/on/... lists), strings, durations or Grafana variables.
 */
export function metricNamesInPromql(expr: string): string[] {
  let text = expr;
  text = text.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  text = text.replace(/\{[^{}]*\}/g, ' ');
  text = text.replace(/\[[^\]]*\]/g, ' ');
  text = text.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  text = text.replace(/\$\{[^}]*\}|\$\w+/g, ' ');
  text = text.replace(/\boffset\s+-?[0-9a-z]+/g, ' ');
  const names = new Set<string>();
  for (const match of text.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const name = match[0];
    const index = match.index ?? 0;
    if (index > 0 && /[0-9.]/.test(text[index - 1])) continue; // exponent of a number (1e3)
    if (/^\s*\(/.test(text.slice(index + name.length))) continue; // function or aggregation
    if (KEYWORDS.has(name)) continue;
    names.add(name);
  }
  return [...names];
}

/** Grafana's `label_values(selector, label)` variable query → the selector's metric names. */
export function metricNamesInVariableQuery(query: string): string[] {
  const match = /^\s*label_values\((.*)\)\s*$/s.exec(query);
  if (!match) return metricNamesInPromql(query);
  const lastComma = match[1].lastIndexOf(',');
  return lastComma < 0 ? [] : metricNamesInPromql(match[1].slice(0, lastComma));
}

export interface QueryLocation {
  /** Where the query lives, for error messages. */
  where: string;
  expr: string;
  kind: 'promql' | 'logql' | 'variable';
}

type Json = YamlValue;
const asObject = (value: Json | undefined): { [key: string]: Json } =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {};
const asArray = (value: Json | undefined): Json[] => (Array.isArray(value) ? value : []);

export function ruleFiles(): string[] {
  return readdirSync(ALERTS_DIR).filter((f) => f.endsWith('.yml')).sort().map((f) => join(ALERTS_DIR, f));
}

export function dashboardFiles(): string[] {
  return readdirSync(DASHBOARDS_DIR).filter((f) => f.endsWith('.json')).sort().map((f) => join(DASHBOARDS_DIR, f));
}

export function queriesInRuleFile(path: string): QueryLocation[] {
  const document = asObject(parseYaml(readFileSync(path, 'utf8')));
  return asArray(document.groups).flatMap((group) =>
    asArray(asObject(group).rules).map((rule) => {
      const r = asObject(rule);
      return { where: `${path}: ${String(r.alert ?? r.record)}`, expr: String(r.expr), kind: 'promql' as const };
    }),
  );
}

export function recordedNames(paths: string[] = ruleFiles()): Set<string> {
  const names = new Set<string>();
  for (const path of paths) {
    const document = asObject(parseYaml(readFileSync(path, 'utf8')));
    for (const group of asArray(document.groups)) for (const rule of asArray(asObject(group).rules)) {
      const record = asObject(rule).record;
      if (typeof record === 'string') names.add(record);
    }
  }
  return names;
}

function datasourceType(datasource: Json | undefined): string | undefined {
  const type = asObject(datasource).type;
  return typeof type === 'string' ? type : undefined;
}

export function panelsOf(dashboard: { [key: string]: Json }): { [key: string]: Json }[] {
  return asArray(dashboard.panels).flatMap((panel) => {
    const p = asObject(panel);
    return [p, ...asArray(p.panels).map(asObject)];
  });
}

export function queriesInDashboard(dashboard: { [key: string]: Json }, name: string): QueryLocation[] {
  const queries: QueryLocation[] = [];
  for (const panel of panelsOf(dashboard)) {
    for (const target of asArray(panel.targets)) {
      const t = asObject(target);
      const type = datasourceType(t.datasource) ?? datasourceType(panel.datasource);
      queries.push({ where: `${name} panel ${String(panel.id)} "${String(panel.title)}" ${String(t.refId)}`, expr: String(t.expr), kind: type === 'loki' ? 'logql' : 'promql' });
    }
  }
  for (const annotation of asArray(asObject(dashboard.annotations).list)) {
    const a = asObject(annotation);
    if (typeof a.expr === 'string') queries.push({ where: `${name} annotation "${String(a.name)}"`, expr: a.expr, kind: datasourceType(a.datasource) === 'loki' ? 'logql' : 'promql' });
  }
  for (const variable of asArray(asObject(dashboard.templating).list)) {
    const v = asObject(variable);
    if (v.type === 'query' && typeof v.definition === 'string') queries.push({ where: `${name} variable $${String(v.name)}`, expr: v.definition, kind: 'variable' });
  }
  return queries;
}

export function loadDashboard(path: string): { [key: string]: Json } {
  return asObject(JSON.parse(readFileSync(path, 'utf8')) as Json);
}

export function allQueries(): QueryLocation[] {
  return [
    ...ruleFiles().flatMap(queriesInRuleFile),
    ...dashboardFiles().flatMap((path) => queriesInDashboard(loadDashboard(path), path)),
  ];
}

export function metricNamesOf(query: QueryLocation): string[] {
  if (query.kind === 'logql') return [];
  return query.kind === 'variable' ? metricNamesInVariableQuery(query.expr) : metricNamesInPromql(query.expr);
}

/**
 * Series names (as they appear in /metrics and in PromQL: `x_total`, `y_bucket`, ...) that the rules
 * and dashboards read from the service. Recording-rule outputs and ALERTS are left out.
 */
export function metricNamesUsed(): string[] {
  const recorded = recordedNames();
  const synthetic = new Set<string>(PROMETHEUS_SYNTHETIC_SERIES);
  const names = new Set<string>();
  for (const query of allQueries()) {
    for (const name of metricNamesOf(query)) if (!recorded.has(name) && !synthetic.has(name)) names.add(name);
  }
  return [...names].sort();
}

/**
 * Metric families behind metricNamesUsed() (`y` for `y_bucket`): prom-client prints `# TYPE <family>`
 * for every registered metric even before its first observation, while a labelled histogram has no
 * `_bucket` line until then.
 */
export function metricFamiliesUsed(): string[] {
  return [...new Set(metricNamesUsed().map((name) => familyOf(name) ?? name))].sort();
}
