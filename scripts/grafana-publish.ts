// Publishes the alert rules (grafana/alerts/*.yml, one rule group per request) to a Prometheus ruler
// API, and optionally the dashboards (grafana/dashboards/*.json) to Grafana and the Alertmanager
// configuration (grafana/alertmanager/) to a Mimir / Grafana Cloud alertmanager.
//
//   npm run grafana:publish                  (tsx scripts/grafana-publish.ts)
//   npm run grafana:publish -- --dry-run     show what would be sent, send nothing
//   npm run grafana:publish -- --rules-only | --dashboards-only | --alertmanager-only
//
// Rules: POST {GRAFANA_RULER_URL}/config/v1/rules/{namespace}, body = one rule group as YAML; then
//   the namespace is listed and the groups no longer in grafana/alerts are deleted from it.
//   Grafana Cloud / Mimir: GRAFANA_RULER_URL=https://prometheus-prod-XX-....grafana.net/api/prom,
//     GRAFANA_RULER_USER=<metrics instance id>, GRAFANA_RULER_TOKEN=<token with rules:write> (basic auth).
//   Self-hosted Grafana 12+ (imports them as Grafana-managed rules, notified by the provisioned
//     contact points): GRAFANA_RULER_URL=http://grafana:3000/api/convert/prometheus,
//     GRAFANA_RULER_TOKEN=<service account token> (bearer, no user), GRAFANA_RULER_DATASOURCE_UID=prometheus.
// Dashboards (when GRAFANA_URL is set): POST {GRAFANA_URL}/api/dashboards/db with GRAFANA_API_TOKEN.
// Alertmanager (when GRAFANA_ALERTMANAGER_URL is set): POST {GRAFANA_ALERTMANAGER_URL}/api/v1/alerts,
//   body {template_files, alertmanager_config} as YAML (Mimir's format), basic auth
//   GRAFANA_ALERTMANAGER_USER:GRAFANA_ALERTMANAGER_TOKEN (bearer without a user); the webhook URLs and
//   token files come from ALERT_*_WEBHOOK_URL / ALERT_*_WEBHOOK_TOKEN_FILE (scripts/alertmanager-config.ts).
// Tokens are never printed; any error message is scrubbed of them.

import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TEMPLATE_FILE_NAME, TEMPLATE_PATH } from '../grafana/src/alertmanager';
import { parseYaml, toYaml, YamlValue } from '../grafana/src/yamlFile';
import { AlertmanagerConfigError, renderAlertmanagerConfig, RenderOptions, renderOptionsFromEnv } from './alertmanager-config';

type YamlMap = { [key: string]: YamlValue };

export const REPOSITORY_ROOT = resolve(__dirname, '..');
const DEFAULT_NAMESPACE = 'jwt-pizza-service';
const DEFAULT_TIMEOUT_MS = 15_000;

export interface PublishConfig {
  ruler?: { url: string; user?: string; token: string; namespace: string; datasourceUid?: string };
  grafana?: { url: string; token: string; folderUid?: string };
  alertmanager?: { url: string; user?: string; token: string; render?: RenderOptions };
  /** Prefix for relative dashboard_url annotations, so links in notifications are absolute. */
  dashboardBaseUrl?: string;
  timeoutMs: number;
}

export interface PublishOptions {
  dryRun: boolean;
  rules: boolean;
  dashboards: boolean;
  alertmanager: boolean;
}

export class ConfigError extends Error {}
export class PublishError extends Error {}

const trimSlash = (url: string) => url.replace(/\/+$/, '');

