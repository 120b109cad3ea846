import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { freePort, median, metricSample, waitFor, registerDiner, report, request, startTestService, tempDir, type ServiceUnderTest } from './support';

// The metrics (remote_write) and log (Loki) receivers fail: nothing listens, or they accept the
// connection and never answer. Pushing happens beside request handling, so diners must not notice:
// the median latency of 50 requests stays within a generous factor of a service with no push at all.

jest.setTimeout(90_000);

/** Accepts connections and never answers, like a wedged proxy. */
async function blackHole(): Promise<{ url: string; connections(): number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
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
    metrics: string;
    shutdownMs: number;
  }

  async function measure(env: Record<string, string>, name: string): Promise<Run> {
    const service: ServiceUnderTest = await startTestService({ DATABASE_URL: `sqlite:${join(dir.path, `${name}.db`)}`, METRICS_PUSH_INTERVAL: '0.1', ...env });
    const statuses: number[] = [];
    const times: number[] = [];
    let shutdownMs = NaN;
    let metrics = '';
    try {
      const diner = await registerDiner(service.url, name);
      for (let i = 0; i < 60; i++) {
        const path = i % 2 ? '/api/user/me' : '/api/franchise?page=0&limit=10&name=*';
        const res = await request(service.url, 'GET', path, { token: diner.token, timeoutMs: 10_000 });
        statuses.push(res.status);
        if (i >= 10) times.push(res.ms); // the first ten warm up connections and caches
      }
      if (env.METRICS_PUSH_URL && !env.METRICS_PUSH_URL.startsWith(hole.url)) {
        // A refused push is counted as soon as its first attempt fails.
        metrics = await waitFor(
          'a failed push attempt is counted',
          async () => {
            const text = (await request(service.url, 'GET', '/metrics')).text;
            return metricSample(text, 'telemetry_push_total', { sink: 'metrics', outcome: 'failure' }) > 0 && text;
          },
          10_000,
        );
      }
    } finally {
      const started = performance.now();
      await service.shutdown();
      shutdownMs = performance.now() - started;
    }
    return { median: median(times), statuses, metrics, shutdownMs };
  }

  test('when the receivers refuse connections or never answer, then the request latency stays within noise and shutdown stays bounded', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const baseline = await measure({}, 'baseline');
    const refused = await measure({ METRICS_PUSH_URL: `${closed}/api/prom/push`, LOGS_PUSH_URL: `${closed}/loki/api/v1/push` }, 'refused');
    const hung = await measure({ METRICS_PUSH_URL: `${hole.url}/api/prom/push`, LOGS_PUSH_URL: `${hole.url}/loki/api/v1/push` }, 'hung');
    const again = await measure({}, 'baseline-again');

    for (const run of [baseline, refused, hung, again]) expect(run.statuses.filter((s) => s !== 200)).toEqual([]);
    expect(hole.connections()).toBeGreaterThan(0);
    // Generous: three times the slower baseline run, or 25 ms more, whichever is larger.
    const reference = Math.max(baseline.median, again.median);
    const bound = Math.max(reference * 3, reference + 25);
    expect(refused.median).toBeLessThan(bound);
    expect(hung.median).toBeLessThan(bound);
    // The final flush gives up on a receiver that never answers.
    for (const run of [refused, hung]) expect(run.shutdownMs).toBeLessThan(10_000);
    // The failures are visible to on-call, not silent.
    report(
      `telemetry receivers: median ms baseline ${baseline.median.toFixed(1)}/${again.median.toFixed(1)}, refused ${refused.median.toFixed(1)}, hung ${hung.median.toFixed(1)}; shutdown ms refused ${refused.shutdownMs.toFixed(0)}, hung ${hung.shutdownMs.toFixed(0)}`,
    );
  });
});
