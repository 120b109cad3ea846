// The notification half of alerting, from the same catalogue as the rules: the Alertmanager
// configuration (routing by severity, grouping, timing, inhibition, webhook receivers), the
// notification template, and the timing the Grafana notification policy shares
// (grafana/src/provisioning.ts). Rendered to grafana/alertmanager/ by generate.ts; made deployable
// (real webhook URLs, secrets) by scripts/alertmanager-config.ts.

import { TEAM } from './catalogue';
import {
  DATABASE_NOT_READY,
  HTTP_5XX_RATIO_HIGH,
  PIZZA_FACTORY_CIRCUIT_OPEN,
  PIZZA_FACTORY_LATENCY_HIGH,
  PIZZA_INVALID_JWT,
  PIZZA_PURCHASE_FAILURES,
  allAlerts,
} from './rules/definitions';
import type { AlertingRule, Severity } from './rules/model';
import type { YamlValue } from './yamlFile';

export const ALERTMANAGER_CONFIG_PATH = 'grafana/alertmanager/alertmanager.yml';
export const TEMPLATE_FILE_NAME = 'jwt-pizza-service.tmpl';
export const TEMPLATE_PATH = `grafana/alertmanager/templates/${TEMPLATE_FILE_NAME}`;
/** As written in alertmanager.yml: Alertmanager resolves it against the config file's directory. */
export const TEMPLATE_GLOB = 'templates/*.tmpl';

export const PAGE_RECEIVER = 'pizza-oncall-pages';
export const TICKET_RECEIVER = 'pizza-oncall-tickets';

/**
 * Webhook URLs carry the integration's token (Grafana IRM, PagerDuty/Opsgenie bridges), so the
 * committed file holds these never-resolvable placeholders; scripts/alertmanager-config.ts swaps in
 * the environment's URLs. `.invalid` guarantees an unrendered file sends nothing anywhere.
 */
export const RECEIVERS = {
  [PAGE_RECEIVER]: { urlEnv: 'ALERT_PAGE_WEBHOOK_URL', tokenFileEnv: 'ALERT_PAGE_WEBHOOK_TOKEN_FILE', placeholder: 'https://pizza-oncall-pages.invalid/set-ALERT_PAGE_WEBHOOK_URL' },
  [TICKET_RECEIVER]: { urlEnv: 'ALERT_TICKET_WEBHOOK_URL', tokenFileEnv: 'ALERT_TICKET_WEBHOOK_TOKEN_FILE', placeholder: 'https://pizza-oncall-tickets.invalid/set-ALERT_TICKET_WEBHOOK_URL' },
} as const;
export type ReceiverName = keyof typeof RECEIVERS;

const RECEIVER_BY_SEVERITY: Record<Severity, ReceiverName> = { page: PAGE_RECEIVER, ticket: TICKET_RECEIVER };

export function receiverOf(rule: AlertingRule): ReceiverName {
  return RECEIVER_BY_SEVERITY[rule.severity];
}

/**
 * Timing, on purpose (docs/alerts.md says why at length):
 * - group_by [alertname, source]: one notification per alert per deployment; instances and probe
 *   categories of one alert share it, and one service cannot hide another's page.
 * - group_wait 10s: batches label sets that start together, and keeps a bursty failure's page within
 *   3 minutes of its first failed purchase at the incident's 2 orders a minute: second failure 30 s, push
 *   up to 15 s, evaluation up to 1 min, `for` 1 min, then group_wait (with 30s the worst case was 3m15s).
 * - group_interval 5m: a notified group hears of changes (a new label set, the resolve) at most
 *   every 5 minutes; the rules never resolve on silence, so a resolve is news worth waiting for.
 * - repeat_interval 4h for pages: a page is acknowledged and escalated in the pager (Grafana IRM),
 *   not by re-sending; re-sending a firing page sooner is the 2025-11-26 pager noise again. 4h outlasts
 *   every fault on record (45 min) and still re-raises a page lost or forgotten in a shift.
 *   Tickets re-raise daily.
 * All five are the durations the game day divides by its time scale.
 */
