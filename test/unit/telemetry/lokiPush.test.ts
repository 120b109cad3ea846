import { createMetrics } from '../../../src/shared/metrics/metrics';
import { buildLokiPushBody, createLokiStream } from '../../../src/shared/logging/lokiPush';

type LokiBody = { streams: { stream: Record<string, string>; values: [string, string][] }[] };

const base = { service: 'svc', env: 'test' };

async function counterValue(metric: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> }, labels: Record<string, string> = {}) {
  const { values } = await metric.get();
  return values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
}

describe('buildLokiPushBody', () => {
  test('when lines of several levels and types are batched, then they are grouped by low-cardinality labels in order', () => {
    const lines = [
      { ns: '1000000001', line: '{"level":"info","type":"http","path":"/a"}' },
      { ns: '1000000002', line: '{"level":"error","type":"error","msg":"x"}' },
      { ns: '1000000003', line: '{"level":"info","type":"http","path":"/b"}' },
      { ns: '1000000004', line: '{"level":30,"msg":"numeric level, no type"}' },
      { ns: '1000000005', line: 'not json at all' },
      { ns: '1000000006', line: '{"level":"info","type":"Robert\'); DROP TABLE","req":{"type":"nested"}}' },
    ];
    const body = JSON.parse(buildLokiPushBody(lines, base)) as LokiBody;
    expect(body.streams).toEqual([
      { stream: { service: 'svc', env: 'test', level: 'info', type: 'http' }, values: [['1000000001', lines[0]!.line], ['1000000003', lines[2]!.line]] },
      { stream: { service: 'svc', env: 'test', level: 'error', type: 'error' }, values: [['1000000002', lines[1]!.line]] },
      { stream: { service: 'svc', env: 'test', level: 'info', type: 'app' }, values: [['1000000004', lines[3]!.line], ['1000000005', lines[4]!.line], ['1000000006', lines[5]!.line]] },
    ]);
  });
});

describe('stream labels', () => {
  test.each([
    ['{"level":"warn","req":{"type":"nested"},"msg":"x"}', 'warn', 'app'],
    ['{"level":"info","req":{"body":{"type":"evil"}},"list":[{"type":"x"}],"type":"http"}', 'info', 'http'],
    ['{"level":"info","msg":"has \\"type\\":\\"fake\\" inside","type":"db"}', 'info', 'db'],
    ['{"level":50,"type":"error"}', 'error', 'error'],
    ['{"level":"verbose","type":"UPPER"}', 'info', 'app'],
    ['[1,2]', 'info', 'app'],
    ['{"level":"info","type":"http"', 'info', 'http'],
  ])('%s → level %s, type %s', (line, level, type) => {
    expect(JSON.parse(buildLokiPushBody([{ ns: '1', line }], base)).streams[0].stream).toEqual({ ...base, level, type });
  });
});

describe('createLokiStream', () => {
  test('when lines are written in one millisecond, then their nanosecond timestamps are strictly increasing', async () => {
    const bodies: LokiBody[] = [];
    const loki = createLokiStream({
      url: 'http://loki.test/loki/api/v1/push',
      labels: base,
      metrics: createMetrics({ defaultMetrics: false }),
      fetchImpl: async (_url, init) => {
        bodies.push(JSON.parse(init.body as string) as LokiBody);
        return new Response(null, { status: 204 });
      },
    });
    for (let i = 0; i < 50; i++) loki.stream.write(`{"level":"info","i":${i}}\n`);
    await loki.flush();
    const stamps = bodies.flatMap((b) => b.streams.flatMap((s) => s.values.map(([ns]) => BigInt(ns))));
    expect(stamps).toHaveLength(50);
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]! > stamps[i - 1]!).toBe(true);
    expect(Number(stamps[0]! / 1_000_000n)).toBeGreaterThan(Date.now() - 60_000);
    expect(bodies[0]!.streams[0]!.values[0]![1]).toBe('{"level":"info","i":0}');
    await loki.stop(100);
  });

  test('when the receiver keeps failing, then the batch is dropped after maxAttempts and counted', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let calls = 0;
    const loki = createLokiStream({
      url: 'http://loki.test/push',
      labels: base,
      metrics,
      maxAttempts: 3,
      retryBaseMs: 1,
      fetchImpl: async () => {
        calls++;
        return new Response('down', { status: 502 });
      },
    });
    for (let i = 0; i < 10; i++) loki.stream.write(`{"level":"info","i":${i}}\n`);
    await loki.flush();
    expect(calls).toBe(3);
    expect(await counterValue(metrics.logLinesDropped)).toBe(10);
    expect(await counterValue(metrics.telemetryPushFailures, { sink: 'logs' })).toBe(1);
    expect(await counterValue(metrics.telemetryPushes, { sink: 'logs', outcome: 'failure' })).toBe(3);
    await loki.stop(100);
  });

  test('when the receiver answers 400, then the batch is dropped without retry', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let calls = 0;
    const loki = createLokiStream({
      url: 'http://loki.test/push',
      labels: base,
      metrics,
      fetchImpl: async () => {
        calls++;
        return new Response('entry too far behind', { status: 400 });
      },
    });
    loki.stream.write('{"level":"info"}\n');
    await loki.flush();
    expect(calls).toBe(1);
    expect(await counterValue(metrics.logLinesDropped)).toBe(1);
    await loki.stop(100);
  });

  test('when stopped with a hanging receiver, then stop() keeps its deadline and counts unsent lines', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const loki = createLokiStream({
      url: 'http://loki.test/push',
      labels: base,
      metrics,
      batchSize: 5,
      timeoutMs: 60_000,
      fetchImpl: (_url, init) => new Promise((_r, reject) => (init.signal as AbortSignal).addEventListener('abort', () => reject(new Error('aborted')))),
    });
    for (let i = 0; i < 12; i++) loki.stream.write(`{"level":"info","i":${i}}\n`);
    const started = Date.now();
    await loki.stop(150);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await counterValue(metrics.logLinesDropped)).toBe(12);
    loki.stream.write('{"level":"info","late":true}\n');
    expect(await counterValue(metrics.logLinesDropped)).toBe(13);
  });
});
