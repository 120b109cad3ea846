// Renders the deployable Alertmanager configuration from grafana/alertmanager/alertmanager.yml:
// the placeholder webhook URLs become the environment's, and optional bearer tokens are attached.
// The committed file never holds a URL or token; the rendered one does, so it is written 0600.
//
//   ALERT_PAGE_WEBHOOK_URL=https://... ALERT_TICKET_WEBHOOK_URL=https://... \
//     npm run alertmanager:config -- --out /etc/alertmanager/alertmanager.yml
//   (without --out the configuration goes to stdout)
//
// Optional: ALERT_PAGE_WEBHOOK_TOKEN_FILE / ALERT_TICKET_WEBHOOK_TOKEN_FILE, a file holding a bearer
// token for that receiver (http_config.authorization.credentials_file). The game day and the tests
// call renderAlertmanagerConfig() directly, with loopback URLs and a time scale.

import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ALERTMANAGER_CONFIG_PATH, RECEIVERS, ReceiverName, TEMPLATE_GLOB } from '../grafana/src/alertmanager';
import { parseYaml, toYaml, YamlValue } from '../grafana/src/yamlFile';

type YamlMap = { [key: string]: YamlValue };

export const REPOSITORY_ROOT = resolve(__dirname, '..');
export const RECEIVER_NAMES = Object.keys(RECEIVERS) as ReceiverName[];
/** Where the committed templates are; the rendered file names them by absolute path. */
export const TEMPLATES_DIR = join(REPOSITORY_ROOT, 'grafana', 'alertmanager', TEMPLATE_GLOB.split('/')[0]);

export class AlertmanagerConfigError extends Error {}

export interface RenderOptions {
  /** Webhook URL of each receiver (http or https). */
  urls: Record<ReceiverName, string>;
  /** A file holding a bearer token, per receiver (optional). */
  tokenFiles?: Partial<Record<ReceiverName, string>>;
  /**
   * How a token reaches the config: `file` (credentials_file, read by Alertmanager at send time) or
   * `inline` (the token itself: Mimir / Grafana Cloud refuse *_file settings). Default `file`.
   */
  credentials?: 'file' | 'inline';
  /** The `templates:` list. Default: the repository's template directory, by absolute path. */
  templates?: string[];
  /** Applied to every group_wait, group_interval and repeat_interval of the routing tree (game day time scale). */
  scale?: (duration: string) => string;
}

const isMap = (value: YamlValue | undefined): value is YamlMap => !!value && typeof value === 'object' && !Array.isArray(value);

