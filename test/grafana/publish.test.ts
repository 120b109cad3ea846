// scripts/grafana-publish.ts against a local fake of the Mimir ruler and Grafana HTTP APIs.
// The script runs as a child process, as `npm run grafana:publish` would run it.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { ALERTMANAGER_CONFIG_PATH, TEMPLATE_FILE_NAME, TEMPLATE_PATH } from '../../grafana/src/alertmanager';
import { parseYaml, toYaml, YamlValue } from '../../grafana/src/yamlFile';
import { groupNamesOfListing, loadDashboards, loadRuleGroups, redact, withAbsoluteDashboardUrls } from '../../scripts/grafana-publish';
import { requiring } from '../helpers/requirements';
import { alertmanagerTools, runAmtool } from './alertmanagerTools';
import { REPOSITORY_ROOT } from './metricNames';

const RULER_USER = '123456';
const RULER_TOKEN = 'glc_ruler-secret-token-abc';
const GRAFANA_TOKEN = 'glsa_grafana-secret-token-xyz';
const ALERTMANAGER_USER = '654321';
const ALERTMANAGER_TOKEN = 'glc_alertmanager-secret-token-def';
const PAGE_WEBHOOK_URL = 'https://oncall.example/integrations/v1/alertmanager/page-url-secret-123/';
const TICKET_WEBHOOK_URL = 'https://tickets.example/hooks/ticket-url-secret-456';
const PAGE_BEARER = 'page-bearer-secret-789';
/** A group the ruler still has from an older version of grafana/alerts. */
const STALE_GROUP = 'jwt-pizza-service-retired: old';

interface Received {
  method: string;
  path: string;
  authorization?: string;
  contentType?: string;
  datasourceUid?: string;
  body: unknown;
}

interface Fake {
  baseUrl: string;
  received: Received[];
  /** Status to answer on the next matching requests (default: success). */
  failRules?: number;
  failDashboards?: number;
  failAlertmanager?: number;
  /** Answer to GET of the namespace: YAML text, or a status (404: the namespace does not exist). */
  listing?: string | number;
  close: () => Promise<void>;
}

/** The namespace as Mimir lists it (Go YAML: 4-space indentation, nested rules): ours plus a stale group. */
function rulerListing(namespace: string, names: string[]): string {
  const groups = names.map((name) => ({ name, interval: '1m', rules: [{ alert: 'X', expr: 'up == 0', labels: { name: 'not-a-group' } }] }));
  return toYaml({ [namespace]: groups }).replace(/^( +)/gm, (indent) => ' '.repeat(indent.length * 2));
}

