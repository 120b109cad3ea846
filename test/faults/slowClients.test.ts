import { connect, type Socket } from 'node:net';
import { request, setUpStore, sleep, startTestService, type ServiceUnderTest } from './support';

// Slow-header and slow-body clients (slowloris, slow POST) against the real HTTP server of startService:
// each is answered with a JSON 408 and its socket closed within the configured bound (short bounds here),
// while other clients are served as usual meanwhile.

jest.setTimeout(30_000);

const HEADERS_MS = 1000;
const BODY_MS = 1000;
const REQUEST_MS = 2500;
// Generous: the bound, plus Node's check period (a quarter of the header bound), plus a loaded CI machine.
const CUT_OFF_WITHIN_MS = 4000;

interface RawExchange {
  /** Everything the server sent before the connection closed. */
  text: string;
  /** From connect until the server closed the connection. */
  closedAfterMs: number;
  /** Bytes the client managed to send before it was cut off. */
  sentBytes: number;
}

/**
 * A client on a raw socket that sends `head` at once and then one of `drip` every `everyMs`, until the
 * server closes the connection or `maxDrips` have gone (so the loop is bounded even if nothing cuts it).
 */
function tricklingClient(port: number, head: string, drip: string, options: { everyMs: number; maxDrips: number }): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket: Socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    let drips = 0;
    const send = (text: string) => {
      if (socket.destroyed || !socket.writable) return;
      socket.write(text);
      sent += Buffer.byteLength(text);
    };
    socket.on('connect', () => {
      if (head) send(head);
      timer = setInterval(() => {
        if (++drips > options.maxDrips) {
          clearInterval(timer);
          socket.destroy(new Error(`still open after ${options.maxDrips} drips`));
          return;
        }
        send(drip);
      }, options.everyMs);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A reset after the answer still counts as cut off; anything else is a failure.
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') {
        clearInterval(timer);
        reject(error);
      }
    });
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ text: Buffer.concat(chunks).toString('utf8'), closedAfterMs: performance.now() - started, sentBytes: sent });
    });
  });
}

function parseAnswer(text: string): { status: number; headers: string; body: any } {
  const split = text.indexOf('\r\n\r\n');
  const head = split < 0 ? text : text.slice(0, split);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  let body: any;
  try {
    body = JSON.parse(text.slice(split + 4));
  } catch {
    body = undefined;
  }
  return { status, headers: head.toLowerCase(), body };
}

/** Plain requests on fresh connections every `everyMs` while `work` runs: each must be answered 200 quickly. */
async function meanwhile<T>(base: string, work: Promise<T>, everyMs = 100): Promise<{ result: T; statuses: number[]; slowestMs: number }> {
  let done = false;
  const statuses: number[] = [];
  let slowestMs = 0;
  const bystander = (async () => {
    for (let i = 0; i < 200 && !done; i++) {
      const answer = await request(base, 'GET', '/api/order/menu', { timeoutMs: 5000 });
      statuses.push(answer.status);
      slowestMs = Math.max(slowestMs, answer.ms);
      await sleep(everyMs);
    }
  })();
  try {
    const result = await work;
    return { result, statuses, slowestMs };
  } finally {
    done = true;
    await bystander;
  }
}

