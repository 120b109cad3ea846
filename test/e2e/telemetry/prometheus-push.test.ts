import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { createMetrics } from '../../../src/shared/metrics/metrics';
import { createMetricsPusher } from '../../../src/shared/metrics/remoteWrite';
import { decodeWriteRequest } from '../../unit/telemetry/protobuf';
import { startPrometheus, type PromSample, type RunningPrometheus } from './prometheus';

const snappy: { uncompress(input: Uint8Array): Uint8Array } = require('snappyjs');

const SOURCE = 'jwt-pizza-service';

let prometheus: RunningPrometheus;

beforeAll(async () => {
  prometheus = await startPrometheus();
}, 60_000);

afterAll(async () => {
  await prometheus?.stop();
});

const valueOf = (result: PromSample[]) => (result.length === 1 ? Number(result[0]!.value[1]) : NaN);

async function counterValue(counter: Counter<string>, labels: Record<string, string>) {
  const { values } = await counter.get();
  return values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
}

describe('remote_write to a real Prometheus', () => {
  test('when a counter, a gauge and a labelled histogram are pushed, then PromQL reads them back with source and instance labels', async () => {
    const registry = new Registry();
    const purchases = new Counter({ name: 'pizza_purchases_total', help: 'h', labelNames: ['outcome', 'reason'], registers: [registry] });
    const activeUsers = new Gauge({ name: 'active_users', help: 'h', registers: [registry] });
    const latency = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'h',
      labelNames: ['method', 'route'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1],
      registers: [registry],
    });
    purchases.inc({ outcome: 'success', reason: 'none' }, 3);
    purchases.inc({ outcome: 'failure', reason: 'factory_error' }, 1);
    activeUsers.set(7);
    for (let i = 0; i < 90; i++) latency.observe({ method: 'GET', route: '/api/order/menu' }, 0.02);
    for (let i = 0; i < 10; i++) latency.observe({ method: 'GET', route: '/api/order/menu' }, 0.8);

    const own = createMetrics({ defaultMetrics: false });
    const pusher = createMetricsPusher({ url: prometheus.writeUrl, intervalSeconds: 60, registry, metrics: own, labels: { source: SOURCE, instance: 'e2e-host' }, timeoutMs: 5000 });
    try {
      await pusher.pushNow();
      expect(await counterValue(own.telemetryPushes, { sink: 'metrics', outcome: 'success' })).toBe(1);
      expect(await counterValue(own.telemetryPushFailures, { sink: 'metrics' })).toBe(0);

      const success = await prometheus.queryUntil(`pizza_purchases_total{source="${SOURCE}",outcome="success"}`, (r) => r.length === 1);
      expect(success[0]!.metric).toEqual({ __name__: 'pizza_purchases_total', source: SOURCE, instance: 'e2e-host', outcome: 'success', reason: 'none' });
      expect(valueOf(success)).toBe(3);
      expect(valueOf(await prometheus.query(`pizza_purchases_total{source="${SOURCE}",outcome="failure"}`))).toBe(1);
      expect(valueOf(await prometheus.query(`active_users{source="${SOURCE}",instance="e2e-host"}`))).toBe(7);
      expect(valueOf(await prometheus.query(`http_request_duration_seconds_count{source="${SOURCE}",route="/api/order/menu"}`))).toBe(100);
      expect(valueOf(await prometheus.query(`http_request_duration_seconds_sum{source="${SOURCE}"}`))).toBeCloseTo(90 * 0.02 + 10 * 0.8, 6);
      // Linear interpolation inside the buckets: rank 50 of 100 falls in (0.01, 0.05] holding 90.
      const p50 = valueOf(await prometheus.query(`histogram_quantile(0.5, sum by (le) (http_request_duration_seconds_bucket{source="${SOURCE}"}))`));
      expect(p50).toBeCloseTo(0.01 + 0.04 * (50 / 90), 6);
      const p95 = valueOf(await prometheus.query(`histogram_quantile(0.95, sum by (le) (http_request_duration_seconds_bucket{source="${SOURCE}"}))`));
      expect(p95).toBeCloseTo(0.5 + 0.5 * (5 / 10), 6);

      purchases.inc({ outcome: 'success', reason: 'none' }, 2);
      await pusher.pushNow();
      await prometheus.queryUntil(`pizza_purchases_total{source="${SOURCE}",outcome="success"}`, (r) => valueOf(r) === 5);
      expect(await counterValue(own.telemetryPushFailures, { sink: 'metrics' })).toBe(0);
    } finally {
      await pusher.stop(2000);
    }
  });

  test('when the whole service catalogue (with default metrics) is pushed on its timer, then Prometheus stores every series sent', async () => {
    const metrics = createMetrics();
    metrics.httpRequests.inc({ method: 'GET', route: '/api/order/menu', status_code: '200' });
    metrics.httpDuration.observe({ labels: { method: 'GET', route: '/api/order/menu', status_code: '200' }, value: 0.004 });
    const sentBodies: Uint8Array[] = [];
    const recordingFetch = (url: string, init: RequestInit) => {
      sentBodies.push(init.body as Uint8Array);
      return fetch(url, init);
    };
    const pusher = createMetricsPusher({ url: prometheus.writeUrl, intervalSeconds: 0.2, registry: metrics.registry, metrics, labels: { source: SOURCE, instance: 'e2e-catalogue' }, fetchImpl: recordingFetch });
    try {
      pusher.start();
      // Its own success counter travels in the next batch, so a value >= 1 in Prometheus proves two pushes.
      await prometheus.queryUntil(`telemetry_push_total{instance="e2e-catalogue",sink="metrics",outcome="success"}`, (r) => valueOf(r) >= 1, 15_000);
      await pusher.stop(2000);

      const seriesKey = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
      const lastSent = decodeWriteRequest(snappy.uncompress(new Uint8Array(sentBodies.at(-1)!)));
      const stored = new Set((await prometheus.query(`{instance="e2e-catalogue"}`)).map((s) => seriesKey(s.metric)));
      const missing = lastSent.map((s) => seriesKey(Object.fromEntries(s.labels))).filter((key) => !stored.has(key));
      expect(lastSent.length).toBeGreaterThan(50);
      expect(missing).toEqual([]);
      expect(valueOf(await prometheus.query(`http_requests_total{instance="e2e-catalogue",route="/api/order/menu"}`))).toBe(1);
      expect(await counterValue(metrics.telemetryPushFailures, { sink: 'metrics' })).toBe(0);
    } finally {
      await pusher.stop(2000);
    }
  });
});
