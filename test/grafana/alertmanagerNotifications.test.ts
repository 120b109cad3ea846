// The generated configuration on a real Alertmanager (Debian 0.25) on loopback: alerts shaped like
// the rules' (labels and annotations from the catalogue) are posted to /api/v2/alerts, and a local
// receiver records what would have reached the pager. Timing is scaled to seconds the way the game
// day scales it, through renderAlertmanagerConfig({ scale }).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { PAGE_RECEIVER, TICKET_RECEIVER } from '../../grafana/src/alertmanager';
import { SERVICE_SOURCE } from '../../grafana/src/catalogue';
import { allAlerts } from '../../grafana/src/rules/definitions';
import { alertAnnotations, alertLabels, renderTemplate } from '../../grafana/src/rules/model';
import { parseYaml, toYaml, YamlValue } from '../../grafana/src/yamlFile';
import { renderAlertmanagerConfig } from '../../scripts/alertmanager-config';
import { requiring } from '../helpers/requirements';
import { alertmanagerTools, RunningAlertmanager, startAlertmanager } from './alertmanagerTools';

type Obj = { [key: string]: YamlValue };

interface WebhookAlert {
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface Notification {
  path: string;
  status: string;
  receiver: string;
  alerts: WebhookAlert[];
}
interface SlackMessage {
  attachments: { title: string; text: string }[];
}

const OTHER_SOURCE = 'jwt-pizza-service-eu';
const BADJWT_SOURCE = 'jwt-pizza-service-badjwt';

/**
 * An alert as Prometheus would send it for `name` on `source`, annotations rendered. startsAt is
 * now, as Prometheus sends the time the alert started firing; Alertmanager skips group_wait for a
 * new group whose alert started longer than group_wait ago.
 */
function alert(name: string, source: string, extraLabels: Record<string, string> = {}, endsInMs = 10 * 60_000) {
  const rule = allAlerts().find((r) => r.alert === name);
  if (!rule) throw new Error(`no alert ${name}`);
  const labels = { alertname: name, ...alertLabels(rule), source, ...extraLabels };
  const annotations = Object.fromEntries(Object.entries(alertAnnotations(rule)).map(([k, v]) => [k, renderTemplate(v, { value: '42%', labels })]));
  const now = Date.now();
  return { labels, annotations, startsAt: new Date(Math.min(now, now + endsInMs - 1_000)).toISOString(), endsAt: new Date(now + endsInMs).toISOString(), generatorURL: 'http://127.0.0.1/graph' };
}

async function post(am: RunningAlertmanager, alerts: ReturnType<typeof alert>[]): Promise<void> {
  const response = await fetch(`${am.url}/api/v2/alerts`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(alerts) });
  if (!response.ok) throw new Error(`POST /api/v2/alerts: ${response.status} ${await response.text()}`);
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const key = (a: { labels: Record<string, string> }) => `${a.labels.alertname}@${a.labels.source}`;

const describeWithAlertmanager = requiring(alertmanagerTools()).describe;

describeWithAlertmanager('notifications through a real Alertmanager (generated config, scaled timing)', () => {
  const notifications: Notification[] = [];
  const slack: SlackMessage[] = [];
  let server: Server;
  let am: RunningAlertmanager;
  let dir: string;

  beforeAll(async () => {
    const app = express();
    app.use(express.json({ limit: '5mb' }));
    app.post(['/pages', '/tickets'], (req, res) => {
      const body = req.body as Omit<Notification, 'path'>;
      notifications.push({ path: req.path, status: body.status, receiver: body.receiver, alerts: body.alerts });
      res.json({ ok: true });
    });
    app.post('/slack', (req, res) => {
      slack.push(req.body as SlackMessage);
      res.send('ok');
    });
    server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), 'alertmanager-live-'));

    // group_wait 10s -> 1s, group_interval 5m -> 2s; repeat intervals (hours) stay out of reach.
    const scaled: Record<string, string> = { '10s': '1s', '5m': '2s' };
    const rendered = parseYaml(
      renderAlertmanagerConfig({
        urls: { [PAGE_RECEIVER]: `${base}/pages`, [TICKET_RECEIVER]: `${base}/tickets` },
        scale: (duration) => scaled[duration] ?? duration,
      }),
    ) as Obj;
    // Test only: a Slack-style integration beside the page webhook renders the notification template,
    // which Alertmanager's fixed webhook JSON never does.
    const receivers = (rendered.receivers as Obj[]).map((receiver) =>
      receiver.name === PAGE_RECEIVER
        ? { ...receiver, slack_configs: [{ api_url: `${base}/slack`, channel: '#pages', send_resolved: true, title: '{{ template "pizza.title" . }}', text: '{{ template "pizza.message" . }}' }] }
        : receiver,
    );
    const file = join(dir, 'alertmanager.yml');
    writeFileSync(file, toYaml({ ...rendered, receivers }));
    am = await startAlertmanager(file, join(dir, 'data'));
  }, 30_000);

  afterAll(async () => {
    await am?.stop();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('one page per incident: the purchase page and the invalid-JWT page notify, what they explain does not, and one source never mutes another', async () => {
    // The inhibiting pages first, as the rules' pending periods order them (for 1m against 3m, none for
    // invalid JWTs), then what they explain.
    await post(am, [alert('PizzaPurchaseFailures', SERVICE_SOURCE), alert('PizzaInvalidJwt', BADJWT_SOURCE)]);
    await sleep(500);
    await post(am, [
      // A bursty factory outage on the main deployment: everything the purchase page explains fires too.
      alert('PizzaFactoryCircuitOpen', SERVICE_SOURCE),
      alert('PizzaFactoryLatencyHigh', SERVICE_SOURCE),
      alert('Http5xxRatioHigh', SERVICE_SOURCE),
      alert('ScannerProbesDetected', SERVICE_SOURCE, { category: 'dotenv' }),
      // Another deployment's circuit ticket is its own news.
      alert('PizzaFactoryCircuitOpen', OTHER_SOURCE),
      // badjwt chaos on a third: the invalid-JWT page names the cause; purchase page and circuit ticket stay quiet.
      alert('PizzaPurchaseFailures', BADJWT_SOURCE),
      alert('PizzaFactoryCircuitOpen', BADJWT_SOURCE),
    ]);

    const expected = [`PizzaPurchaseFailures@${SERVICE_SOURCE}`, `ScannerProbesDetected@${SERVICE_SOURCE}`, `PizzaFactoryCircuitOpen@${OTHER_SOURCE}`, `PizzaInvalidJwt@${BADJWT_SOURCE}`];
    await waitFor('the four notifications', () => (notifications.length >= expected.length ? true : undefined));
    await sleep(3_000); // two more group_intervals: anything else would have been sent by now

    expect(notifications.every((n) => n.status === 'firing')).toBe(true);
    expect(notifications.flatMap((n) => n.alerts.map(key)).sort()).toEqual([...expected].sort());
    expect(notifications.filter((n) => n.receiver === PAGE_RECEIVER).flatMap((n) => n.alerts.map(key)).sort()).toEqual(
      [`PizzaInvalidJwt@${BADJWT_SOURCE}`, `PizzaPurchaseFailures@${SERVICE_SOURCE}`],
    );
    for (const n of notifications) expect(n.path).toBe(n.receiver === PAGE_RECEIVER ? '/pages' : '/tickets');

    // Alertmanager's own view: the muted alerts are suppressed with the inhibiting alert named.
    const response = await fetch(`${am.url}/api/v2/alerts`);
    const alerts = (await response.json()) as { labels: Record<string, string>; fingerprint: string; status: { state: string; inhibitedBy: string[] } }[];
    const byFingerprint = new Map(alerts.map((a) => [a.fingerprint, key(a)]));
    const inhibited = Object.fromEntries(alerts.filter((a) => a.status.inhibitedBy.length > 0).map((a) => [key(a), a.status.inhibitedBy.map((f) => byFingerprint.get(f)).sort()]));
    // Alertmanager names the first inhibit rule that matched; for the chained case either explains it.
    const chained = `PizzaFactoryCircuitOpen@${BADJWT_SOURCE}`;
    expect([[`PizzaInvalidJwt@${BADJWT_SOURCE}`], [`PizzaPurchaseFailures@${BADJWT_SOURCE}`]]).toContainEqual(inhibited[chained]);
    delete inhibited[chained];
    expect(inhibited).toEqual({
      [`PizzaFactoryCircuitOpen@${SERVICE_SOURCE}`]: [`PizzaPurchaseFailures@${SERVICE_SOURCE}`],
      [`PizzaFactoryLatencyHigh@${SERVICE_SOURCE}`]: [`PizzaPurchaseFailures@${SERVICE_SOURCE}`],
      [`Http5xxRatioHigh@${SERVICE_SOURCE}`]: [`PizzaPurchaseFailures@${SERVICE_SOURCE}`],
      [`PizzaPurchaseFailures@${BADJWT_SOURCE}`]: [`PizzaInvalidJwt@${BADJWT_SOURCE}`],
    });
    for (const a of alerts) expect(a.status.state).toBe(a.status.inhibitedBy.length > 0 ? 'suppressed' : 'active');
  }, 40_000);

  test('what the pager shows: summary, runbook, dashboard and the admin action first, and never a key', async () => {
    const page = notifications.find((n) => n.receiver === PAGE_RECEIVER && n.alerts[0]?.labels.alertname === 'PizzaPurchaseFailures');
    expect(page?.alerts[0].annotations).toMatchObject({
      runbook_url: expect.stringMatching(/docs\/runbooks\/pizza-purchase-failures\.md$/),
      action: expect.stringContaining('POST /api/order/factory/report'),
    });

    const message = await waitFor('the Slack-style page with the purchase alert', () =>
      slack.flatMap((m) => m.attachments).find((a) => a.title.includes('PizzaPurchaseFailures')),
    );
    expect(message.title).toBe(`[FIRING:1] PizzaPurchaseFailures on ${SERVICE_SOURCE}: Pizza purchases are failing (42% over 10m)`);
    const lines = message.text.split('\n');
    expect(lines[0]).toBe('Pizza purchases are failing (42% over 10m)');
    expect(lines[1]).toBe('Runbook: https://github.com/jwt-pizza/jwt-pizza-service/blob/main/docs/runbooks/pizza-purchase-failures.md');
    expect(lines[2]).toMatch(/^Dashboard: \/d\/jwt-pizza-orders-factory\/.*viewPanel=9$/);
    expect(lines[3]).toMatch(/^Action: Declare one incident\. End the factory chaos: POST \/api\/order\/factory\/report /);
    const everything = JSON.stringify([notifications, slack]);
    expect(everything).not.toMatch(/api[_-]?key/i);
  });

  test('when the purchase page resolves, exactly one resolve reaches the pager, and the muted alerts stay silent', async () => {
    const before = notifications.length;
    const resolved = ['PizzaPurchaseFailures', 'PizzaFactoryCircuitOpen', 'PizzaFactoryLatencyHigh', 'Http5xxRatioHigh'].map((name) => alert(name, SERVICE_SOURCE, {}, -1_000));
    await post(am, resolved);
    await waitFor('the resolve notification', () => (notifications.length > before ? true : undefined));
    await sleep(3_000);

    const after = notifications.slice(before);
    expect(after.map((n) => [n.receiver, n.status, n.alerts.map(key).join(',')])).toEqual([
      [PAGE_RECEIVER, 'resolved', `PizzaPurchaseFailures@${SERVICE_SOURCE}`],
    ]);
  }, 30_000);
});
