// The generated Alertmanager configuration, checked by Debian's amtool (0.25) and against the
// catalogue: every alert routes where its severity says, and the inhibit rules say exactly what
// INHIBITIONS says. test/grafana/alertmanagerNotifications.test.ts proves it on a running Alertmanager.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALERTMANAGER_CONFIG_PATH, INHIBITIONS, PAGE_RECEIVER, routingTable, TICKET_RECEIVER } from '../../grafana/src/alertmanager';
import { SERVICE_SOURCE, TEAM } from '../../grafana/src/catalogue';
import { allAlerts } from '../../grafana/src/rules/definitions';
import { RULE_TEST_FILES } from '../../grafana/src/ruleTests';
import { alertAnnotations, alertLabels } from '../../grafana/src/rules/model';
import { parseYaml, YamlValue } from '../../grafana/src/yamlFile';
import { renderAlertmanagerConfig } from '../../scripts/alertmanager-config';
import { requiring } from '../helpers/requirements';
import { alertmanagerTools, runAmtool } from './alertmanagerTools';
import { REPOSITORY_ROOT } from './metricNames';

type Obj = { [key: string]: YamlValue };
const obj = (v: YamlValue | undefined): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});
const arr = (v: YamlValue | undefined): YamlValue[] => (Array.isArray(v) ? v : []);

const CONFIG_DIR = join(REPOSITORY_ROOT, 'grafana', 'alertmanager');
const CONFIG_FILE = join(REPOSITORY_ROOT, ALERTMANAGER_CONFIG_PATH);
const config = obj(parseYaml(readFileSync(CONFIG_FILE, 'utf8')));

/** Alertmanager's matcher semantics for the forms the file uses: name="v", name=~"re" (anchored). */
function matches(matcher: string, labels: Record<string, string>): boolean {
  const parsed = /^([A-Za-z_][A-Za-z0-9_]*)(=~|!=|!~|=)(".*")$/.exec(matcher);
  if (!parsed) throw new Error(`unexpected matcher ${matcher}`);
  const [, name, op, quoted] = parsed;
  const value = JSON.parse(quoted) as string;
  const actual = labels[name] ?? '';
  if (op === '=') return actual === value;
  if (op === '!=') return actual !== value;
  const regex = new RegExp(`^(?:${value})$`);
  return op === '=~' ? regex.test(actual) : !regex.test(actual);
}

/** Whether the file's inhibit_rules mute `target` while `source` fires. */
function inhibits(source: Record<string, string>, target: Record<string, string>): boolean {
  return arr(config.inhibit_rules).map(obj).some(
    (rule) =>
      arr(rule.source_matchers).every((m) => matches(String(m), source)) &&
      arr(rule.target_matchers).every((m) => matches(String(m), target)) &&
      arr(rule.equal).every((name) => (source[String(name)] ?? '') === (target[String(name)] ?? '')),
  );
}

const labelsOf = (alert: string, source = SERVICE_SOURCE): Record<string, string> => {
  const rule = allAlerts().find((r) => r.alert === alert);
  if (!rule) throw new Error(`no alert ${alert}`);
  return { alertname: alert, ...alertLabels(rule), source };
};

