// File provisioning for a self-hosted Grafana (10.4+; 12+ to import the Prometheus rules as
// Grafana-managed rules through grafana:publish). Grafana expands ${VAR} from its environment in
// these files, so no address or secret is committed. See grafana/provisioning/README.md.

import { TEAM } from './catalogue';
import type { YamlValue } from './yaml';

export const PROMETHEUS_DATASOURCE_UID = 'prometheus';
export const LOKI_DATASOURCE_UID = 'loki';
export const DASHBOARD_FOLDER_UID = 'jwt-pizza';
/** Where the provider reads grafana/dashboards/*.json (mount the directory there). */
export const DASHBOARDS_MOUNT_PATH = '/var/lib/grafana/dashboards/jwt-pizza-service';

export const PAGE_CONTACT_POINT = 'pizza-oncall-pages';
export const TICKET_CONTACT_POINT = 'pizza-oncall-tickets';

/** Environment variables the provisioning files read; documented in the README and checked by a test. */
export const PROVISIONING_ENV = {
  PROMETHEUS_URL: 'Prometheus-compatible query URL (Grafana Cloud: https://prometheus-prod-XX.grafana.net/api/prom)',
  PROMETHEUS_USER: 'basic-auth user for it (Grafana Cloud: the metrics instance id); empty for a local Prometheus',
  PROMETHEUS_TOKEN: 'basic-auth password (Grafana Cloud: an access-policy token with metrics:read)',
  LOKI_URL: 'Loki URL (Grafana Cloud: https://logs-prod-XX.grafana.net)',
  LOKI_USER: 'basic-auth user for Loki (Grafana Cloud: the logs instance id); empty for a local Loki',
  LOKI_TOKEN: 'basic-auth password for Loki',
  ALERT_EMAIL_ADDRESSES: 'on-call email addresses, separated by ";"',
  ALERT_WEBHOOK_URL: 'webhook that pages on-call (Grafana IRM/OnCall integration URL, PagerDuty/Opsgenie bridge, ...)',
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
        jsonData: { httpMethod: 'POST', timeInterval: '15s', manageAlerts: true },
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
        jsonData: { maxLines: 1000 },
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

export function contactPointsYaml(): { [key: string]: YamlValue } {
  return {
    apiVersion: 1,
    contactPoints: [
      {
        orgId: 1,
        name: PAGE_CONTACT_POINT,
        receivers: [
          {
            uid: 'pizza-oncall-pages-webhook',
            type: 'webhook',
            settings: { url: env('ALERT_WEBHOOK_URL'), httpMethod: 'POST' },
            disableResolveMessage: false,
          },
          {
            uid: 'pizza-oncall-pages-email',
            type: 'email',
            settings: { addresses: env('ALERT_EMAIL_ADDRESSES'), singleEmail: true },
            disableResolveMessage: false,
          },
        ],
      },
      {
        orgId: 1,
        name: TICKET_CONTACT_POINT,
        receivers: [
          {
            uid: 'pizza-oncall-tickets-email',
            type: 'email',
            settings: { addresses: env('ALERT_EMAIL_ADDRESSES'), singleEmail: true },
            disableResolveMessage: false,
          },
        ],
      },
    ],
  };
}

/**
 * Timing, on purpose:
 * - group_by [alertname]: every label set of one alert (instances, probe categories) is one
 *   notification; one bursty fault is one alert (keep_firing_for), so one incident = one page.
 * - group_wait 30s: batch label sets that start together; short next to the rules' `for`.
 * - group_interval 5m: a group already notified hears about changes (new label set, resolved)
 *   at most every 5 minutes.
 * - repeat_interval: a page still firing is re-sent every hour until someone resolves the cause;
 *   tickets once a day.
 */
export const NOTIFICATION_TIMING = {
  groupBy: ['alertname'],
  groupWait: '30s',
  groupInterval: '5m',
  pageRepeatInterval: '1h',
  ticketRepeatInterval: '24h',
} as const;

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
  { path: 'grafana/provisioning/alerting/notification-policies.yml', build: notificationPoliciesYaml },
] as const;