export function readConfig(env: NodeJS.ProcessEnv, options: PublishOptions): PublishConfig {
  const value = (name: string) => (env[name] ?? '').trim() || undefined;
  const config: PublishConfig = { timeoutMs: Number(value('GRAFANA_PUBLISH_TIMEOUT_MS') ?? DEFAULT_TIMEOUT_MS) };
  const rulerUrl = value('GRAFANA_RULER_URL');
  if (rulerUrl) {
    const token = value('GRAFANA_RULER_TOKEN');
    if (!token && !options.dryRun) throw new ConfigError('GRAFANA_RULER_URL is set but GRAFANA_RULER_TOKEN is not');
    config.ruler = {
      url: trimSlash(rulerUrl),
      user: value('GRAFANA_RULER_USER'),
      token: token ?? '',
      namespace: value('GRAFANA_RULER_NAMESPACE') ?? DEFAULT_NAMESPACE,
      datasourceUid: value('GRAFANA_RULER_DATASOURCE_UID'),
    };
  }
  const grafanaUrl = value('GRAFANA_URL');
  if (grafanaUrl) {
    const token = value('GRAFANA_API_TOKEN');
    if (!token && !options.dryRun && options.dashboards) throw new ConfigError('GRAFANA_URL is set but GRAFANA_API_TOKEN is not');
    config.grafana = { url: trimSlash(grafanaUrl), token: token ?? '', folderUid: value('GRAFANA_FOLDER_UID') };
  }
  const base = value('GRAFANA_DASHBOARD_BASE_URL') ?? grafanaUrl;
  if (base) config.dashboardBaseUrl = trimSlash(base);
  const alertmanagerUrl = value('GRAFANA_ALERTMANAGER_URL');
  if (alertmanagerUrl && options.alertmanager) {
    const token = value('GRAFANA_ALERTMANAGER_TOKEN');
    if (!token && !options.dryRun) throw new ConfigError('GRAFANA_ALERTMANAGER_URL is set but GRAFANA_ALERTMANAGER_TOKEN is not');
    let render: RenderOptions | undefined;
    try {
      render = renderOptionsFromEnv(env);
    } catch (error) {
      if (!options.dryRun) throw new ConfigError(`Alertmanager configuration: ${(error as Error).message}`);
    }
    config.alertmanager = { url: trimSlash(alertmanagerUrl), user: value('GRAFANA_ALERTMANAGER_USER'), token: token ?? '', render };
  }

  if (options.rules && !config.ruler && !options.dryRun) {
    throw new ConfigError(
      'GRAFANA_RULER_URL is not set. Set GRAFANA_RULER_URL, GRAFANA_RULER_USER (instance id) and GRAFANA_RULER_TOKEN, ' +
        'or pass --dashboards-only (with GRAFANA_URL and GRAFANA_API_TOKEN).',
    );
  }
  if (options.dashboards && !options.rules && !config.grafana && !options.dryRun) {
    throw new ConfigError('--dashboards-only needs GRAFANA_URL and GRAFANA_API_TOKEN');
  }
  if (options.alertmanager && !options.rules && !options.dashboards && !config.alertmanager && !options.dryRun) {
    throw new ConfigError('--alertmanager-only needs GRAFANA_ALERTMANAGER_URL and GRAFANA_ALERTMANAGER_TOKEN');
  }
  return config;
}

export interface RuleGroupToPublish {
  file: string;
  group: YamlMap;
}

/** Rule groups of grafana/alerts/*.yml (not tests/: the anti-examples there must never be deployed). */
export function loadRuleGroups(root = REPOSITORY_ROOT): RuleGroupToPublish[] {
  const dir = join(root, 'grafana', 'alerts');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .flatMap((file) => {
      const document = parseYaml(readFileSync(join(dir, file), 'utf8'));
      const groups = document && typeof document === 'object' && !Array.isArray(document) ? document.groups : undefined;
      if (!Array.isArray(groups) || groups.length === 0) throw new PublishError(`grafana/alerts/${file} has no rule groups`);
      return groups.map((group) => {
        if (!group || typeof group !== 'object' || Array.isArray(group) || typeof group.name !== 'string' || !Array.isArray(group.rules)) {
          throw new PublishError(`grafana/alerts/${file} has a rule group without name or rules`);
        }
        return { file: `grafana/alerts/${file}`, group };
      });
    });
}

