import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { createMetrics } from '../../../src/shared/metrics/metrics';
import {
  createMetricsPusher,
  encodeWriteRequest,
  registryToSeries,
  type MetricFamilyJson,
  type RemoteWriteSeries,
} from '../../../src/shared/metrics/remoteWrite';
import { backoffDelayMs, parseRetryAfterMs } from '../../../src/shared/telemetry/delivery';
import { decodeWriteRequest, type DecodedSeries } from './protobuf';

const snappy: { uncompress(input: Uint8Array): Uint8Array } = require('snappyjs');

type Call = { url: string; headers: Record<string, string>; body: Uint8Array; at: number };

/** A fetch double that records requests and answers from a script (status or thrown error per call). */
function scriptedFetch(script: (callIndex: number, signal: AbortSignal) => Promise<Response> | Response) {
  const calls: Call[] = [];
  const fetchImpl = async (url: string, init: RequestInit) => {
    calls.push({ url, headers: init.headers as Record<string, string>, body: init.body as Uint8Array, at: Date.now() });
    return script(calls.length - 1, init.signal as AbortSignal);
  };
  return { calls, fetchImpl };
}

function decodeBody(body: Uint8Array): DecodedSeries[] {
  return decodeWriteRequest(snappy.uncompress(new Uint8Array(body)));
}

const labelsOf = (series: DecodedSeries) => Object.fromEntries(series.labels);

async function counterValue(counter: Counter<string>, labels: Record<string, string>): Promise<number> {
  const { values } = await counter.get();
  return values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
}

function sampleRegistry() {
  const registry = new Registry();
  const purchases = new Counter({ name: 'pizza_purchases_total', help: 'h', labelNames: ['outcome', 'reason'], registers: [registry] });
  purchases.inc({ outcome: 'success', reason: 'none' }, 3);
  const gauge = new Gauge({ name: 'active_users', help: 'h', registers: [registry] });
  gauge.set(7);
  const latency = new Histogram({ name: 'lat_seconds', help: 'h', labelNames: ['route'], buckets: [0.1, 1], registers: [registry] });
  latency.observe({ route: '/a' }, 0.05);
  latency.observe({ route: '/a' }, 0.5);
  return { registry, purchases, gauge, latency };
}