async function startFake(): Promise<Fake> {
  const received: Received[] = [];
  const fake = { received } as Fake;
  const app = express();
  app.use(express.text({ type: 'application/yaml', limit: '5mb' }));
  app.use(express.json({ limit: '5mb' }));
  const record = (req: express.Request) =>
    received.push({
      method: req.method,
      path: req.path,
      authorization: req.get('authorization'),
      contentType: req.get('content-type'),
      datasourceUid: req.get('x-grafana-alerting-datasource-uid'),
      body: req.body as unknown,
    });

  const rulerAuthorized = (req: express.Request, res: express.Response) => {
    const basic = `Basic ${Buffer.from(`${RULER_USER}:${RULER_TOKEN}`).toString('base64')}`;
    if (req.get('authorization') === basic || req.get('authorization') === `Bearer ${RULER_TOKEN}`) return true;
    res.status(401).send('authentication error: invalid token');
    return false;
  };

  app.get('/api/prom/config/v1/rules/:namespace', (req, res) => {
    record(req);
    if (!rulerAuthorized(req, res)) return;
    if (typeof fake.listing === 'number') {
      res.status(fake.listing).send('no rule groups found');
      return;
    }
    res.type('application/yaml').send(fake.listing ?? rulerListing(req.params.namespace, [...ruleGroups.map((g) => String(g.group.name)), STALE_GROUP]));
  });

  app.delete('/api/prom/config/v1/rules/:namespace/:group', (req, res) => {
    record(req);
    if (!rulerAuthorized(req, res)) return;
    res.status(202).json({ status: 'success' });
  });

  app.post('/alertmanager/api/v1/alerts', (req, res) => {
    record(req);
    if (req.get('authorization') !== `Basic ${Buffer.from(`${ALERTMANAGER_USER}:${ALERTMANAGER_TOKEN}`).toString('base64')}`) {
      res.status(401).send('authentication error');
      return;
    }
    if (fake.failAlertmanager) {
      res.status(fake.failAlertmanager).send('error validating Alertmanager config: bad');
      return;
    }
    res.status(201).send('');
  });

  app.post('/api/prom/config/v1/rules/:namespace', (req, res) => {
    record(req);
    if (!rulerAuthorized(req, res)) return;
    if (!req.is('application/yaml') || typeof req.body !== 'string') {
      res.status(415).send('expected application/yaml');
      return;
    }
    if (fake.failRules) {
      res.status(fake.failRules).send(`error validating rule group: group "${String(/name: (\S+)/.exec(req.body)?.[1])}" rejected`);
      return;
    }
    res.status(202).json({ status: 'success' });
  });

  app.post('/api/dashboards/db', (req, res) => {
    record(req);
    if (req.get('authorization') !== `Bearer ${GRAFANA_TOKEN}`) {
      res.status(401).json({ message: 'invalid API key' });
      return;
    }
    if (fake.failDashboards) {
      res.status(fake.failDashboards).json({ message: 'internal error' });
      return;
    }
    const body = req.body as { dashboard?: { uid?: string } };
    res.status(200).json({ status: 'success', uid: body.dashboard?.uid, version: 1 });
  });

  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  fake.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () => new Promise((resolve) => server.close(() => resolve()));
  return fake;
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function runPublish(env: Record<string, string>, args: string[] = []): Promise<RunResult> {
  const tsx = join(REPOSITORY_ROOT, 'node_modules', '.bin', 'tsx');
  const cleanEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...env };
  return new Promise((resolve) => {
    execFile(tsx, ['scripts/grafana-publish.ts', ...args], { cwd: REPOSITORY_ROOT, env: cleanEnv, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const ruleGroups = loadRuleGroups();
const dashboards = loadDashboards();

describe('grafana:publish (scripts/grafana-publish.ts)', () => {
  let fake: Fake;
  let env: Record<string, string>;

  beforeEach(async () => {
    fake = await startFake();
    env = {
      GRAFANA_RULER_URL: `${fake.baseUrl}/api/prom/`,
      GRAFANA_RULER_USER: RULER_USER,
      GRAFANA_RULER_TOKEN: RULER_TOKEN,
      GRAFANA_URL: fake.baseUrl,
      GRAFANA_API_TOKEN: GRAFANA_TOKEN,
      GRAFANA_FOLDER_UID: 'jwt-pizza',
    };
  });

  afterEach(async () => {
    await fake.close();
  });

  test('when the APIs accept, then each rule group and each dashboard is posted once, authenticated, and the tokens are never printed', async () => {
    const result = await runPublish(env);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const ruleRequests = fake.received.filter((r) => r.method === 'POST' && r.path.startsWith('/api/prom/'));
    expect(ruleRequests.map((r) => r.path)).toEqual(ruleGroups.map(() => '/api/prom/config/v1/rules/jwt-pizza-service'));
    for (const [index, request] of ruleRequests.entries()) {
      expect(request.method).toBe('POST');
      expect(request.contentType).toBe('application/yaml');
      expect(request.authorization).toBe(`Basic ${Buffer.from(`${RULER_USER}:${RULER_TOKEN}`).toString('base64')}`);
      // The body is exactly one rule group, as in the file, with dashboard links made absolute.
      expect(parseYaml(request.body as string)).toEqual(withAbsoluteDashboardUrls(ruleGroups[index].group, fake.baseUrl));
    }
    const firstAlert = (parseYaml(ruleRequests[0].body as string) as { rules: { annotations?: { dashboard_url?: string } }[] }).rules.find((r) => r.annotations);
    expect(firstAlert?.annotations?.dashboard_url).toMatch(new RegExp(`^${fake.baseUrl}/d/`));

    const dashboardRequests = fake.received.filter((r) => r.path === '/api/dashboards/db');
    expect(dashboardRequests).toHaveLength(dashboards.length);
    for (const [index, request] of dashboardRequests.entries()) {
      const body = request.body as { dashboard: { uid: string; id: unknown }; overwrite: boolean; folderUid: string };
      expect(request.authorization).toBe(`Bearer ${GRAFANA_TOKEN}`);
      expect(request.contentType).toMatch(/^application\/json/);
      expect(body.overwrite).toBe(true);
      expect(body.folderUid).toBe('jwt-pizza');
      expect(body.dashboard.uid).toBe(dashboards[index].dashboard.uid);
      expect(body.dashboard.id).toBeNull();
    }
    expect(result.stdout).toContain('published rule group "jwt-pizza-service-purchases"');
    expect(result.stdout + result.stderr).not.toContain(RULER_TOKEN);
    expect(result.stdout + result.stderr).not.toContain(GRAFANA_TOKEN);
  }, 60_000);

  test('when the ruler answers 400, then the script exits non-zero naming the group and status, without the token', async () => {
    fake.failRules = 400;
    const result = await runPublish(env);

    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/grafana-publish: rule group "jwt-pizza-service-\w+" \(namespace jwt-pizza-service\): .* answered HTTP 400 Bad Request: error validating rule group/);
    expect(fake.received.filter((r) => r.path.startsWith('/api/prom/'))).toHaveLength(1); // stops at the first failure
    expect(fake.received.filter((r) => r.path === '/api/dashboards/db')).toHaveLength(0);
    expect(result.stdout + result.stderr).not.toContain(RULER_TOKEN);
  }, 60_000);

  test('when the token is wrong, then the 401 makes the script exit non-zero', async () => {
    const result = await runPublish({ ...env, GRAFANA_RULER_TOKEN: 'wrong-token-value' });

    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/HTTP 401 Unauthorized/);
    expect(result.stderr).not.toContain('wrong-token-value');
  }, 60_000);

  test('when Grafana answers 500 for a dashboard, then the script exits non-zero with a clear message', async () => {
    fake.failDashboards = 500;
    const result = await runPublish(env, ['--dashboards-only']);

    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/grafana-publish: dashboard jwt-pizza-[a-z-]+: .*\/api\/dashboards\/db answered HTTP 500 Internal Server Error/);
    expect(fake.received.filter((r) => r.path.startsWith('/api/prom/'))).toHaveLength(0);
    expect(result.stderr).not.toContain(GRAFANA_TOKEN);
  }, 60_000);

  test('when no user is given (Grafana 12 import API), then it uses a bearer token and names the data source', async () => {
    const { GRAFANA_RULER_USER: _unused, ...withoutUser } = env;
    const result = await runPublish({ ...withoutUser, GRAFANA_RULER_DATASOURCE_UID: 'prometheus' }, ['--rules-only']);

    expect(result.code).toBe(0);
    const requests = fake.received.filter((r) => r.path.startsWith('/api/prom/'));
    // One POST per group, the namespace listing, the stale group's DELETE: all with the same credentials.
    expect(requests.map((r) => r.method)).toEqual([...ruleGroups.map(() => 'POST'), 'GET', 'DELETE']);
    for (const request of requests) {
      expect(request.authorization).toBe(`Bearer ${RULER_TOKEN}`);
      expect(request.datasourceUid).toBe('prometheus');
    }
    expect(fake.received.filter((r) => r.path === '/api/dashboards/db')).toHaveLength(0);
  }, 60_000);

  test('when the ruler is not configured, then the script exits 2 and says which variables to set', async () => {
    const result = await runPublish({});

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/GRAFANA_RULER_URL is not set/);
    expect(fake.received).toHaveLength(0);
  }, 60_000);

  test('after publishing, the groups of the namespace that grafana/alerts no longer has are deleted, and only those', async () => {
    const result = await runPublish(env, ['--rules-only']);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const after = fake.received.slice(ruleGroups.length);
    expect(after.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/prom/config/v1/rules/jwt-pizza-service',
      `DELETE /api/prom/config/v1/rules/jwt-pizza-service/${encodeURIComponent(STALE_GROUP)}`,
    ]);
    expect(result.stdout).toContain(`deleted rule group "${STALE_GROUP}" from namespace jwt-pizza-service`);
  }, 60_000);

  test('when the namespace is unknown to the ruler (404), then nothing is deleted and the run succeeds', async () => {
    fake.listing = 404;
    const result = await runPublish(env, ['--rules-only']);

    expect(result.code).toBe(0);
    expect(fake.received.filter((r) => r.method === 'DELETE')).toHaveLength(0);
  }, 60_000);

  describe('the Alertmanager configuration', () => {
    let dir: string;
    let amEnv: Record<string, string>;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'publish-alertmanager-'));
      writeFileSync(join(dir, 'page-token'), `${PAGE_BEARER}\n`, { mode: 0o600 });
      amEnv = {
        ...env,
        GRAFANA_ALERTMANAGER_URL: `${fake.baseUrl}/alertmanager/`,
        GRAFANA_ALERTMANAGER_USER: ALERTMANAGER_USER,
        GRAFANA_ALERTMANAGER_TOKEN: ALERTMANAGER_TOKEN,
        ALERT_PAGE_WEBHOOK_URL: PAGE_WEBHOOK_URL,
        ALERT_TICKET_WEBHOOK_URL: TICKET_WEBHOOK_URL,
        ALERT_PAGE_WEBHOOK_TOKEN_FILE: join(dir, 'page-token'),
      };
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    test('is uploaded once in Mimir\'s format: template files by name, the generated tree, real receivers, the token inlined', async () => {
      const result = await runPublish(amEnv, ['--alertmanager-only']);

      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(fake.received.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /alertmanager/api/v1/alerts']);
      const [request] = fake.received;
      expect(request.contentType).toBe('application/yaml');
      const body = parseYaml(request.body as string) as { template_files: Record<string, string>; alertmanager_config: string };
      expect(Object.keys(body)).toEqual(['template_files', 'alertmanager_config']);
      expect(body.template_files).toEqual({ [TEMPLATE_FILE_NAME]: readFileSync(join(REPOSITORY_ROOT, TEMPLATE_PATH), 'utf8').trimEnd() });
      const uploaded = parseYaml(body.alertmanager_config) as Record<string, YamlValue>;
      const committed = parseYaml(readFileSync(join(REPOSITORY_ROOT, ALERTMANAGER_CONFIG_PATH), 'utf8')) as Record<string, YamlValue>;
      expect(uploaded.templates).toEqual([TEMPLATE_FILE_NAME]);
      expect(uploaded.route).toEqual(committed.route);
      expect(uploaded.inhibit_rules).toEqual(committed.inhibit_rules);
      expect(uploaded.receivers).toEqual([
        {
          name: 'pizza-oncall-pages',
          webhook_configs: [{ url: PAGE_WEBHOOK_URL, send_resolved: true, max_alerts: 0, http_config: { authorization: { type: 'Bearer', credentials: PAGE_BEARER } } }],
        },
        { name: 'pizza-oncall-tickets', webhook_configs: [{ url: TICKET_WEBHOOK_URL, send_resolved: true, max_alerts: 0 }] },
      ]);
      expect(body.alertmanager_config).not.toContain('_file');
      expect(result.stdout).toContain('published the Alertmanager configuration');
      for (const secret of [ALERTMANAGER_TOKEN, PAGE_WEBHOOK_URL, TICKET_WEBHOOK_URL, PAGE_BEARER]) expect(result.stdout + result.stderr).not.toContain(secret);
    }, 60_000);

    requiring(alertmanagerTools()).test('what Mimir receives is a valid Alertmanager 0.25 configuration with its template (amtool check-config)', async () => {
      const result = await runPublish(amEnv, ['--alertmanager-only']);
      expect(result.code).toBe(0);
      const body = parseYaml(fake.received[0].body as string) as { template_files: Record<string, string>; alertmanager_config: string };
      writeFileSync(join(dir, TEMPLATE_FILE_NAME), body.template_files[TEMPLATE_FILE_NAME]);
      writeFileSync(join(dir, 'uploaded.yml'), body.alertmanager_config);
      const check = await runAmtool(['check-config', 'uploaded.yml'], dir);
      expect({ code: check.code, output: check.output }).toMatchObject({ code: 0 });
    }, 60_000);

    test('when the webhook URLs are not set, then the script exits 2 naming them, and sends nothing', async () => {
      const { ALERT_PAGE_WEBHOOK_URL: _page, ALERT_TICKET_WEBHOOK_URL: _ticket, ...withoutUrls } = amEnv;
      const result = await runPublish(withoutUrls, ['--alertmanager-only']);

      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/set ALERT_PAGE_WEBHOOK_URL and ALERT_TICKET_WEBHOOK_URL/);
      expect(fake.received).toHaveLength(0);
    }, 60_000);

    test('when the alertmanager answers 400, then the script exits non-zero with the status, without any secret', async () => {
      fake.failAlertmanager = 400;
      const result = await runPublish(amEnv, ['--alertmanager-only']);

      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/Alertmanager configuration: .*\/alertmanager\/api\/v1\/alerts answered HTTP 400 Bad Request: error validating/);
      for (const secret of [ALERTMANAGER_TOKEN, PAGE_WEBHOOK_URL, PAGE_BEARER]) expect(result.stdout + result.stderr).not.toContain(secret);
    }, 60_000);
  });

  test('--dry-run sends nothing and lists every group and dashboard', async () => {
    const result = await runPublish(env, ['--dry-run']);

    expect(result.code).toBe(0);
    expect(fake.received).toHaveLength(0);
    for (const { group } of ruleGroups) expect(result.stdout).toContain(`rule group "${String(group.name)}"`);
    for (const { dashboard } of dashboards) expect(result.stdout).toContain(`dashboard ${String(dashboard.uid)}`);
  }, 60_000);
});

