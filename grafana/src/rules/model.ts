// Typed Prometheus rule definitions and their rendering to rule-file YAML (the format promtool,
// Prometheus, the Mimir ruler and Grafana's Prometheus-conversion API all read).

import { REPOSITORY_BLOB_URL, TEAM } from '../catalogue';
import { dashboardUrl } from '../dashboards/panels';
import type { DashboardIdentity } from '../dashboards/panels';
import type { YamlValue } from '../yamlFile';

export type Severity = 'page' | 'ticket';
/** Prometheus duration, e.g. `30s`, `5m`. */
export type Duration = `${number}${'s' | 'm' | 'h'}`;

export interface RecordingRule {
  record: string;
  expr: string;
}

export interface AlertingRule {
  alert: string;
  expr: string;
  for?: Duration;
  keepFiringFor?: Duration;
  severity: Severity;
  /** Go templates: only `{{ $value | humanize* }}` and `{{ $labels.<name> }}` (see renderTemplate). */
  summary: string;
  description: string;
  /**
   * What ends the fault, when one admin action does: the first lines of a notification show it, so
   * the on-call engineer does not have to find it in the runbook at 3 a.m. Plain text, no secrets.
   */
  action?: string;
  /** File name (without .md) under docs/runbooks/. */
  runbook: string;
  dashboard: DashboardIdentity;
  panelId: number;
  /** One sentence for the alert catalogue (docs/alerts.md). */
  conditionInWords: string;
}

export type Rule = RecordingRule | AlertingRule;

export interface RuleGroup {
  name: string;
  interval: Duration;
  rules: Rule[];
}

export interface RuleFile {
  /** Path relative to the repository root. */
  path: string;
  groups: RuleGroup[];
}

export const isAlert = (rule: Rule): rule is AlertingRule => 'alert' in rule;

export function runbookPath(rule: AlertingRule): string {
  return `docs/runbooks/${rule.runbook}.md`;
}

export function runbookUrl(rule: AlertingRule): string {
  return `${REPOSITORY_BLOB_URL}/${runbookPath(rule)}`;
}

export function alertLabels(rule: AlertingRule): Record<string, string> {
  return { severity: rule.severity, team: TEAM };
}

export function alertAnnotations(rule: AlertingRule): Record<string, string> {
  return {
    summary: rule.summary,
    description: rule.description,
    runbook_url: runbookUrl(rule),
    dashboard_uid: rule.dashboard.uid,
    panel_id: String(rule.panelId),
    dashboard_url: dashboardUrl(rule.dashboard, rule.panelId),
    ...(rule.action ? { action: rule.action } : {}),
  };
}

function ruleToYaml(rule: Rule): YamlValue {
  if (!isAlert(rule)) return { record: rule.record, expr: rule.expr };
  const out: Record<string, YamlValue> = { alert: rule.alert, expr: rule.expr };
  if (rule.for) out.for = rule.for;
  if (rule.keepFiringFor) out.keep_firing_for = rule.keepFiringFor;
  out.labels = alertLabels(rule);
  out.annotations = alertAnnotations(rule);
  return out;
}

export function groupToYaml(group: RuleGroup): { [key: string]: YamlValue } {
  return { name: group.name, interval: group.interval, rules: group.rules.map(ruleToYaml) };
}

export function ruleFileToYaml(file: RuleFile): { [key: string]: YamlValue } {
  return { groups: file.groups.map(groupToYaml) };
}

export interface TemplateContext {
  /** The already humanised value, as Prometheus would print it (e.g. "100%", "7.8s", "12"). */
  value: string;
  labels: Record<string, string>;
}

const TEMPLATE_ACTION = /\{\{\s*(.*?)\s*\}\}/g;

/**
 * Expands the small template subset our annotations use, the way Prometheus does, given the value
 * already humanised. Anything else throws, which keeps annotations simple enough to test exactly.
 */
export function renderTemplate(template: string, context: TemplateContext): string {
  return template.replace(TEMPLATE_ACTION, (_match, action: string) => {
    if (/^\$value(\s*\|\s*(humanize|humanizePercentage|humanizeDuration))?$/.test(action)) return context.value;
    const label = /^\$labels\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(action);
    if (label) return context.labels[label[1]] ?? '';
    throw new Error(`unsupported template action {{ ${action} }} in "${template}"`);
  });
}