describe('slow clients', () => {
  let service: ServiceUnderTest;
  let port: number;

  beforeAll(async () => {
    service = await startTestService({
      DATABASE_URL: 'sqlite::memory:',
      HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
      HTTP_BODY_TIMEOUT_MS: String(BODY_MS),
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_MS),
      RATE_LIMIT_PER_MINUTE: '100000',
    });
    port = service.port;
  });
  afterAll(() => service?.shutdown('test over'));

  test('when a client sends its headers one line every 200 ms (slowloris), then it gets a JSON 408 and is cut off within the header bound, while others are served', async () => {
    const attack = tricklingClient(port, 'GET /api/order/menu HTTP/1.1\r\nHost: localhost\r\n', 'X-Slow: drip\r\n', { everyMs: 200, maxDrips: 100 });
    const { result, statuses, slowestMs } = await meanwhile(service.url, attack);
    expect(result.closedAfterMs).toBeLessThan(CUT_OFF_WITHIN_MS);
    expect(result.closedAfterMs).toBeGreaterThanOrEqual(HEADERS_MS - 50);
    const answer = parseAnswer(result.text);
    expect(answer.status).toBe(408);
    expect(answer.headers).toContain('content-type: application/json');
    expect(answer.headers).toContain('connection: close');
    expect(answer.body).toEqual({ message: 'request not received in time' });
    expect(statuses.length).toBeGreaterThanOrEqual(3);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(slowestMs).toBeLessThan(2000);
  });

  test('when a client connects and sends nothing, then the connection is closed within the header bound', async () => {
    const idle = await tricklingClient(port, '', '', { everyMs: 200, maxDrips: 100 });
    expect(idle.closedAfterMs).toBeLessThan(CUT_OFF_WITHIN_MS);
  });

  test('when a JSON body trickles in one byte every 200 ms (slow POST), then 408 JSON through the error handler, counted, and the connection is closed', async () => {
    const head = ['PUT /api/auth HTTP/1.1', 'Host: localhost', 'Content-Type: application/json', 'Content-Length: 400', '', ''].join('\r\n');
    const attack = tricklingClient(port, head, ' ', { everyMs: 200, maxDrips: 100 });
    const { result, statuses } = await meanwhile(service.url, attack);
    expect(result.closedAfterMs).toBeLessThan(CUT_OFF_WITHIN_MS);
    const answer = parseAnswer(result.text);
    expect(answer.status).toBe(408);
    expect(answer.body).toEqual({ message: 'request body not received in time' });
    expect(answer.headers).toMatch(/x-request-id: /);
    expect(statuses.every((s) => s === 200)).toBe(true);
    // The 408 is an ordinary answer: in the access log and the request metrics.
    expect(service.logs().some((l) => l.type === 'http' && l.status === 408 && l.method === 'PUT')).toBe(true);
  });

  test('when a body declares more than BODY_LIMIT and then stalls, then 408 JSON within the body bound (the parser would wait to drain it before its 413)', async () => {
    const head = ['POST /api/auth HTTP/1.1', 'Host: localhost', 'Content-Type: application/json', `Content-Length: ${2 * 1024 * 1024}`, '', '{"name":'].join('\r\n');
    const stalled = await tricklingClient(port, head, '', { everyMs: 200, maxDrips: 100 });
    expect(stalled.closedAfterMs).toBeLessThan(CUT_OFF_WITHIN_MS);
    expect(parseAnswer(stalled.text).status).toBe(408);
  });

  test('when many slow clients hold connections at once, then all are cut off within the bound and a normal client is still served meanwhile', async () => {
    const attacks = Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 2
          ? tricklingClient(port, 'GET / HTTP/1.1\r\nHost: localhost\r\n', 'X-Slow: drip\r\n', { everyMs: 250, maxDrips: 100 })
          : tricklingClient(port, 'POST /api/auth HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{', '"', { everyMs: 250, maxDrips: 100 }),
      ),
    );
    const { result, statuses, slowestMs } = await meanwhile(service.url, attacks);
    expect(Math.max(...result.map((r) => r.closedAfterMs))).toBeLessThan(CUT_OFF_WITHIN_MS + 1000);
    expect(result.map((r) => parseAnswer(r.text).status)).toEqual(result.map(() => 408));
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(slowestMs).toBeLessThan(2000);
  });

  test('when an order waits at a slow factory longer than the request bound, then it is still answered 200 (the bounds are on receiving, not on answering)', async () => {
    const { adminToken, franchiseId, storeId } = await setUpStore(service.url);
    service.simulator!.simulator.chaos.activate('throttle', { delayMs: REQUEST_MS + 500 });
    try {
      const order = await request(service.url, 'POST', '/api/order', { token: adminToken, body: { franchiseId, storeId, items: [{ menuId: 1 }] }, timeoutMs: 15_000 });
      expect(order.ms).toBeGreaterThan(REQUEST_MS);
      expect(order.status).toBe(200);
      expect(order.body.order.status).toBe('fulfilled');
      expect(typeof order.body.jwt).toBe('string');
    } finally {
      service.simulator!.simulator.chaos.end();
    }
  });

  test('when a request line is malformed, then a JSON 400 instead of Node\'s empty one', async () => {
    const bad = await tricklingClient(port, 'NOT-HTTP\r\n\r\n', '', { everyMs: 200, maxDrips: 20 });
    const answer = parseAnswer(bad.text);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ message: 'malformed request' });
  });
});