describe('Alertmanager configuration against the catalogue (grafana/alertmanager/alertmanager.yml)', () => {
  test('every page and ticket of the catalogue is in the routing table, routed by severity', () => {
    const table = routingTable();
    expect(table.map((row) => row.rule.alert)).toEqual(allAlerts().map((rule) => rule.alert));
    for (const row of table) expect(row.receiver).toBe(row.rule.severity === 'page' ? PAGE_RECEIVER : TICKET_RECEIVER);
    expect(new Set(table.map((row) => row.rule.severity))).toEqual(new Set(['page', 'ticket']));
  });

  const pairs = allAlerts().flatMap((source) => allAlerts().map((target) => [source.alert, target.alert] as const));
  const expected = new Set(INHIBITIONS.flatMap((i) => i.targets.map((t) => `${i.source.alert} -> ${t.alert}`)));

  test('the inhibit rules mute exactly the pairs INHIBITIONS lists, and only within one source', () => {
    const actual = pairs.filter(([source, target]) => source !== target && inhibits(labelsOf(source), labelsOf(target))).map(([s, t]) => `${s} -> ${t}`);
    expect(new Set(actual)).toEqual(expected);
    expect(expected.size).toBeGreaterThanOrEqual(5);
    for (const pair of expected) {
      const [source, target] = pair.split(' -> ');
      expect(inhibits(labelsOf(source, 'deployment-a'), labelsOf(target, 'deployment-b'))).toBe(false);
    }
  });

  test('the purchase page explains the factory alerts; nothing inhibits itself and no two alerts inhibit each other in a cycle', () => {
    const targetsOf = (name: string) => INHIBITIONS.filter((i) => i.source.alert === name).flatMap((i) => i.targets.map((t) => t.alert));
    expect(targetsOf('PizzaPurchaseFailures')).toEqual(expect.arrayContaining(['PizzaFactoryCircuitOpen', 'PizzaFactoryLatencyHigh', 'Http5xxRatioHigh']));
    const reachable = (from: string, seen = new Set<string>()): Set<string> => {
      for (const next of targetsOf(from)) if (!seen.has(next)) reachable(next, seen.add(next));
      return seen;
    };
    for (const rule of allAlerts()) expect(reachable(rule.alert).has(rule.alert)).toBe(false);
  });

  // Inhibition only holds while the inhibiting alert fires: a target still firing when its source
  // resolves is paged at once. Every promtool scenario where both fire must show the target inside
  // the source's interval, starting after it and ending before it.
  const overlapping = RULE_TEST_FILES.flatMap((file) =>
    file.scenarios.flatMap((scenario) =>
      INHIBITIONS.flatMap((inhibition) =>
        inhibition.targets.flatMap((target) => {
          const find = (alert: string) => scenario.expectations.filter((e) => e.alertname === alert);
          return find(target.alert).flatMap((t) =>
            find(inhibition.source.alert)
              .filter((s) => s.labels.source === t.labels.source)
              .map((s) => ({ scenario: scenario.name, source: s, target: t })),
          );
        }),
      ),
    ),
  );

  test('in the promtool scenarios, each inhibited alert fires strictly inside its inhibitor\'s firing interval', () => {
    expect(overlapping.map((o) => `${o.source.alertname} > ${o.target.alertname}`)).toContain('PizzaPurchaseFailures > PizzaFactoryLatencyHigh');
    for (const { scenario, source, target } of overlapping) {
      for (const [from, to] of target.firing) {
        const inside = source.firing.some(([sFrom, sTo]) => sFrom < from && to < sTo);
        if (!inside) throw new Error(`${scenario}: ${target.alertname} fires ${from}-${to}, not strictly inside ${source.alertname} ${JSON.stringify(source.firing)}`);
      }
    }
  });

  test('receivers are webhooks at .invalid placeholders: no URL or token is committed', () => {
    const receivers = arr(config.receivers).map(obj);
    expect(receivers.map((r) => r.name)).toEqual([PAGE_RECEIVER, TICKET_RECEIVER]);
    for (const receiver of receivers) {
      const [webhook] = arr(receiver.webhook_configs).map(obj);
      expect(new URL(String(webhook.url)).hostname).toMatch(/\.invalid$/);
      expect(webhook.send_resolved).toBe(true);
      expect(Object.keys(receiver)).toEqual(['name', 'webhook_configs']);
    }
  });

  test('factory alerts carry the admin action that ends the chaos; no annotation mentions a key', () => {
    for (const rule of allAlerts()) {
      const annotations = alertAnnotations(rule);
      if (rule.alert.startsWith('PizzaFactory') || rule.alert.startsWith('PizzaPurchase') || rule.alert === 'PizzaInvalidJwt') {
        expect(annotations.action).toContain('POST /api/order/factory/report');
      }
      expect(Object.values(annotations).join('\n')).not.toMatch(/api[_ -]?key|apiKey|FACTORY_API_KEY/i);
    }
  });
});