export const NOTIFICATION_TIMING = {
  groupBy: ['alertname', 'source'],
  groupWait: '10s',
  groupInterval: '5m',
  pageRepeatInterval: '4h',
  ticketRepeatInterval: '24h',
} as const;

export interface Inhibition {
  /** While this alert fires for a source... */
  source: AlertingRule;
  /** ...these alerts of the same source do not notify. */
  targets: AlertingRule[];
  /** For docs/alerts.md. */
  why: string;
}

/**
 * The alerts one page already explains. Sources are checked among *firing* alerts, whether or not
 * they notify themselves, so chains hold (invalid JWT -> purchase failures -> circuit open).
 * Keep it acyclic: two alerts inhibiting each other would both go quiet.
 */
export const INHIBITIONS: readonly Inhibition[] = [
  {
    source: PIZZA_PURCHASE_FAILURES,
    targets: [PIZZA_FACTORY_CIRCUIT_OPEN, PIZZA_FACTORY_LATENCY_HIGH, HTTP_5XX_RATIO_HIGH],
    why:
      'The purchase page is the incident: an open circuit, slow factory calls and 5xx around failed orders are its causes or echoes, ' +
      'and its runbook walks through them. It fires first (for 1m, against 3m for latency and 5xx).',
  },
  {
    source: PIZZA_INVALID_JWT,
    targets: [PIZZA_PURCHASE_FAILURES, PIZZA_FACTORY_CIRCUIT_OPEN],
    why:
      'Bad pizza JWTs are the failed purchases, and this page names the cause. It has no pending period, so it notifies before ' +
      'PizzaPurchaseFailures could; the purchase page it inhibits still inhibits the circuit ticket.',
  },
  {
    source: DATABASE_NOT_READY,
    targets: [HTTP_5XX_RATIO_HIGH],
    why: 'With the database down, routes that need it answer 503: the 5xx ratio is the database page again.',
  },
];

/** The alerts whose firing keeps `rule` quiet (for the same source). */
export function inhibitorsOf(rule: AlertingRule): AlertingRule[] {
  return INHIBITIONS.filter((inhibition) => inhibition.targets.includes(rule)).map((inhibition) => inhibition.source);
}

const matcher = (name: string, value: string) => `${name}=${JSON.stringify(value)}`;
const teamMatcher = matcher('team', TEAM);

export const ALERTMANAGER_HEADER = [
  'Alertmanager configuration for jwt-pizza-service (Prometheus Alertmanager 0.25+, Mimir / Grafana Cloud alertmanager).',
  'GENERATED by grafana/src/alertmanager.ts (npx tsx grafana/src/generate.ts) - edit the TypeScript, not this file.',
  '',
  'Do not deploy this file as is: the receivers point at https://*.invalid placeholders. Render the deployable file:',
  '  ALERT_PAGE_WEBHOOK_URL=https://... ALERT_TICKET_WEBHOOK_URL=https://... npm run alertmanager:config -- --out /etc/alertmanager/alertmanager.yml',
  'Optional ALERT_PAGE_WEBHOOK_TOKEN_FILE / ALERT_TICKET_WEBHOOK_TOKEN_FILE add a bearer token read from that file',
  '(credentials_file; npm run grafana:publish inlines it for Mimir, which refuses *_file settings).',
  'Local receiver (game day, tests): set both URLs to loopback, e.g. http://127.0.0.1:<port>/pages and /tickets,',
  'or call renderAlertmanagerConfig() from scripts/alertmanager-config.ts.',
  'Time-scaled runs divide exactly these durations: group_wait, group_interval and every repeat_interval of route:',
  '(renderAlertmanagerConfig({ scale })). Nothing else here is a duration that decides when a notification is sent.',
  '',
  'Grafana-managed alerting (grafana/provisioning/alerting/) has the same tree, grouping, timing and template but',
  'no inhibition: there, the inhibited alerts below notify too. Rationale and tables: docs/alerts.md.',
].join('\n');

