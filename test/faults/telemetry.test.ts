import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { freePort, median, metricSample, waitFor, registerDiner, report, request, startTestService, tempDir, type ServiceUnderTest } from './support';

// The metrics (remote_write) and log (Loki) receivers fail: nothing listens, or they accept the
// connection and never answer. Pushing happens beside request handling, so diners must not notice: every
// request is answered, and while a push hangs, requests are answered without waiting for it. The failures
// are counted (telemetry_push_total{outcome="failure"} on the /metrics on-call scrapes), and shutdown stays bounded.
// Not timed against a baseline: the medians are reported (FAULTS_REPORT=1), speeds belong in npm run bench.

jest.setTimeout(90_000);

/** Accepts connections and never answers, like a wedged proxy. */
async function blackHole(): Promise<{ url: string; connections(): number; held(): number[]; close(): Promise<void> }> {
  const sockets = new Map<Socket, number>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted += 1;
    sockets.set(socket, accepted);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => accepted,
    /** Ids of the connections open now (numbered in order of arrival; one leaves when its pusher gives up). */
    held: () => [...sockets.values()],
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets.keys()) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('metrics and log receivers down or hung', () => {
  const dir = tempDir('jwt-pizza-telemetry-faults-');
  let hole: Awaited<ReturnType<typeof blackHole>>;
  beforeAll(async () => {
    hole = await blackHole();
  });
  afterAll(async () => {
    await hole.close();
    dir.remove();
  });

  interface Run {
    median: number;
    statuses: number[];
    /** Requests that started while a push was held by the black hole, and of those the ones answered while that push was still held. */
    startedWhileHeld: number;
    answeredWhileHeld: number;
    /** telemetry_push_total{outcome="failure"} per sink, once both are counted (push runs only). */
    failedPushes: { metrics: number; logs: number };
    shutdownMs: number;
  }

  async function measure(env: Record<string, string>, name: string): Promise<Run> {
    const service: ServiceUnderTest = await startTestService({ DATABASE_URL: `sqlite:${join(dir.path, `${name}.db`)}`, METRICS_PUSH_INTERVAL: '0.1', ...env });
    const statuses: number[] = [];
    const times: number[] = [];
    let startedWhileHeld = 0;
    let answeredWhileHeld = 0;
    let failedPushes = { metrics: 0, logs: 0 };
    let shutdownMs = NaN;
    const intoHole = env.METRICS_PUSH_URL?.startsWith(hole.url) ?? false;
    try {
      const diner = await registerDiner(service.url, name);
      // Requests are made while a push hangs, not before the first one.
      if (intoHole) await waitFor('a push held by the black hole', async () => hole.held().length > 0, 10_000);
      for (let i = 0; i < 60; i++) {
        const path = i % 2 ? '/api/user/me' : '/api/franchise?page=0&limit=10&name=*';
        const heldBefore = hole.held();
        const res = await request(service.url, 'GET', path, { token: diner.token, timeoutMs: 10_000 });
        statuses.push(res.status);
        if (i >= 10) times.push(res.ms); // the first ten warm up connections and caches
        if (intoHole && heldBefore.length > 0) {
          startedWhileHeld += 1;
          const heldAfter = new Set(hole.held());
          if (heldBefore.some((id) => heldAfter.has(id))) answeredWhileHeld += 1;
        }
      }
      if (env.METRICS_PUSH_URL) {
        // Visible to on-call: each sink's failed attempts are counted (a hung one once its attempt times out).
        failedPushes = await waitFor(
          'failed pushes of both sinks counted',
          async () => {
            const text = (await request(service.url, 'GET', '/metrics')).text;
            const counted = {
              metrics: metricSample(text, 'telemetry_push_total', { sink: 'metrics', outcome: 'failure' }),
              logs: metricSample(text, 'telemetry_push_total', { sink: 'logs', outcome: 'failure' }),
            };
            return counted.metrics > 0 && counted.logs > 0 && counted;
          },
          30_000,
        );
      }
    } finally {
      const started = performance.now();
      await service.shutdown();
      shutdownMs = performance.now() - started;
    }
    return { median: median(times), statuses, startedWhileHeld, answeredWhileHeld, failedPushes, shutdownMs };
  }

  test('when the receivers refuse connections or never answer, then every request is answered without waiting for a push, the failures are counted, and shutdown stays bounded', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const baseline = await measure({}, 'baseline');
    const refused = await measure({ METRICS_PUSH_URL: `${closed}/api/prom/push`, LOGS_PUSH_URL: `${closed}/loki/api/v1/push` }, 'refused');
    const hung = await measure({ METRICS_PUSH_URL: `${hole.url}/api/prom/push`, LOGS_PUSH_URL: `${hole.url}/loki/api/v1/push` }, 'hung');

    for (const run of [baseline, refused, hung]) expect(run.statuses.filter((s) => s !== 200)).toEqual([]);
    expect(hole.connections()).toBeGreaterThan(0);
    // A request that waited for a hung push could only be answered once the pusher gave up on it (5 s), so
    // a request answered while the push held from before it is still held did not wait. On a healthy service
    // that is nearly all of them; it is none if requests wait for pushes.
    expect(hung.startedWhileHeld).toBeGreaterThan(0);
    expect(hung.answeredWhileHeld).toBeGreaterThanOrEqual(hung.startedWhileHeld / 2);
    // The failures are visible to on-call, not silent: counted for both sinks, refused and hung alike.
    for (const run of [refused, hung]) {
      expect(run.failedPushes.metrics).toBeGreaterThan(0);
      expect(run.failedPushes.logs).toBeGreaterThan(0);
    }
    // The final flush gives up on a receiver that never answers (its budget is 5 s). One that waited would
    // never end; 20 s leaves a loaded machine all the margin it needs.
    for (const run of [refused, hung]) expect(run.shutdownMs).toBeLessThan(20_000);
    report(
      `telemetry receivers: median ms baseline ${baseline.median.toFixed(1)}, refused ${refused.median.toFixed(1)}, hung ${hung.median.toFixed(1)}; ` +
        `hung: ${hung.answeredWhileHeld}/${hung.startedWhileHeld} requests answered while a push hung; shutdown ms refused ${refused.shutdownMs.toFixed(0)}, hung ${hung.shutdownMs.toFixed(0)}`,
    );
  });
});
