import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEAM } from '../../grafana/src/catalogue';
import { DASHBOARDS_MOUNT_PATH, PROVISIONING_ENV, PROVISIONING_FILES } from '../../grafana/src/provisioning';
import { parseYaml, YamlValue } from '../../grafana/src/yamlFile';
import { REPOSITORY_ROOT } from './metricNames';

type Obj = { [key: string]: YamlValue };
const obj = (v: YamlValue | undefined): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});
const arr = (v: YamlValue | undefined): YamlValue[] => (Array.isArray(v) ? v : []);
const read = (relative: string) => readFileSync(join(REPOSITORY_ROOT, relative), 'utf8');
const load = (relative: string) => obj(parseYaml(read(relative)));

const DURATION = /^[0-9]+(s|m|h)$/;
const seconds = (d: string) => Number(d.slice(0, -1)) * { s: 1, m: 60, h: 3600 }[d.slice(-1) as 's' | 'm' | 'h'];

describe('Grafana provisioning (grafana/provisioning)', () => {
  test('every file declares apiVersion 1', () => {
    for (const file of PROVISIONING_FILES) expect(load(file.path).apiVersion).toBe(1);
  });

  test('datasources: Prometheus and Loki with stable uids and URLs/credentials from the environment', () => {
    const datasources = arr(load('grafana/provisioning/datasources/jwt-pizza-service.yml').datasources).map(obj);
    const byType = (type: string) => datasources.find((d) => d.type === type) as Obj;
    expect(byType('prometheus')).toMatchObject({ uid: 'prometheus', url: '${PROMETHEUS_URL}', access: 'proxy', isDefault: true });
    expect(byType('loki')).toMatchObject({ uid: 'loki', url: '${LOKI_URL}', access: 'proxy' });
    for (const datasource of datasources) {
      expect(String(obj(datasource.secureJsonData).basicAuthPassword)).toMatch(/^\$\{[A-Z_]+\}$/);
    }
  });

  test('dashboards provider reads the dashboards directory, read-only from the UI', () => {
    const [provider] = arr(load('grafana/provisioning/dashboards/jwt-pizza-service.yml').providers).map(obj);
    expect(provider).toMatchObject({ type: 'file', allowUiUpdates: false });
    expect(obj(provider.options).path).toBe(DASHBOARDS_MOUNT_PATH);
    expect(read('grafana/provisioning/README.md')).toContain(`./grafana/dashboards:${DASHBOARDS_MOUNT_PATH}`);
  });

  test('contact points: the Alertmanager receivers (webhook from the environment) plus email, rendered with the shared template', () => {
    const points = arr(load('grafana/provisioning/alerting/contact-points.yml').contactPoints).map(obj);
    const receivers = (name: string) => arr(obj(points.find((p) => p.name === name)).receivers).map(obj);
    expect(receivers('pizza-oncall-pages').map((r) => r.type).sort()).toEqual(['email', 'webhook']);
    expect(receivers('pizza-oncall-tickets').map((r) => r.type).sort()).toEqual(['email', 'webhook']);
    const webhookUrl = (name: string) => obj(receivers(name).find((r) => r.type === 'webhook')?.settings).url;
    expect(webhookUrl('pizza-oncall-pages')).toBe('${ALERT_PAGE_WEBHOOK_URL}');
    expect(webhookUrl('pizza-oncall-tickets')).toBe('${ALERT_TICKET_WEBHOOK_URL}');
    const templates = arr(load('grafana/provisioning/alerting/templates.yml').templates).map(obj);
    const defined = [...String(templates[0]?.template).matchAll(/\{\{ define "([^"]+)" \}\}/g)].map((m) => m[1]);
    for (const receiver of points.flatMap((p) => arr(p.receivers).map(obj))) {
      expect(typeof receiver.uid).toBe('string');
      const settings = obj(receiver.settings);
      const address = receiver.type === 'email' ? settings.addresses : settings.url;
      expect(address).toMatch(/^\$\{[A-Z_]+\}$/);
      const used = [settings.title ?? settings.subject, settings.message].map((text) => /\{\{ template "([^"]+)" \. \}\}/.exec(String(text))?.[1]);
      for (const name of used) expect(defined).toContain(name);
    }
  });

  test('notification policy: the Alertmanager tree, one notification per alert and source, pages and tickets routed on purpose', () => {
    const [root] = arr(load('grafana/provisioning/alerting/notification-policies.yml').policies).map(obj);
    expect(root.group_by).toEqual(['alertname', 'source']);
    const alertmanagerRoute = obj(load('grafana/alertmanager/alertmanager.yml').route);
    for (const key of ['receiver', 'group_by', 'group_wait', 'group_interval', 'repeat_interval']) expect(root[key]).toEqual(alertmanagerRoute[key]);
    expect(arr(root.routes).map((r) => [obj(r).receiver, obj(r).repeat_interval])).toEqual(
      arr(alertmanagerRoute.routes).map((r) => [obj(r).receiver, obj(r).repeat_interval]),
    );
    for (const key of ['group_wait', 'group_interval', 'repeat_interval']) expect(String(root[key])).toMatch(DURATION);
    // Batch briefly, then re-notify far less often than the rules evaluate.
    expect(seconds(String(root.group_wait))).toBeLessThanOrEqual(60);
    expect(seconds(String(root.group_interval))).toBeGreaterThanOrEqual(seconds(String(root.group_wait)));
    const points = arr(load('grafana/provisioning/alerting/contact-points.yml').contactPoints).map((p) => obj(p).name);
    expect(points).toContain(root.receiver);
    const routes = arr(root.routes).map(obj);
    const pageRoute = routes.find((r) => arr(r.matchers).includes('severity = page')) as Obj;
    expect(pageRoute.receiver).toBe('pizza-oncall-pages');
    expect(arr(pageRoute.matchers)).toContain(`team = ${TEAM}`);
    expect(seconds(String(pageRoute.repeat_interval))).toBeLessThan(seconds(String(root.repeat_interval)));
    for (const route of routes) expect(points).toContain(route.receiver);
  });

  test('every ${VAR} the files use is documented, in the code and in the README', () => {
    const readme = read('grafana/provisioning/README.md');
    const used = new Set(PROVISIONING_FILES.flatMap((f) => [...read(f.path).matchAll(/\$\{([A-Z_]+)\}/g)].map((m) => m[1])));
    expect(used.size).toBeGreaterThan(0);
    for (const name of used) {
      expect(Object.keys(PROVISIONING_ENV)).toContain(name);
      expect(readme).toContain(name);
    }
  });
});
