// File provisioning for a self-hosted Grafana (10.4+; 12+ to import the Prometheus rules as
// Grafana-managed rules through grafana:publish). Grafana expands ${VAR} from its environment in
// these files, so no address or secret is committed. See grafana/provisioning/README.md.

import { NOTIFICATION_TEMPLATE, NOTIFICATION_TIMING, PAGE_RECEIVER, RECEIVERS, TICKET_RECEIVER } from './alertmanager';
import { TEAM } from './catalogue';
import type { YamlValue } from './yamlFile';

export const PROMETHEUS_DATASOURCE_UID = 'prometheus';
export const LOKI_DATASOURCE_UID = 'loki';
export const TEMPO_DATASOURCE_UID = 'tempo';
export const DASHBOARD_FOLDER_UID = 'jwt-pizza';
/** Where the provider reads grafana/dashboards/*.json (mount the directory there). */
export const DASHBOARDS_MOUNT_PATH = '/var/lib/grafana/dashboards/jwt-pizza-service';

/** The same names as the Alertmanager receivers, so one notification tree reads the same in both. */
export const PAGE_CONTACT_POINT = PAGE_RECEIVER;
export const TICKET_CONTACT_POINT = TICKET_RECEIVER;
export const MESSAGE_TEMPLATE_NAME = 'jwt-pizza-service';

/** Environment variables the provisioning files read; documented in the README and checked by a test. */
export const PROVISIONING_ENV = {
  PROMETHEUS_URL: 'Prometheus-compatible query URL (Grafana Cloud: https://prometheus-prod-XX.grafana.net/api/prom)',
  PROMETHEUS_USER: 'basic-auth user for it (Grafana Cloud: the metrics instance id); empty for a local Prometheus',
  PROMETHEUS_TOKEN: 'basic-auth password (Grafana Cloud: an access-policy token with metrics:read)',
  LOKI_URL: 'Loki URL (Grafana Cloud: https://logs-prod-XX.grafana.net)',
  LOKI_USER: 'basic-auth user for Loki (Grafana Cloud: the logs instance id); empty for a local Loki',
  LOKI_TOKEN: 'basic-auth password for Loki',
  TEMPO_URL: 'Tempo query URL (Grafana Cloud: https://tempo-prod-XX.grafana.net/tempo)',
  TEMPO_USER: 'basic-auth user for Tempo (Grafana Cloud: the traces instance id); empty for a local Tempo',
  TEMPO_TOKEN: 'basic-auth password for Tempo (Grafana Cloud: an access-policy token with traces:read)',
  ALERT_EMAIL_ADDRESSES: 'on-call email addresses, separated by ";"',
  ALERT_PAGE_WEBHOOK_URL: 'webhook that pages on-call (Grafana IRM/OnCall integration URL, PagerDuty/Opsgenie bridge, ...)',
  ALERT_TICKET_WEBHOOK_URL: 'webhook that opens a ticket (ticket-queue integration, or a low-urgency IRM integration)',
} as const;

const env = (name: keyof typeof PROVISIONING_ENV) => `\${${name}}`;

export function datasourcesYaml(): { [key: string]: YamlValue } {
  return {
    apiVersion: 1,
    datasources: [
      {
        name: 'Prometheus',
        uid: PROMETHEUS_DATASOURCE_UID,
        type: 'prometheus',
        access: 'proxy',
        url: env('PROMETHEUS_URL'),
        isDefault: true,
        basicAuth: true,
        basicAuthUser: env('PROMETHEUS_USER'),
        secureJsonData: { basicAuthPassword: env('PROMETHEUS_TOKEN') },
        // timeInterval is the push/scrape interval: $__rate_interval is derived from it.
        // Exemplars carry `trace_id` (src/shared/tracing): each one links to its trace in Tempo.
        jsonData: { httpMethod: 'POST', timeInterval: '15s', manageAlerts: true, exemplarTraceIdDestinations: [{ name: 'trace_id', datasourceUid: TEMPO_DATASOURCE_UID }] },
        editable: false,
      },
      {
        name: 'Loki',
        uid: LOKI_DATASOURCE_UID,
        type: 'loki',
        access: 'proxy',
        url: env('LOKI_URL'),
        basicAuth: true,
        basicAuthUser: env('LOKI_USER'),
        secureJsonData: { basicAuthPassword: env('LOKI_TOKEN') },
        // Log lines written inside a request carry "trace_id": a "Trace" link in the line's details opens
        // it in Tempo. `$$` keeps Grafana from expanding the link's variable as an environment variable.
        jsonData: {
          maxLines: 1000,
          derivedFields: [{ name: 'Trace', matcherType: 'regex', matcherRegex: '"trace_id":"([0-9a-f]{32})"', url: '$${__value.raw}', datasourceUid: TEMPO_DATASOURCE_UID, urlDisplayLabel: 'Trace for this log line' }],
        },
        editable: false,
      },
      {
        name: 'Tempo',
        uid: TEMPO_DATASOURCE_UID,
        type: 'tempo',
        access: 'proxy',
        url: env('TEMPO_URL'),
        basicAuth: true,
        basicAuthUser: env('TEMPO_USER'),
        secureJsonData: { basicAuthPassword: env('TEMPO_TOKEN') },
        // From a span to the log lines of its trace (the same trace_id field), a minute either side.
        jsonData: {
          tracesToLogsV2: { datasourceUid: LOKI_DATASOURCE_UID, filterByTraceID: true, spanStartTimeShift: '-1m', spanEndTimeShift: '1m' },
          serviceMap: { datasourceUid: PROMETHEUS_DATASOURCE_UID },
          nodeGraph: { enabled: true },
        },
        editable: false,
      },
    ],
  };
}

