import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseYaml, type YamlValue } from '../../grafana/src/yamlFile';

const ROOT = join(__dirname, '..', '..');
type Obj = { [key: string]: YamlValue };
const obj = (value: YamlValue | undefined): Obj => (value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {});
const arr = (value: YamlValue | undefined): YamlValue[] => (Array.isArray(value) ? value : []);

/** The three signals joined in Grafana: exemplars and log lines lead to the trace, the trace back to its log lines. */
describe('tracing links in the Grafana provisioning and dashboards', () => {
  const datasources = arr(obj(parseYaml(readFileSync(join(ROOT, 'grafana/provisioning/datasources/jwt-pizza-service.yml'), 'utf8'))).datasources).map(obj);
  const byUid = (uid: string) => datasources.find((d) => d.uid === uid) ?? {};

  test('Tempo is provisioned, its URL and credentials from the environment, and links a span to its log lines in Loki', () => {
    expect(byUid('tempo')).toMatchObject({ type: 'tempo', url: '${TEMPO_URL}', basicAuthUser: '${TEMPO_USER}', secureJsonData: { basicAuthPassword: '${TEMPO_TOKEN}' } });
    expect(obj(obj(byUid('tempo').jsonData).tracesToLogsV2)).toMatchObject({ datasourceUid: 'loki', filterByTraceID: true });
  });

  test('Prometheus exemplars named trace_id open the trace in Tempo', () => {
    expect(arr(obj(byUid('prometheus').jsonData).exemplarTraceIdDestinations)).toEqual([{ name: 'trace_id', datasourceUid: 'tempo' }]);
  });

  test('a Loki log line\'s trace_id becomes a "trace for this log line" link, escaped from Grafana\'s environment expansion', () => {
    const [field] = arr(obj(byUid('loki').jsonData).derivedFields).map(obj);
    expect(field).toMatchObject({ datasourceUid: 'tempo', url: '$${__value.raw}' });
    const line = JSON.stringify({ level: 'info', trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b7', msg: 'GET /api/order/menu 200' });
    expect(new RegExp(String(field!.matcherRegex)).exec(line)?.[1]).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  test('the request-latency and factory-latency panels show exemplars', () => {
    for (const [file, metric] of [['service-overview.json', 'http_request_duration_seconds_bucket'], ['orders-factory.json', 'pizza_factory_request_duration_seconds_bucket']]) {
      const dashboard = JSON.parse(readFileSync(join(ROOT, 'grafana/dashboards', file!), 'utf8')) as { panels: { targets?: { expr?: string; exemplar?: boolean }[] }[] };
      const targets = dashboard.panels.flatMap((p) => p.targets ?? []).filter((t) => t.expr?.includes(metric!));
      expect(targets.some((t) => t.exemplar === true)).toBe(true);
    }
  });
});