export function alertmanagerConfigYaml(): { [key: string]: YamlValue } {
  const webhook = (name: ReceiverName) => ({
    name,
    webhook_configs: [{ url: RECEIVERS[name].placeholder, send_resolved: true, max_alerts: 0 }],
  });
  return {
    templates: [TEMPLATE_GLOB],
    route: {
      // Alerts without our team label (another service on a shared Mimir tenant) still reach someone.
      receiver: TICKET_RECEIVER,
      group_by: [...NOTIFICATION_TIMING.groupBy],
      group_wait: NOTIFICATION_TIMING.groupWait,
      group_interval: NOTIFICATION_TIMING.groupInterval,
      repeat_interval: NOTIFICATION_TIMING.ticketRepeatInterval,
      routes: [
        { receiver: PAGE_RECEIVER, matchers: [teamMatcher, matcher('severity', 'page')], repeat_interval: NOTIFICATION_TIMING.pageRepeatInterval },
        { receiver: TICKET_RECEIVER, matchers: [teamMatcher, matcher('severity', 'ticket')], repeat_interval: NOTIFICATION_TIMING.ticketRepeatInterval },
      ],
    },
    inhibit_rules: INHIBITIONS.map((inhibition) => ({
      source_matchers: [matcher('alertname', inhibition.source.alert), teamMatcher],
      target_matchers: [`alertname=~${JSON.stringify(inhibition.targets.map((t) => t.alert).join('|'))}`, teamMatcher],
      // One deployment's page never silences another's alerts.
      equal: ['source'],
    })),
    receivers: [webhook(PAGE_RECEIVER), webhook(TICKET_RECEIVER)],
  };
}

/**
 * Go template shared by Alertmanager (grafana/alertmanager/templates/) and Grafana (provisioned
 * message template). Only data both expose: .Status, .GroupLabels, .Alerts(.Firing/.Resolved),
 * .Labels, .Annotations, .StartsAt. The first lines are what a pager shows: summary, runbook,
 * dashboard, and the action that ends the fault when the alert has one.
 */
export const NOTIFICATION_TEMPLATE = [
  '{{/* jwt-pizza-service notifications. GENERATED by grafana/src/alertmanager.ts - edit the TypeScript. */}}',
  '{{ define "pizza.title" }}[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] ' +
    '{{ .GroupLabels.alertname }} on {{ .GroupLabels.source }}{{ with index .Alerts 0 }}: {{ .Annotations.summary }}{{ end }}{{ end }}',
  '',
  '{{ define "pizza.alert" }}{{ .Annotations.summary }}',
  'Runbook: {{ .Annotations.runbook_url }}',
  'Dashboard: {{ .Annotations.dashboard_url }}',
  '{{ if .Annotations.action }}Action: {{ .Annotations.action }}',
  '{{ end }}{{ .Annotations.description }}',
  'Labels:{{ range .Labels.SortedPairs }} {{ .Name }}={{ .Value }}{{ end }}',
  'Since: {{ .StartsAt }}{{ end }}',
  '',
  '{{ define "pizza.message" }}{{ range .Alerts.Firing }}{{ template "pizza.alert" . }}',
  '',
  '{{ end }}{{ if .Alerts.Resolved }}Resolved:',
  '{{ range .Alerts.Resolved }}- {{ .Labels.alertname }} on {{ .Labels.source }}: {{ .Annotations.summary }}',
  '{{ end }}{{ end }}{{ end }}',
].join('\n');

/** Every alert, with the receiver it reaches and what keeps it quiet: for tables and tests. */
export function routingTable(): { rule: AlertingRule; receiver: ReceiverName; inhibitedBy: AlertingRule[] }[] {
  return allAlerts().map((rule) => ({ rule, receiver: receiverOf(rule), inhibitedBy: inhibitorsOf(rule) }));
}
