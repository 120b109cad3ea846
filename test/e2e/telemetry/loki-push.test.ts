import { createLogger } from '../../../src/shared/logging/logger';
import { createLokiStream, type LokiStream } from '../../../src/shared/logging/lokiPush';
import { createMetrics, type Metrics } from '../../../src/shared/metrics/metrics';
import { startLokiReceiver } from './lokiReceiver';

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function count(metrics: Metrics, name: 'logLinesDropped' | 'telemetryPushes' | 'telemetryPushFailures', labels: Record<string, string> = {}) {
  const { values } = await metrics[name].get();
  return values.find((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x))?.value ?? 0;
}

describe('Loki push', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  test('when the service logs, then the receiver gets Loki JSON streams labelled only by service, env, level and type', async () => {
    const receiver = await startLokiReceiver();
    cleanups.push(receiver.close);
    const metrics = createMetrics({ defaultMetrics: false });
    const loki = createLokiStream({ url: receiver.url, user: '987654', password: 'glc_loki-token', labels: { service: 'jwt-pizza-service', env: 'test' }, metrics, flushIntervalMs: 50 });
    cleanups.push(() => loki.stop(500));
    const stdout: string[] = [];
    const logger = createLogger({ level: 'info', service: 'jwt-pizza-service', env: 'test', destination: { write: (line: string) => void stdout.push(line) }, streams: [loki.stream] });

    logger.info({ type: 'http', method: 'GET', route: '/api/order/menu', path: '/api/order/menu', status: 200, latencyMs: 3.2, authorized: false, reqId: 'r-1' }, 'GET /api/order/menu 200');
    logger.child({ type: 'db' }).info({ statement: 'SELECT * FROM menu', durationMs: 1.1 }, 'query');
    logger.child({ type: 'db' }).debug({ statement: 'below the level' }, 'not sent');
    logger.warn({ type: 'security', category: 'dotenv', path: '/prod/.env' }, 'scanner probe');
    logger.error({ type: 'error', err: new Error('boom') }, 'unhandled error');
    logger.info({ user: { id: 7 } }, 'plain application line');

    // No explicit flush: the interval timer sends them.
    await waitFor(() => receiver.lines().length === 5, 15_000, 'five lines at the receiver');
    expect(receiver.formatErrors).toEqual([]);
    expect(receiver.authorizations[0]).toBe(`Basic ${Buffer.from('987654:glc_loki-token').toString('base64')}`);
    const labelSets = receiver.accepted.flatMap((push) => push.streams.map((s) => `${s.stream.level}/${s.stream.type}`)).sort();
    expect(labelSets).toEqual(['error/error', 'info/app', 'info/db', 'info/http', 'warn/security']);
    for (const push of receiver.accepted) {
      for (const s of push.streams) expect(s.stream).toMatchObject({ service: 'jwt-pizza-service', env: 'test' });
    }
    // Loki gets exactly what stdout got, one line per entry, with a nanosecond timestamp of about now.
    expect(receiver.lines().sort()).toEqual(stdout.map((line) => line.trimEnd()).sort());
    const http = receiver.accepted.flatMap((p) => p.streams).find((s) => s.stream.type === 'http')!;
    expect(JSON.parse(http.values[0]![1])).toMatchObject({ type: 'http', route: '/api/order/menu', status: 200, reqId: 'r-1', msg: 'GET /api/order/menu 200' });
    expect(Math.abs(Number(BigInt(http.values[0]![0]) / 1_000_000n) - Date.now())).toBeLessThan(60_000);
    // The receiver stores before it answers, so the client's counter may trail by a moment.
    await waitFor(async () => (await count(metrics, 'telemetryPushes', { sink: 'logs', outcome: 'success' })) >= 1, 5000, 'a counted success');
    expect(await count(metrics, 'telemetryPushes', { sink: 'logs', outcome: 'failure' })).toBe(0);
  });

  test('when the receiver fails the first pushes with 500 and recovers, then every line arrives exactly once and in order', async () => {
    const receiver = await startLokiReceiver({ failFirst: 3 });
    cleanups.push(receiver.close);
    const metrics = createMetrics({ defaultMetrics: false });
    const loki = createLokiStream({ url: receiver.url, labels: { service: 'svc', env: 'test' }, metrics, batchSize: 100, flushIntervalMs: 20, retryBaseMs: 20, maxAttempts: 10 });
    cleanups.push(() => loki.stop(500));

    const total = 2000;
    for (let seq = 0; seq < total; seq++) {
      loki.stream.write(`${JSON.stringify({ level: 'info', type: 'http', seq })}\n`);
      if (seq % 500 === 499) await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => receiver.lines().length >= total, 20_000, 'all lines at the receiver');
    await loki.flush();

    const seqs = receiver.lines().map((line) => (JSON.parse(line) as { seq: number }).seq);
    expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i));
    const stamps = receiver.accepted.flatMap((p) => p.streams.flatMap((s) => s.values.map(([ns]) => BigInt(ns))));
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]! > stamps[i - 1]!).toBe(true);
    expect(receiver.formatErrors).toEqual([]);
    expect(await count(metrics, 'telemetryPushes', { sink: 'logs', outcome: 'failure' })).toBe(3);
    expect(await count(metrics, 'telemetryPushFailures', { sink: 'logs' })).toBe(0);
    expect(await count(metrics, 'logLinesDropped')).toBe(0);
  });

  test('when the receiver goes away, then writes never touch the network, the buffer stays bounded and dropped lines are counted', async () => {
    const receiver = await startLokiReceiver();
    cleanups.push(receiver.close);
    const metrics = createMetrics({ defaultMetrics: false });
    let pushes = 0;
    const fetchImpl = (url: string, init: RequestInit) => {
      pushes += 1;
      return fetch(url, init);
    };
    const loki: LokiStream = createLokiStream({ url: receiver.url, labels: { service: 'svc', env: 'test' }, metrics, batchSize: 100, maxBuffer: 1000, flushIntervalMs: 20, retryBaseMs: 20, maxAttempts: 3, timeoutMs: 500, fetchImpl });
    cleanups.push(() => loki.stop(200));

    for (let i = 0; i < 50; i++) loki.stream.write(`{"level":"info","phase":"before","i":${i}}\n`);
    await loki.flush();
    expect(receiver.lines()).toHaveLength(50);
    await receiver.close();

    const total = 5000;
    const pushesBefore = pushes;
    for (let i = 0; i < total; i++) loki.stream.write(`{"level":"info","type":"http","phase":"after","i":${i}}\n`);
    // Counted, not timed (a speed is for npm run bench): the 5,000 writes started no push, so the caller never
    // waits on the network, and the buffer kept its newest 1,000 lines and counted every line it let go.
    expect(pushes).toBe(pushesBefore);
    expect(await count(metrics, 'logLinesDropped')).toBeGreaterThanOrEqual(total - 1000);
    await waitFor(async () => (await count(metrics, 'telemetryPushes', { sink: 'logs', outcome: 'failure' })) >= 1, 15_000, 'a failed push attempt');
    await loki.stop(200);
    // Every line is accounted for: delivered before the receiver left, or counted as dropped.
    expect(await count(metrics, 'logLinesDropped')).toBe(total);
    expect(receiver.lines()).toHaveLength(50);
  });
});
