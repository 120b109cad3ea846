// Publishes the alert rules (grafana/alerts/*.yml, one rule group per request) to a Prometheus ruler
// API, and optionally the dashboards (grafana/dashboards/*.json) to Grafana.
//
//   npm run grafana:publish                  (tsx scripts/grafana-publish.ts)
//   npm run grafana:publish -- --dry-run     show what would be sent, send nothing
//   npm run grafana:publish -- --rules-only | --dashboards-only
//
// Rules: POST {GRAFANA_RULER_URL}/config/v1/rules/{namespace}, body = one rule group as YAML.
//   Grafana Cloud / Mimir: GRAFANA_RULER_URL=https://prometheus-prod-XX-....grafana.net/api/prom,
//     GRAFANA_RULER_USER=<metrics instance id>, GRAFANA_RULER_TOKEN=<token with rules:write> (basic auth).
//   Self-hosted Grafana 12+ (imports them as Grafana-managed rules, notified by the provisioned
//     contact points): GRAFANA_RULER_URL=http://grafana:3000/api/convert/prometheus,
//     GRAFANA_RULER_TOKEN=<service account token> (bearer, no user), GRAFANA_RULER_DATASOURCE_UID=prometheus.
// Dashboards (when GRAFANA_URL is set): POST {GRAFANA_URL}/api/dashboards/db with GRAFANA_API_TOKEN.
// Tokens are never printed; any error message is scrubbed of them.

import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseYaml, toYaml, YamlValue } from '../grafana/src/yaml';

type YamlMap = { [key: string]: YamlValue };

export const REPOSITORY_ROOT = resolve(__dirname, '..');
const DEFAULT_NAMESPACE = 'jwt-pizza-service';
const DEFAULT_TIMEOUT_MS = 15_000;

export interface PublishConfig {
  ruler?: { url: string; user?: string; token: string; namespace: string; datasourceUid?: string };
  grafana?: { url: string; token: string; folderUid?: string };
  /** Prefix for relative dashboard_url annotations, so links in notifications are absolute. */
  dashboardBaseUrl?: string;
  timeoutMs: number;
}

export interface PublishOptions {
  dryRun: boolean;
  rules: boolean;
  dashboards: boolean;
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

  if (options.rules && !config.ruler && !options.dryRun) {
    throw new ConfigError(
      'GRAFANA_RULER_URL is not set. Set GRAFANA_RULER_URL, GRAFANA_RULER_USER (instance id) and GRAFANA_RULER_TOKEN, ' +
        'or pass --dashboards-only (with GRAFANA_URL and GRAFANA_API_TOKEN).',
    );
  }
  if (options.dashboards && !options.rules && !config.grafana && !options.dryRun) {
    throw new ConfigError('--dashboards-only needs GRAFANA_URL and GRAFANA_API_TOKEN');
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

async function send(url: string, init: RequestInit, timeoutMs: number, what: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    throw new PublishError(`${what}: request to ${url} failed: ${reason}`);
  }
  if (response.ok) return;
  const body = (await response.text().catch(() => '')).replace(/\s+/g, ' ').trim().slice(0, 500);
  throw new PublishError(`${what}: ${url} answered HTTP ${response.status} ${response.statusText}${body ? `: ${body}` : ''}`);
}

function rulerAuthorization(ruler: NonNullable<PublishConfig['ruler']>): string {
  return ruler.user ? `Basic ${Buffer.from(`${ruler.user}:${ruler.token}`).toString('base64')}` : `Bearer ${ruler.token}`;
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
      const headers: Record<string, string> = { 'Content-Type': 'application/yaml', Authorization: rulerAuthorization(ruler) };
      if (ruler.datasourceUid) headers['X-Grafana-Alerting-Datasource-UID'] = ruler.datasourceUid;
      await send(target, { method: 'POST', headers, body }, config.timeoutMs, `rule group "${String(group.name)}" (namespace ${namespace})`);
      log(`published rule group "${String(group.name)}" to namespace ${namespace}`);
    }
  }

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
  const known = new Set(['--dry-run', '--rules-only', '--dashboards-only']);
  for (const arg of argv) if (!known.has(arg)) throw new ConfigError(`unknown argument ${arg} (use --dry-run, --rules-only, --dashboards-only)`);
  if (argv.includes('--rules-only') && argv.includes('--dashboards-only')) throw new ConfigError('--rules-only and --dashboards-only exclude each other');
  return { dryRun: argv.includes('--dry-run'), rules: !argv.includes('--dashboards-only'), dashboards: !argv.includes('--rules-only') };
}

async function main(): Promise<number> {
  const secrets = [process.env.GRAFANA_RULER_TOKEN, process.env.GRAFANA_API_TOKEN];
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