function checkUrl(name: ReceiverName, url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AlertmanagerConfigError(`${RECEIVERS[name].urlEnv} is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new AlertmanagerConfigError(`${RECEIVERS[name].urlEnv} must be an http(s) URL`);
  if (parsed.hostname.endsWith('.invalid')) throw new AlertmanagerConfigError(`${RECEIVERS[name].urlEnv} is still the placeholder`);
  return url;
}

const TIMING_KEYS = ['group_wait', 'group_interval', 'repeat_interval'];

function scaleRoute(route: YamlMap, scale: (duration: string) => string): YamlMap {
  const out: YamlMap = { ...route };
  for (const key of TIMING_KEYS) if (typeof out[key] === 'string') out[key] = scale(out[key]);
  if (Array.isArray(out.routes)) out.routes = out.routes.map((child) => (isMap(child) ? scaleRoute(child, scale) : child));
  return out;
}

/** The deployable configuration as YAML text. Throws AlertmanagerConfigError on bad input. */
export function renderAlertmanagerConfig(
  options: RenderOptions,
  source: string = readFileSync(join(REPOSITORY_ROOT, ALERTMANAGER_CONFIG_PATH), 'utf8'),
): string {
  const document = parseYaml(source);
  if (!isMap(document) || !isMap(document.route) || !Array.isArray(document.receivers)) {
    throw new AlertmanagerConfigError(`${ALERTMANAGER_CONFIG_PATH} has no route or receivers`);
  }
  const receivers = document.receivers.map((receiver) => {
    if (!isMap(receiver) || typeof receiver.name !== 'string' || !(receiver.name in RECEIVERS)) {
      throw new AlertmanagerConfigError(`${ALERTMANAGER_CONFIG_PATH}: unexpected receiver ${JSON.stringify(isMap(receiver) ? receiver.name : receiver)}`);
    }
    const name = receiver.name as ReceiverName;
    const url = checkUrl(name, options.urls[name]);
    const tokenFile = options.tokenFiles?.[name];
    let authorization: YamlMap | undefined;
    if (tokenFile) {
      if (options.credentials === 'inline') {
        const token = readFileSync(tokenFile, 'utf8').trim();
        if (!token) throw new AlertmanagerConfigError(`${RECEIVERS[name].tokenFileEnv} names an empty file`);
        authorization = { type: 'Bearer', credentials: token };
      } else {
        authorization = { type: 'Bearer', credentials_file: resolve(tokenFile) };
      }
    }
    const webhooks = Array.isArray(receiver.webhook_configs) ? receiver.webhook_configs : [];
    return {
      ...receiver,
      webhook_configs: webhooks.map((webhook) => ({
        ...(isMap(webhook) ? webhook : {}),
        url,
        ...(authorization ? { http_config: { authorization } } : {}),
      })),
    };
  });
  const rendered: YamlMap = {
    ...document,
    templates: options.templates ?? [join(TEMPLATES_DIR, '*.tmpl')],
    route: options.scale ? scaleRoute(document.route, options.scale) : document.route,
    receivers,
  };
  return toYaml(
    rendered,
    `Rendered from ${ALERTMANAGER_CONFIG_PATH} by npm run alertmanager:config. Holds webhook URLs: never commit it.`,
  );
}

/** Render options from ALERT_*_WEBHOOK_URL / ALERT_*_WEBHOOK_TOKEN_FILE. */
export function renderOptionsFromEnv(env: NodeJS.ProcessEnv): RenderOptions {
  const value = (name: string) => (env[name] ?? '').trim() || undefined;
  const missing = RECEIVER_NAMES.map((name) => RECEIVERS[name].urlEnv).filter((name) => !value(name));
  if (missing.length > 0) throw new AlertmanagerConfigError(`set ${missing.join(' and ')} (the receivers' webhook URLs)`);
  const urls = Object.fromEntries(RECEIVER_NAMES.map((name) => [name, value(RECEIVERS[name].urlEnv) as string])) as Record<ReceiverName, string>;
  const tokenFiles: Partial<Record<ReceiverName, string>> = {};
  for (const name of RECEIVER_NAMES) {
    const file = value(RECEIVERS[name].tokenFileEnv);
    if (file) tokenFiles[name] = file;
  }
  return { urls, tokenFiles };
}

function main(argv: string[]): number {
  try {
    const outIndex = argv.indexOf('--out');
    const unknown = argv.filter((_arg, index) => outIndex < 0 || (index !== outIndex && index !== outIndex + 1));
    if (unknown.length > 0 || (outIndex >= 0 && !argv[outIndex + 1])) {
      throw new AlertmanagerConfigError('usage: npm run alertmanager:config [-- --out <file>]');
    }
    const text = renderAlertmanagerConfig(renderOptionsFromEnv(process.env));
    if (outIndex < 0) {
      process.stdout.write(text);
      return 0;
    }
    const out = argv[outIndex + 1];
    writeFileSync(out, text, { mode: 0o600 });
    chmodSync(out, 0o600);
    console.error(`alertmanager-config: wrote ${out} (mode 0600)`);
    return 0;
  } catch (error) {
    // Messages name variables, never their values: a URL may carry the integration token.
    const message = error instanceof AlertmanagerConfigError ? error.message : error instanceof Error ? error.message : String(error);
    console.error(`alertmanager-config: ${message}`);
    return error instanceof AlertmanagerConfigError ? 2 : 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