function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return (async () => {
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error('condition not met before the deadline');
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
}

describe('encodeWriteRequest', () => {
  test('when one series with one sample is encoded, then field numbers, wire types and lengths are exact', () => {
    const bytes = encodeWriteRequest([{ labels: { job: 'a', __name__: 'up' }, samples: [{ value: 1, timestampMs: 1000 }] }]);
    // prettier-ignore
    const expected = [
      0x0a, 40, // WriteRequest.timeseries (1, LEN)
      0x0a, 14, //   TimeSeries.labels (1, LEN)
      0x0a, 8, ...Buffer.from('__name__'), //   Label.name (1, LEN)
      0x12, 2, ...Buffer.from('up'), //     Label.value (2, LEN)
      0x0a, 8, //   TimeSeries.labels, sorted: "__name__" < "job"
      0x0a, 3, ...Buffer.from('job'),
      0x12, 1, ...Buffer.from('a'),
      0x12, 12, //   TimeSeries.samples (2, LEN)
      0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, //     Sample.value (1, I64): 1.0 little-endian
      0x10, 0xe8, 0x07, //     Sample.timestamp (2, VARINT): 1000
    ];
    expect([...bytes]).toEqual(expected);
  });

  test('when several series with odd values are encoded, then an independent decoder reads them back', () => {
    const series: RemoteWriteSeries[] = [
      { labels: { __name__: 'a_total', zeta: 'z', alpha: 'ünïcode ✓' }, samples: [{ value: 0, timestampMs: 0 }] },
      { labels: { __name__: 'b', le: '+Inf' }, samples: [{ value: -2.5, timestampMs: 1_733_000_000_123 }, { value: 1e300, timestampMs: 1_733_000_000_124 }] },
      { labels: { __name__: 'c', long: 'x'.repeat(300) }, samples: [{ value: Number.POSITIVE_INFINITY, timestampMs: 2 ** 40 }] },
    ];
    const decoded = decodeWriteRequest(encodeWriteRequest(series));
    expect(decoded).toEqual([
      { labels: [['__name__', 'a_total'], ['alpha', 'ünïcode ✓'], ['zeta', 'z']], samples: [{ value: 0, timestampMs: 0 }] },
      { labels: [['__name__', 'b'], ['le', '+Inf']], samples: series[1]!.samples },
      { labels: [['__name__', 'c'], ['long', 'x'.repeat(300)]], samples: series[2]!.samples },
    ]);
  });

  test('when a timestamp is negative, then it is a ten-byte two\'s complement varint', () => {
    const bytes = encodeWriteRequest([{ labels: { __name__: 'x' }, samples: [{ value: 0, timestampMs: -1 }] }]);
    expect([...bytes.slice(-11)]).toEqual([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  });

  test('when there are no series, then the request is empty', () => {
    expect(encodeWriteRequest([]).length).toBe(0);
  });
});

describe('registryToSeries', () => {
  test('when a registry holds a counter, gauge, histogram and summary, then each sample is one series with the extra labels', async () => {
    const { registry } = sampleRegistry();
    const summary = new Summary({ name: 'sz', help: 'h', percentiles: [0.5], labelNames: ['source'], registers: [registry] });
    summary.observe({ source: 'own' }, 4);
    const families = (await registry.getMetricsAsJSON()) as unknown as MetricFamilyJson[];
    const series = registryToSeries(families, 1234, { source: 'svc', instance: 'host-1' });

    const byName = (name: string) => series.filter((s) => s.labels.__name__ === name).map((s) => s.labels);
    expect(series.every((s) => s.samples.length === 1 && s.samples[0]!.timestampMs === 1234)).toBe(true);
    expect(byName('pizza_purchases_total')).toEqual([{ __name__: 'pizza_purchases_total', outcome: 'success', reason: 'none', source: 'svc', instance: 'host-1' }]);
    expect(series.find((s) => s.labels.__name__ === 'active_users')!.samples[0]!.value).toBe(7);
    const buckets = series.filter((s) => s.labels.__name__ === 'lat_seconds_bucket').map((s) => [s.labels.le, s.samples[0]!.value]);
    expect(buckets).toEqual([['0.1', 1], ['1', 2], ['+Inf', 2]]);
    expect(series.find((s) => s.labels.__name__ === 'lat_seconds_sum')!.samples[0]!.value).toBeCloseTo(0.55);
    expect(series.find((s) => s.labels.__name__ === 'lat_seconds_count')!.samples[0]!.value).toBe(2);
    // The summary's own `source` label wins over the extra one.
    expect(byName('sz')).toEqual([{ __name__: 'sz', quantile: '0.5', source: 'own', instance: 'host-1' }]);
    expect(byName('sz_count')).toHaveLength(1);
  });
});

describe('createMetricsPusher', () => {
  test('when it pushes, then it sends snappy protobuf with the remote_write headers and basic auth', async () => {
    const { registry } = sampleRegistry();
    const metrics = createMetrics({ defaultMetrics: false });
    const { calls, fetchImpl } = scriptedFetch(() => new Response(null, { status: 204 }));
    const pusher = createMetricsPusher({
      url: 'http://receiver.test/api/prom/push',
      user: '12345',
      password: 's3cret-token',
      intervalSeconds: 60,
      registry,
      metrics,
      labels: { source: 'jwt-pizza-service', instance: 'host-1' },
      fetchImpl,
    });

    await pusher.pushNow();

    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expect(call.url).toBe('http://receiver.test/api/prom/push');
    expect(call.headers).toMatchObject({
      'Content-Encoding': 'snappy',
      'Content-Type': 'application/x-protobuf',
      'X-Prometheus-Remote-Write-Version': '0.1.0',
      Authorization: `Basic ${Buffer.from('12345:s3cret-token').toString('base64')}`,
    });
    const series = decodeBody(call.body);
    const purchases = series.find((s) => labelsOf(s).__name__ === 'pizza_purchases_total')!;
    expect(purchases.labels).toEqual([['__name__', 'pizza_purchases_total'], ['instance', 'host-1'], ['outcome', 'success'], ['reason', 'none'], ['source', 'jwt-pizza-service']]);
    expect(purchases.samples[0]!.value).toBe(3);
    expect(Math.abs(purchases.samples[0]!.timestampMs - Date.now())).toBeLessThan(5000);
    expect(await counterValue(metrics.telemetryPushes, { sink: 'metrics', outcome: 'success' })).toBe(1);
    await pusher.stop(1000);
  });

  test('when the URL carries credentials, then they move to the Authorization header', async () => {
    const { calls, fetchImpl } = scriptedFetch(() => new Response(null, { status: 200 }));
    const pusher = createMetricsPusher({
      url: 'https://inst:tok%40en@receiver.test/push',
      intervalSeconds: 60,
      registry: new Registry(),
      metrics: createMetrics({ defaultMetrics: false }),
      labels: { source: 's', instance: 'i' },
      fetchImpl,
    });
    await pusher.pushNow();
    expect(calls[0]!.url).toBe('https://receiver.test/push');
    expect(calls[0]!.headers.Authorization).toBe(`Basic ${Buffer.from('inst:tok@en').toString('base64')}`);
    await pusher.stop(100);
  });

  test('when pushes happen within one millisecond, then their timestamps still increase', async () => {
    const { registry } = sampleRegistry();
    const { calls, fetchImpl } = scriptedFetch(() => new Response(null, { status: 200 }));
    const pusher = createMetricsPusher({ url: 'http://r.test/w', intervalSeconds: 60, registry, metrics: createMetrics({ defaultMetrics: false }), labels: { source: 's', instance: 'i' }, fetchImpl });
    const frozen = jest.spyOn(Date, 'now').mockReturnValue(1_700_000_000_000);
    try {
      for (let i = 0; i < 3; i++) await pusher.pushNow();
    } finally {
      frozen.mockRestore();
    }
    const stamps = calls.map((c) => decodeBody(c.body)[0]!.samples[0]!.timestampMs);
    expect(stamps).toEqual([1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_002]);
    await pusher.stop(100);
  });

  test('when pushNow() is called in a burst, then the callers share one collection', async () => {
    const { calls, fetchImpl } = scriptedFetch(() => new Response(null, { status: 200 }));
    const pusher = createMetricsPusher({ url: 'http://r.test/w', intervalSeconds: 60, registry: sampleRegistry().registry, metrics: createMetrics({ defaultMetrics: false }), labels: { source: 's', instance: 'i' }, fetchImpl });
    await Promise.all(Array.from({ length: 50 }, () => pusher.pushNow()));
    expect(calls).toHaveLength(1);
    await pusher.pushNow();
    expect(calls).toHaveLength(2);
    await pusher.stop(100);
  });

  test('when the receiver answers 503 then 200, then the same batch is retried and counted once as failed attempt', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const { calls, fetchImpl } = scriptedFetch((i) => new Response('busy', { status: i === 0 ? 503 : 200 }));
    const pusher = createMetricsPusher({ url: 'http://r.test/w', intervalSeconds: 60, registry: sampleRegistry().registry, metrics, labels: { source: 's', instance: 'i' }, fetchImpl, retryBaseMs: 5 });

    await pusher.pushNow();

    expect(calls).toHaveLength(2);
    expect(Buffer.from(calls[1]!.body).equals(Buffer.from(calls[0]!.body))).toBe(true);
    expect(await counterValue(metrics.telemetryPushes, { sink: 'metrics', outcome: 'failure' })).toBe(1);
    expect(await counterValue(metrics.telemetryPushes, { sink: 'metrics', outcome: 'success' })).toBe(1);
    expect(await counterValue(metrics.telemetryPushFailures, { sink: 'metrics' })).toBe(0);
    await pusher.stop(100);
  });

  test('when the receiver answers 429 with Retry-After, then the retry waits at least that long', async () => {
    const { calls, fetchImpl } = scriptedFetch((i) => (i === 0 ? new Response(null, { status: 429, headers: { 'Retry-After': '1' } }) : new Response(null, { status: 200 })));
    const pusher = createMetricsPusher({ url: 'http://r.test/w', intervalSeconds: 60, registry: new Registry(), metrics: createMetrics({ defaultMetrics: false }), labels: { source: 's', instance: 'i' }, fetchImpl, retryBaseMs: 1 });
    await pusher.pushNow();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(990);
    await pusher.stop(100);
  });

  test('when the receiver answers 400, then the batch is not retried, the failure is counted and logged once without secrets', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const logged: string[] = [];
    const logger = { info: (o: object, m?: string) => logged.push(JSON.stringify({ o, m })), warn: (o: object, m?: string) => logged.push(JSON.stringify({ o, m })) };
    const { calls, fetchImpl } = scriptedFetch((i) => (i < 3 ? new Response('out of order sample', { status: 400 }) : new Response(null, { status: 200 })));
    const pusher = createMetricsPusher({ url: 'http://r.test/w?tenant=x', user: 'u', password: 'hunter2-password', intervalSeconds: 60, registry: new Registry(), metrics, labels: { source: 's', instance: 'i' }, fetchImpl, logger });

    await pusher.pushNow();
    await pusher.pushNow();
    await pusher.pushNow();

    expect(calls).toHaveLength(3);
    expect(await counterValue(metrics.telemetryPushFailures, { sink: 'metrics' })).toBe(3);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain('out of order sample');
    expect(logged[0]).toContain('http://r.test/w');
    await pusher.pushNow();
    expect(logged).toHaveLength(2);
    expect(logged[1]).toContain('recovered');
    for (const line of logged) {
      expect(line).not.toContain('hunter2');
      expect(line).not.toContain(Buffer.from('u:hunter2-password').toString('base64'));
      expect(line).not.toContain('tenant');
    }
    await pusher.stop(100);
  });

  test('when the network fails every time, then it gives up after maxAttempts and counts one failed push', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const { calls, fetchImpl } = scriptedFetch(() => Promise.reject(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } })));
    const pusher = createMetricsPusher({ url: 'http://r.test/w', intervalSeconds: 60, registry: new Registry(), metrics, labels: { source: 's', instance: 'i' }, fetchImpl, maxAttempts: 4, retryBaseMs: 2 });
    await pusher.pushNow();
    expect(calls).toHaveLength(4);
    expect(await counterValue(metrics.telemetryPushes, { sink: 'metrics', outcome: 'failure' })).toBe(4);
    expect(await counterValue(metrics.telemetryPushFailures, { sink: 'metrics' })).toBe(1);
    await pusher.stop(100);
  });

  test('when the receiver never answers, then each attempt is cut by the timeout', async () => {
    const never = (_i: number, signal: AbortSignal) =>
      new Promise<Response>((_resolve, reject) => signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
    const { calls, fetchImpl } = scriptedFetch(never);
    const started = Date.now();
    const pusher = createMetricsPusher({ url: 'http://r.test/w', intervalSeconds: 60, registry: new Registry(), metrics: createMetrics({ defaultMetrics: false }), labels: { source: 's', instance: 'i' }, fetchImpl, timeoutMs: 50, maxAttempts: 2, retryBaseMs: 1 });
    await pusher.pushNow();
    expect(calls).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(2000);
    await pusher.stop(100);
  });

  test('when batches pile up behind a hanging push, then the oldest queued ones are dropped and counted', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const gauge = new Gauge({ name: 'seq', help: 'h', registers: [metrics.registry] });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { calls, fetchImpl } = scriptedFetch(async () => {
      await gate;
      return new Response(null, { status: 200 });
    });
    const pusher = createMetricsPusher({ url: 'http://r.test/w', intervalSeconds: 60, registry: metrics.registry, metrics, labels: { source: 's', instance: 'i' }, fetchImpl, maxQueue: 2 });
    // Each push must take its own snapshot before the gauge moves on (a burst would share one).
    const collect = metrics.registry.getMetricsAsJSON.bind(metrics.registry);
    let collections = 0;
    jest.spyOn(metrics.registry, 'getMetricsAsJSON').mockImplementation(async () => {
      const result = await collect();
      collections++;
      return result;
    });

    const pushes: Promise<void>[] = [];
    for (let i = 1; i <= 5; i++) {
      gauge.set(i);
      pushes.push(pusher.pushNow());
      await waitFor(() => collections === i && calls.length === 1);
    }
    await waitFor(async () => (await counterValue(metrics.telemetryPushFailures, { sink: 'metrics' })) === 2);
    release();
    await Promise.all(pushes);

    const sent = calls.map((c) => decodeBody(c.body).find((s) => labelsOf(s).__name__ === 'seq')!.samples[0]!.value);
    expect(sent).toEqual([1, 4, 5]);
    await pusher.stop(100);
  });

  test('when stopped, then a final batch is pushed, the timer is gone and later pushes do nothing', async () => {
    const { calls, fetchImpl } = scriptedFetch(() => new Response(null, { status: 200 }));
    const pusher = createMetricsPusher({ url: 'http://r.test/w', intervalSeconds: 0.1, registry: new Registry(), metrics: createMetrics({ defaultMetrics: false }), labels: { source: 's', instance: 'i' }, fetchImpl });
    pusher.start();
    await waitFor(() => calls.length >= 2);
    await pusher.stop(1000);
    const afterStop = calls.length;
    await pusher.pushNow();
    await new Promise((r) => setTimeout(r, 250));
    expect(calls.length).toBe(afterStop);
  });

  test('when the receiver is down at shutdown, then stop() returns by its deadline', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const never = (_i: number, signal: AbortSignal) => new Promise<Response>((_r, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    const pusher = createMetricsPusher({ url: 'http://r.test/w', intervalSeconds: 60, registry: new Registry(), metrics, labels: { source: 's', instance: 'i' }, fetchImpl: scriptedFetch(never).fetchImpl, timeoutMs: 60_000 });
    const started = Date.now();
    await pusher.stop(200);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await counterValue(metrics.telemetryPushFailures, { sink: 'metrics' })).toBe(1);
  });
});

describe('retry helpers', () => {
  test('backoff doubles per attempt, is capped, and jitters within [50%, 100%]', () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelayMs(1, policy, () => 1)).toBe(100);
    expect(backoffDelayMs(3, policy, () => 1)).toBe(400);
    expect(backoffDelayMs(3, policy, () => 0)).toBe(200);
    expect(backoffDelayMs(10, policy, () => 1)).toBe(1000);
  });

  test('Retry-After is read as seconds or as an HTTP date', () => {
    expect(parseRetryAfterMs('3')).toBe(3000);
    expect(parseRetryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfterMs('soon')).toBeUndefined();
    expect(parseRetryAfterMs(null)).toBeUndefined();
  });
});