/** Makes relative dashboard_url annotations absolute, so a notification's link opens the panel. */
export function withAbsoluteDashboardUrls(group: YamlMap, baseUrl: string | undefined): YamlMap {
  if (!baseUrl) return group;
  const rules = (group.rules as YamlValue[]).map((rule) => {
    if (!rule || typeof rule !== 'object' || Array.isArray(rule)) return rule;
    const annotations = rule.annotations;
    if (!annotations || typeof annotations !== 'object' || Array.isArray(annotations)) return rule;
    const url = annotations.dashboard_url;
    if (typeof url !== 'string' || !url.startsWith('/')) return rule;
    return { ...rule, annotations: { ...annotations, dashboard_url: `${baseUrl}${url}` } };
  });
  return { ...group, rules };
}

export function loadDashboards(root = REPOSITORY_ROOT): { file: string; dashboard: YamlMap }[] {
  const dir = join(root, 'grafana', 'dashboards');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file: `grafana/dashboards/${file}`, dashboard: JSON.parse(readFileSync(join(dir, file), 'utf8')) as YamlMap }));
}

export function redact(text: string, secrets: (string | undefined)[]): string {
  let result = text;
  for (const secret of secrets) if (secret && secret.length >= 4) result = result.split(secret).join('***');
  return result;
}

/** Sends one request; any answer but 2xx (or one of `accept`) is a PublishError. Returns the body. */
async function send(url: string, init: RequestInit, timeoutMs: number, what: string, accept: number[] = []): Promise<{ status: number; body: string }> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    throw new PublishError(`${what}: request to ${url} failed: ${reason}`);
  }
  const text = await response.text().catch(() => '');
  if (response.ok || accept.includes(response.status)) return { status: response.status, body: text };
  const body = text.replace(/\s+/g, ' ').trim().slice(0, 500);
  throw new PublishError(`${what}: ${url} answered HTTP ${response.status} ${response.statusText}${body ? `: ${body}` : ''}`);
}

/**
 * Rule group names in a ruler's namespace listing: YAML `<namespace>: [ {name, interval, rules}, ... ]`
 * as Mimir and Grafana's conversion API write it (any indentation), or the same as JSON. Only the
 * top-level `- name:` items are groups; rules never have a `name` key.
 */
export function groupNamesOfListing(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  if (trimmed.startsWith('{')) {
    const parsed = JSON.parse(trimmed) as Record<string, { name?: unknown }[]>;
    return Object.values(parsed).flatMap((groups) => (Array.isArray(groups) ? groups.map((g) => String(g.name)) : []));
  }
  const items = [...trimmed.matchAll(/^( *)- +name: *(.*?) *$/gm)].map((m) => ({ indent: m[1].length, raw: m[2] }));
  const top = Math.min(...items.map((item) => item.indent));
  return items
    .filter((item) => item.indent === top)
    .map(({ raw }) => {
      if (raw.startsWith('"')) return JSON.parse(raw) as string;
      if (raw.startsWith("'")) return raw.slice(1, -1).replace(/''/g, "'");
      return raw;
    });
}