describe('npm run alertmanager:config (scripts/alertmanager-config.ts)', () => {
  const urls = { [PAGE_RECEIVER]: 'http://127.0.0.1:9/pages', [TICKET_RECEIVER]: 'http://127.0.0.1:9/tickets' };

  test('the rendered file keeps the tree and swaps in the URLs; scale touches only the routing timings', () => {
    const rendered = obj(parseYaml(renderAlertmanagerConfig({ urls, scale: (d) => `${d}-scaled` })));
    const route = obj(rendered.route);
    expect([route.group_wait, route.group_interval, route.repeat_interval]).toEqual(['10s-scaled', '5m-scaled', '24h-scaled']);
    expect(arr(route.routes).map((r) => obj(r).repeat_interval)).toEqual(['4h-scaled', '24h-scaled']);
    expect(rendered.inhibit_rules).toEqual(config.inhibit_rules);
    expect(arr(rendered.receivers).map((r) => obj(arr(obj(r).webhook_configs)[0]).url)).toEqual([urls[PAGE_RECEIVER], urls[TICKET_RECEIVER]]);
    expect(String(arr(rendered.templates)[0])).toBe(join(CONFIG_DIR, 'templates', '*.tmpl'));
  });

  test('bad URLs are refused by variable name, never echoed', () => {
    const render = (page: string) => () => renderAlertmanagerConfig({ urls: { ...urls, [PAGE_RECEIVER]: page } });
    expect(render('not a url secret-123')).toThrow(/^ALERT_PAGE_WEBHOOK_URL is not a URL$/);
    expect(render('ftp://example.org/x')).toThrow(/ALERT_PAGE_WEBHOOK_URL must be an http\(s\) URL/);
    expect(render('https://pizza-oncall-pages.invalid/set-ALERT_PAGE_WEBHOOK_URL')).toThrow(/still the placeholder/);
  });

  test('the CLI writes a 0600 file from the environment, and exits 2 naming what is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alertmanager-cli-'));
    try {
      const out = join(dir, 'alertmanager.yml');
      const env = { PATH: process.env.PATH, ALERT_PAGE_WEBHOOK_URL: urls[PAGE_RECEIVER], ALERT_TICKET_WEBHOOK_URL: urls[TICKET_RECEIVER] };
      const ok = await runCli(['--out', out], env);
      expect(ok.code).toBe(0);
      expect(statSync(out).mode & 0o777).toBe(0o600);
      expect(readFileSync(out, 'utf8')).toContain(`url: ${urls[TICKET_RECEIVER]}`);
      const missing = await runCli([], { PATH: process.env.PATH, ALERT_TICKET_WEBHOOK_URL: urls[TICKET_RECEIVER] });
      expect(missing.code).toBe(2);
      expect(missing.output).toContain('set ALERT_PAGE_WEBHOOK_URL');
      expect(missing.output).not.toContain(urls[TICKET_RECEIVER]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  const tsx = join(REPOSITORY_ROOT, 'node_modules', '.bin', 'tsx');
  return new Promise((resolve) => {
    execFile(tsx, ['scripts/alertmanager-config.ts', ...args], { cwd: REPOSITORY_ROOT, env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

const describeWithAmtool = requiring(alertmanagerTools()).describe;

describeWithAmtool('amtool (Debian prometheus-alertmanager)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'alertmanager-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('amtool check-config accepts the committed file and its templates', async () => {
    const result = await runAmtool(['check-config', 'alertmanager.yml'], CONFIG_DIR);
    expect(result.output).toMatch(/3 inhibit rules|inhibit rules/);
    expect(result.output).toMatch(/1 templates/);
    if (result.code !== 0) throw new Error(result.output);
  });

  test('amtool check-config accepts the rendered file, with bearer token files and a time scale', async () => {
    const tokenFile = join(dir, 'page-token');
    writeFileSync(tokenFile, 'page-token-value\n', { mode: 0o600 });
    const rendered = renderAlertmanagerConfig({
      urls: { [PAGE_RECEIVER]: 'https://oncall.example/integrations/v1/alertmanager/abc/', [TICKET_RECEIVER]: 'http://127.0.0.1:9/tickets' },
      tokenFiles: { [PAGE_RECEIVER]: tokenFile },
      scale: () => '2s',
    });
    expect(rendered).toContain(`credentials_file: ${tokenFile}`);
    expect(rendered).not.toContain('page-token-value');
    const file = join(dir, 'rendered.yml');
    writeFileSync(file, rendered);
    const result = await runAmtool(['check-config', file]);
    if (result.code !== 0) throw new Error(result.output);
    expect(result.output).toMatch(/SUCCESS/);
  });

  // One case per alert of the catalogue (each severity, each inhibited alert: inhibition mutes, it
  // does not re-route, so an inhibited alert still reaches its receiver once its inhibitor ends).
  const cases = [
    ...routingTable().map(({ rule, receiver }) => ({ name: rule.alert, labels: labelsOf(rule.alert), receiver })),
    { name: 'an alert without our team label', labels: { alertname: 'SomethingElse', severity: 'page', source: 'other' }, receiver: TICKET_RECEIVER },
  ];

  test.each(cases)('amtool config routes test: $name -> $receiver', async ({ labels, receiver }) => {
    const args = Object.entries(labels).map(([name, value]) => `${name}=${value}`);
    const result = await runAmtool(['config', 'routes', 'test', `--config.file=${CONFIG_FILE}`, `--verify.receivers=${receiver}`, ...args]);
    if (result.code !== 0) throw new Error(result.output);
    expect(result.output.split('\n')[0]).toBe(receiver);
  });

  test('amtool config routes test fails on a wrong receiver (the cases above can fail)', async () => {
    const labels = labelsOf('PizzaPurchaseFailures');
    const args = Object.entries(labels).map(([name, value]) => `${name}=${value}`);
    const result = await runAmtool(['config', 'routes', 'test', `--config.file=${CONFIG_FILE}`, `--verify.receivers=${TICKET_RECEIVER}`, ...args]);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain(PAGE_RECEIVER);
    expect(labels.team).toBe(TEAM);
  });
});