describe('grafana:publish helpers', () => {
  test('only grafana/alerts/*.yml is published: never the anti-examples under tests/', () => {
    expect(ruleGroups.map((g) => g.file).every((file) => /^grafana\/alerts\/[^/]+\.yml$/.test(file))).toBe(true);
    expect(ruleGroups.map((g) => g.group.name)).not.toContain('anti-examples-test-only');
    expect(ruleGroups.length).toBeGreaterThanOrEqual(5);
  });

  test('groupNamesOfListing() reads the group names of a ruler listing, YAML at any indentation or JSON', () => {
    const names = ['jwt-pizza-service-http', STALE_GROUP, "it's quoted"];
    expect(groupNamesOfListing(rulerListing('jwt-pizza-service', names))).toEqual(names);
    expect(groupNamesOfListing(toYaml({ ns: names.map((name) => ({ name, rules: [] })) }))).toEqual(names);
    expect(groupNamesOfListing(JSON.stringify({ ns: names.map((name) => ({ name, rules: [] })) }))).toEqual(names);
    expect(groupNamesOfListing('')).toEqual([]);
  });

  test('redact() removes every secret occurrence', () => {
    expect(redact('a secret-1 b secret-1 c secret-2', ['secret-1', 'secret-2', undefined])).toBe('a *** b *** c ***');
  });

  test('withAbsoluteDashboardUrls() leaves the group untouched without a base URL', () => {
    const { group } = ruleGroups[0];
    expect(withAbsoluteDashboardUrls(group, undefined)).toBe(group);
    const rules = (withAbsoluteDashboardUrls(group, 'https://grafana.example').rules as YamlValue[]) as { annotations?: { dashboard_url: string } }[];
    expect(rules.filter((r) => r.annotations).every((r) => r.annotations?.dashboard_url.startsWith('https://grafana.example/d/'))).toBe(true);
  });
});