/** The body Mimir's POST /api/v1/alerts takes: the template files and the config, both as text. */
export function alertmanagerUploadBody(render: RenderOptions, root = REPOSITORY_ROOT): string {
  const template = readFileSync(join(root, TEMPLATE_PATH), 'utf8').replace(/\n+$/, '');
  // Mimir refuses *_file settings and resolves `templates` against template_files by name.
  const config = renderAlertmanagerConfig({ ...render, credentials: 'inline', templates: [TEMPLATE_FILE_NAME] })
    .replace(/^(#.*\n)+/, '')
    .replace(/\n+$/, '');
  return toYaml({ template_files: { [TEMPLATE_FILE_NAME]: template }, alertmanager_config: config });
}

function authorization(target: { user?: string; token: string }): string {
  return target.user ? `Basic ${Buffer.from(`${target.user}:${target.token}`).toString('base64')}` : `Bearer ${target.token}`;
}

function rulerHeaders(ruler: NonNullable<PublishConfig['ruler']>): Record<string, string> {
  const headers: Record<string, string> = { 'Content-Type': 'application/yaml', Authorization: authorization(ruler) };
  if (ruler.datasourceUid) headers['X-Grafana-Alerting-Datasource-UID'] = ruler.datasourceUid;
  return headers;
}

/** Deletes the groups of our namespace that grafana/alerts no longer has (a renamed or removed group). */
async function deleteStaleGroups(config: PublishConfig, published: string[], options: PublishOptions, log: (line: string) => void): Promise<void> {
  const ruler = config.ruler;
  const namespace = ruler?.namespace ?? DEFAULT_NAMESPACE;
  const target = `${ruler?.url ?? '$GRAFANA_RULER_URL'}/config/v1/rules/${encodeURIComponent(namespace)}`;
  if (options.dryRun || !ruler) {
    log(`[dry-run] GET ${target}  then DELETE ${target}/<group> for each group not in grafana/alerts`);
    return;
  }
  const what = `listing namespace ${namespace}`;
  const listing = await send(target, { method: 'GET', headers: rulerHeaders(ruler) }, config.timeoutMs, what, [404]);
  if (listing.status === 404) return;
  let names: string[];
  try {
    names = groupNamesOfListing(listing.body);
  } catch (error) {
    throw new PublishError(`${what}: unreadable answer (${(error as Error).message})`);
  }
  for (const name of names.filter((n) => !published.includes(n))) {
    await send(`${target}/${encodeURIComponent(name)}`, { method: 'DELETE', headers: rulerHeaders(ruler) }, config.timeoutMs, `deleting rule group "${name}" (namespace ${namespace})`);
    log(`deleted rule group "${name}" from namespace ${namespace} (no longer in grafana/alerts)`);
  }
}

async function publishAlertmanager(config: PublishConfig, options: PublishOptions, log: (line: string) => void): Promise<void> {
  const alertmanager = config.alertmanager;
  const target = `${alertmanager?.url ?? '$GRAFANA_ALERTMANAGER_URL'}/api/v1/alerts`;
  if (!alertmanager && !options.dryRun) {
    log('GRAFANA_ALERTMANAGER_URL not set: Alertmanager configuration not published (see grafana/alertmanager/README.md)');
    return;
  }
  if (options.dryRun || !alertmanager || !alertmanager.render) {
    log(`[dry-run] POST ${target}  Alertmanager configuration from grafana/alertmanager (template_files + alertmanager_config)`);
    return;
  }
  let body: string;
  try {
    body = alertmanagerUploadBody(alertmanager.render);
  } catch (error) {
    if (error instanceof AlertmanagerConfigError) throw new ConfigError(`Alertmanager configuration: ${error.message}`);
    throw error;
  }
  const headers = { 'Content-Type': 'application/yaml', Authorization: authorization(alertmanager) };
  await send(target, { method: 'POST', headers, body }, config.timeoutMs, 'Alertmanager configuration');
  log('published the Alertmanager configuration (routing, inhibition, receivers, template)');
}

export async function publish(config: PublishConfig, options: PublishOptions, log: (line: string) => void): Promise<void> {
  if (options.rules) {
    const groups = loadRuleGroups();
    const ruler = config.ruler;
    const namespace = ruler?.namespace ?? DEFAULT_NAMESPACE;
    for (const { file, group } of groups) {
      const body = toYaml(withAbsoluteDashboardUrls(group, config.dashboardBaseUrl));
      const target = `${ruler?.url ?? '$GRAFANA_RULER_URL'}/config/v1/rules/${encodeURIComponent(namespace)}`;
      if (options.dryRun || !ruler) {
        log(`[dry-run] POST ${target}  rule group "${String(group.name)}" from ${file} (${(group.rules as YamlValue[]).length} rules)`);
        continue;
      }
      await send(target, { method: 'POST', headers: rulerHeaders(ruler), body }, config.timeoutMs, `rule group "${String(group.name)}" (namespace ${namespace})`);
      log(`published rule group "${String(group.name)}" to namespace ${namespace}`);
    }
    await deleteStaleGroups(config, groups.map(({ group }) => String(group.name)), options, log);
  }

  if (options.alertmanager) await publishAlertmanager(config, options, log);

  if (options.dashboards) {
    const grafana = config.grafana;
    if (!grafana && !options.dryRun) {
      log('GRAFANA_URL not set: dashboards not published (provision them from grafana/dashboards, or set GRAFANA_URL and GRAFANA_API_TOKEN)');
      return;
    }
    for (const { file, dashboard } of loadDashboards()) {
      const target = `${grafana?.url ?? '$GRAFANA_URL'}/api/dashboards/db`;
      if (options.dryRun || !grafana) {
        log(`[dry-run] POST ${target}  dashboard ${String(dashboard.uid)} from ${file}`);
        continue;
      }
      const payload = {
        dashboard: { ...dashboard, id: null },
        overwrite: true,
        message: 'grafana:publish from jwt-pizza-service',
        ...(grafana.folderUid ? { folderUid: grafana.folderUid } : {}),
      };
      await send(
        target,
        { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${grafana.token}` }, body: JSON.stringify(payload) },
        config.timeoutMs,
        `dashboard ${String(dashboard.uid)}`,
      );
      log(`published dashboard ${String(dashboard.uid)} (${String(dashboard.title)})`);
    }
  }
}

export function parseArguments(argv: string[]): PublishOptions {
  const only = ['--rules-only', '--dashboards-only', '--alertmanager-only'];
  const known = new Set(['--dry-run', ...only]);
  for (const arg of argv) if (!known.has(arg)) throw new ConfigError(`unknown argument ${arg} (use --dry-run, ${only.join(', ')})`);
  const chosen = only.filter((flag) => argv.includes(flag));
  if (chosen.length > 1) throw new ConfigError(`${chosen.join(' and ')} exclude each other`);
  const all = chosen.length === 0;
  return {
    dryRun: argv.includes('--dry-run'),
    rules: all || chosen[0] === '--rules-only',
    dashboards: all || chosen[0] === '--dashboards-only',
    alertmanager: all || chosen[0] === '--alertmanager-only',
  };
}

function readSecretFile(file: string | undefined): string | undefined {
  try {
    return file ? readFileSync(file, 'utf8').trim() : undefined;
  } catch {
    return undefined; // the render step reports the unreadable file
  }
}

async function main(): Promise<number> {
  // Webhook URLs carry their integration's token: they are secrets too.
  const secrets = [
    process.env.GRAFANA_RULER_TOKEN,
    process.env.GRAFANA_API_TOKEN,
    process.env.GRAFANA_ALERTMANAGER_TOKEN,
    process.env.ALERT_PAGE_WEBHOOK_URL,
    process.env.ALERT_TICKET_WEBHOOK_URL,
    ...[process.env.ALERT_PAGE_WEBHOOK_TOKEN_FILE, process.env.ALERT_TICKET_WEBHOOK_TOKEN_FILE].map((file) => readSecretFile(file)),
  ];
  try {
    const options = parseArguments(process.argv.slice(2));
    const config = readConfig(process.env, options);
    await publish(config, options, (line) => console.log(redact(line, secrets)));
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`grafana-publish: ${redact(message, secrets)}`);
    return error instanceof ConfigError ? 2 : 1;
  }
}

if (require.main === module) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