export function dashboardProviderYaml(): { [key: string]: YamlValue } {
  return {
    apiVersion: 1,
    providers: [
      {
        name: 'jwt-pizza-service',
        orgId: 1,
        folder: 'JWT Pizza',
        folderUid: DASHBOARD_FOLDER_UID,
        type: 'file',
        // Dashboards are code: edits in the UI would be lost at the next reload, so forbid them.
        disableDeletion: true,
        allowUiUpdates: false,
        updateIntervalSeconds: 60,
        options: { path: DASHBOARDS_MOUNT_PATH, foldersFromFilesStructure: false },
      },
    ],
  };
}

// Grafana renders the same template as Alertmanager: summary, runbook, dashboard and action first.
const TITLE = '{{ template "pizza.title" . }}';
const MESSAGE = '{{ template "pizza.message" . }}';

export function contactPointsYaml(): { [key: string]: YamlValue } {
  const webhook = (name: typeof PAGE_CONTACT_POINT | typeof TICKET_CONTACT_POINT) => ({
    uid: `${name}-webhook`,
    type: 'webhook',
    settings: { url: env(RECEIVERS[name].urlEnv), httpMethod: 'POST', title: TITLE, message: MESSAGE },
    disableResolveMessage: false,
  });
  const email = (name: string) => ({
    uid: `${name}-email`,
    type: 'email',
    settings: { addresses: env('ALERT_EMAIL_ADDRESSES'), singleEmail: true, subject: TITLE, message: MESSAGE },
    disableResolveMessage: false,
  });
  return {
    apiVersion: 1,
    contactPoints: [
      { orgId: 1, name: PAGE_CONTACT_POINT, receivers: [webhook(PAGE_CONTACT_POINT), email(PAGE_CONTACT_POINT)] },
      { orgId: 1, name: TICKET_CONTACT_POINT, receivers: [webhook(TICKET_CONTACT_POINT), email(TICKET_CONTACT_POINT)] },
    ],
  };
}

export function messageTemplatesYaml(): { [key: string]: YamlValue } {
  return { apiVersion: 1, templates: [{ orgId: 1, name: MESSAGE_TEMPLATE_NAME, template: NOTIFICATION_TEMPLATE }] };
}

/**
 * The Alertmanager routing tree (grafana/src/alertmanager.ts), timing included. Grafana-managed
 * alerting has no inhibition, so here the alerts listed in docs/alerts.md as inhibited notify too.
 */
export function notificationPoliciesYaml(): { [key: string]: YamlValue } {
  return {
    apiVersion: 1,
    policies: [
      {
        orgId: 1,
        receiver: TICKET_CONTACT_POINT,
        group_by: [...NOTIFICATION_TIMING.groupBy],
        group_wait: NOTIFICATION_TIMING.groupWait,
        group_interval: NOTIFICATION_TIMING.groupInterval,
        repeat_interval: NOTIFICATION_TIMING.ticketRepeatInterval,
        routes: [
          {
            receiver: PAGE_CONTACT_POINT,
            matchers: [`team = ${TEAM}`, 'severity = page'],
            repeat_interval: NOTIFICATION_TIMING.pageRepeatInterval,
          },
          {
            receiver: TICKET_CONTACT_POINT,
            matchers: [`team = ${TEAM}`, 'severity = ticket'],
            repeat_interval: NOTIFICATION_TIMING.ticketRepeatInterval,
          },
        ],
      },
    ],
  };
}

export const PROVISIONING_FILES = [
  { path: 'grafana/provisioning/datasources/jwt-pizza-service.yml', build: datasourcesYaml },
  { path: 'grafana/provisioning/dashboards/jwt-pizza-service.yml', build: dashboardProviderYaml },
  { path: 'grafana/provisioning/alerting/contact-points.yml', build: contactPointsYaml },
  {
    path: 'grafana/provisioning/alerting/notification-policies.yml',
    build: notificationPoliciesYaml,
    note:
      'The routing tree, grouping and timing of grafana/alertmanager/alertmanager.yml. Grafana-managed alerting has NO inhibition:\n' +
      'the alerts that Alertmanager keeps quiet while a purchase page fires notify here too (docs/alerts.md#inhibition).',
  },
  { path: 'grafana/provisioning/alerting/templates.yml', build: messageTemplatesYaml },
] as const;
