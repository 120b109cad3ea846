import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, PROMETHEUS_BIN } from '../../../scripts/gameday/prometheus';
import { startOtlpReceiver, type OtlpReceiver } from './otlpReceiver';
import { call, setUpShop, startBuiltService, traceIdOf, waitFor, type BuiltService } from './support';

interface ExemplarSeries { seriesLabels: Record<string, string>; exemplars: { labels: Record<string, string>; value: string; timestamp: number }[] }

/** Debian's Prometheus scraping the service every second, with exemplar storage on (a missing binary fails). */
async function startScrapingPrometheus(target: string): Promise<{ baseUrl: string; stop(): Promise<void> }> {
  if (!existsSync(PROMETHEUS_BIN)) throw new Error(`${PROMETHEUS_BIN} not found: install Debian's prometheus package (apt-get install prometheus)`);
  const dir = mkdtempSync(join(tmpdir(), 'prom-exemplars-'));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: jwt-pizza-service\n    scrape_interval: 1s\n    static_configs:\n      - targets: ['${target}']\n`,
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    PROMETHEUS_BIN,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--enable-feature=exemplar-storage', '--log.level=warn'],
    { stdio: 'ignore' },
  );
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('prometheus ready', async () => (await fetch(`${baseUrl}/-/ready`).catch(() => undefined))?.ok, 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { baseUrl, stop };
}

async function promApi<T>(baseUrl: string, path: string): Promise<T> {
  const body = (await (await fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(5000) })).json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${path}: ${body.error}`);
  return body.data;
}

describe('exemplars: a real Prometheus scraping the traced service', () => {
  let receiver: OtlpReceiver;
  let service: BuiltService;
  let prometheus: { baseUrl: string; stop(): Promise<void> };

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    service = await startBuiltService({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint });
    prometheus = await startScrapingPrometheus(new URL(service.url).host);
  }, 90_000);
  afterAll(async () => {
    await prometheus?.stop();
    await service?.stop();
    await receiver?.close();
  });

  test('when requests and orders are traced, then query_exemplars returns their trace ids on the request-latency and factory-latency histograms, and the OpenMetrics scrape keeps every series queryable', async () => {
    const shop = await setUpShop(service.url, 'exemplars');
    const traceIds = new Set<string>();
    for (let i = 0; i < 3; i++) {
      traceIds.add(traceIdOf(await call(service.url, 'GET', '/api/order/menu')));
      const order = await call(service.url, 'POST', '/api/order', { token: shop.diner.token, body: { franchiseId: shop.franchiseId, storeId: shop.storeId, items: [{ menuId: 1 }] } });
      expect(order.status).toBe(200);
      traceIds.add(traceIdOf(order));
    }

    const range = () => `start=${Math.floor(Date.now() / 1000) - 300}&end=${Math.ceil(Date.now() / 1000) + 5}`;
    const exemplarsOf = async (metric: string) => promApi<ExemplarSeries[]>(prometheus.baseUrl, `/api/v1/query_exemplars?query=${encodeURIComponent(metric)}&${range()}`);
    const latency = await waitFor('request-latency exemplars', async () => {
      const series = await exemplarsOf('http_request_duration_seconds_bucket{route="/api/order"}');
      return series.some((s) => s.exemplars.some((e) => traceIds.has(e.labels.trace_id ?? ''))) ? series : undefined;
    }, 30_000);
    const linked = latency.flatMap((s) => s.exemplars.map((e) => ({ ...e, series: s.seriesLabels })));
    for (const exemplar of linked) expect(exemplar.labels.trace_id).toMatch(/^[\da-f]{32}$/);
    expect(linked.find((e) => traceIds.has(e.labels.trace_id!))!.series).toMatchObject({ __name__: 'http_request_duration_seconds_bucket', route: '/api/order', method: 'POST', job: 'jwt-pizza-service' });

    const factory = await waitFor('factory-latency exemplars', async () => {
      const series = await exemplarsOf('pizza_factory_request_duration_seconds_bucket');
      return series.some((s) => s.exemplars.some((e) => traceIds.has(e.labels.trace_id ?? ''))) ? series : undefined;
    }, 30_000);
    expect(factory[0]!.seriesLabels.outcome).toBe('fulfilled');

    // The scrape was OpenMetrics (the only format with exemplars), and the counters kept their names.
    const targets = await promApi<{ activeTargets: { health: string; lastError: string }[] }>(prometheus.baseUrl, '/api/v1/targets');
    expect(targets.activeTargets[0]).toMatchObject({ health: 'up', lastError: '' });
    const requests = await promApi<{ result: unknown[] }>(prometheus.baseUrl, `/api/v1/query?query=${encodeURIComponent('http_requests_total{route="/api/order"}')}`);
    expect(requests.result.length).toBeGreaterThan(0);
    // And a scraper that asks for Prometheus text still gets it, with the counter names whole.
    const plain = await fetch(`${service.url}/metrics`);
    expect(plain.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await plain.text()).toMatch(/^http_requests_total\{/m);
  });
});
