import express from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMetrics, type Metrics } from '../../../src/shared/metrics/metrics';
import { createMetricsPusher } from '../../../src/shared/metrics/remoteWrite';
import { decodeWriteRequest } from '../../unit/telemetry/protobuf';
import { freePort } from './prometheus';

const snappy: { uncompress(input: Uint8Array): Uint8Array } = require('snappyjs');

async function listen(handler: http.RequestListener): Promise<{ server: http.Server; url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One request to the in-process service on a fresh client connection; rejects if it is not answered within 5 s. */
function timedGet(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve());
    });
    request.setTimeout(5000, () => request.destroy(new Error('service did not answer within 5 s')));
    request.on('error', reject);
  });
}

async function counterValue(metrics: Metrics, name: 'telemetryPushes' | 'telemetryPushFailures', labels: Record<string, string>) {
  const { values } = await metrics[name].get();
  return values.find((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x))?.value ?? 0;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a broken metrics receiver does not hurt the service', () => {
  let service: Awaited<ReturnType<typeof listen>>;

  beforeAll(async () => {
    service = await listen((_req, res) => res.end('pong'));
  });
  afterAll(async () => {
    await service?.close();
  });

  async function exerciseWhilePushing(receiverUrl: string, isHanging: (metrics: Metrics) => Promise<boolean>) {
    const metrics = createMetrics();
    const pusher = createMetricsPusher({
      url: receiverUrl,
      intervalSeconds: 60,
      registry: metrics.registry,
      metrics,
      labels: { source: 'jwt-pizza-service', instance: 'resilience' },
      // Attempts back to back for the whole measurement: requests are made while pushes keep failing and
      // hanging, so a pusher that held the event loop would leave them unanswered.
      timeoutMs: 50,
      retryBaseMs: 2,
      retryMaxMs: 5,
      maxAttempts: 100_000,
    });
    try {
      // Nobody on the request path awaits these.
      const pushes = Array.from({ length: 200 }, () => pusher.pushNow());
      await waitFor(() => isHanging(metrics));

      // Counted, not timed (speeds are for npm run bench): requests keep being answered while the pusher keeps
      // failing and retrying; at least 15 requests, and at least 3 more failed attempts in the meantime.
      // Requests and failing pushes take turns on the event loop; a pusher that held it (a retry loop that
      // never yields) would leave a request unanswered (timedGet gives up after 5 s).
      const failures = () => counterValue(metrics, 'telemetryPushes', { sink: 'metrics', outcome: 'failure' });
      const failuresBefore = await failures();
      expect(failuresBefore).toBeGreaterThanOrEqual(1);
      let answered = 0;
      while (answered < 15 || (await failures()) < failuresBefore + 3) {
        if (answered >= 5000) throw new Error(`${answered} requests answered, but the pusher made ${(await failures()) - failuresBefore} attempts meanwhile`);
        await timedGet(service.url);
        answered += 1;
      }
      expect(await counterValue(metrics, 'telemetryPushes', { sink: 'metrics', outcome: 'success' })).toBe(0);

      // stop(300) gives up on the attempts in flight. One that waited for them instead would take 100,000
      // attempts; 10 s leaves a loaded machine all the margin it needs.
      const started = Date.now();
      await pusher.stop(300);
      expect(Date.now() - started).toBeLessThan(10_000);
      // Every caller is released once the pusher stops; none hangs, and the lost batches are counted.
      await Promise.all(pushes);
      expect(await counterValue(metrics, 'telemetryPushFailures', { sink: 'metrics' })).toBeGreaterThanOrEqual(1);
    } finally {
      await pusher.stop(100);
    }
  }

  test('when the receiver port is closed, then requests keep being answered and failures are counted', async () => {
    const deadPort = await freePort();
    await exerciseWhilePushing(`http://127.0.0.1:${deadPort}/api/v1/write`, async (metrics) => (await counterValue(metrics, 'telemetryPushes', { sink: 'metrics', outcome: 'failure' })) >= 2);
  });

  test('when the receiver accepts connections but never answers, then requests keep being answered and timeouts are counted', async () => {
    let received = 0;
    const slow = await listen(() => {
      received++; // and never answer
    });
    try {
      // Hanging means: the receiver holds a request and at least one attempt has already timed out.
      await exerciseWhilePushing(
        `${slow.url}/api/v1/write`,
        async (metrics) => received >= 2 && (await counterValue(metrics, 'telemetryPushes', { sink: 'metrics', outcome: 'failure' })) >= 1,
      );
    } finally {
      await slow.close();
    }
  });
});

describe('remote_write request as a receiver sees it', () => {
  test('when credentials are configured, then a receiver gets basic auth, the remote_write headers and a decodable body', async () => {
    const requests: { headers: http.IncomingHttpHeaders; body: Buffer }[] = [];
    const app = express();
    // Read by hand: body-parser refuses the snappy Content-Encoding it cannot inflate.
    app.post('/api/prom/push', async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      requests.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.status(204).end();
    });
    const receiver = await listen(app);
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.purchases.inc({ outcome: 'success', reason: 'none' }, 2);
    const pusher = createMetricsPusher({
      url: `${receiver.url}/api/prom/push`,
      user: '123456',
      password: 'glc_secret-token',
      intervalSeconds: 60,
      registry: metrics.registry,
      metrics,
      labels: { source: 'jwt-pizza-service', instance: 'auth-test' },
    });
    try {
      await pusher.pushNow();
      expect(requests).toHaveLength(1);
      const { headers, body } = requests[0]!;
      expect(headers.authorization).toBe(`Basic ${Buffer.from('123456:glc_secret-token').toString('base64')}`);
      expect(headers['content-encoding']).toBe('snappy');
      expect(headers['content-type']).toBe('application/x-protobuf');
      expect(headers['x-prometheus-remote-write-version']).toBe('0.1.0');
      expect(headers['user-agent']).toMatch(/^jwt-pizza-service-telemetry\//);
      const series = decodeWriteRequest(snappy.uncompress(new Uint8Array(body)));
      const success = series.find((s) => s.labels.some(([n, v]) => n === 'outcome' && v === 'success') && s.labels[0]![1] === 'pizza_purchases_total');
      expect(success?.labels).toEqual([['__name__', 'pizza_purchases_total'], ['instance', 'auth-test'], ['outcome', 'success'], ['reason', 'none'], ['source', 'jwt-pizza-service']]);
      expect(success?.samples[0]?.value).toBe(2);
    } finally {
      await pusher.stop(500);
      await receiver.close();
    }
  });
});
