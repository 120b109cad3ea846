import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bearer, buildAdmin, buildFranchise, buildTestApp, buildUser, FACTORY_ADMIN_KEY, FACTORY_API_KEY, oneItemOrder as order, eventually, type TestApp, type TestUser } from '../helpers/app';

// The on-call report action (POST /api/order/factory/report) against the simulator, which answers report URLs as the
// production factory does: 200 "Problem resolved…", 400 "Problem unresolved" for a stale or wrong code, 200 "No chaos
// currently executing" when nothing runs.

const REPORT = '/api/order/factory/report';

async function adminChaos(t: TestApp, method: 'PUT' | 'DELETE', path: string, body: Record<string, unknown> = {}) {
  const res = await fetch(`${t.simulator.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${FACTORY_ADMIN_KEY}`, 'Content-Type': 'application/json' },
    ...(method === 'PUT' ? { body: JSON.stringify(body) } : {}),
  });
  expect(res.status).toBe(200);
}

describe('the on-call report action', () => {
  let t: TestApp;
  let admin: TestUser;
  let diner: TestUser;
  let franchise: Awaited<ReturnType<typeof buildFranchise>>;

  async function setUp(options: Parameters<typeof buildTestApp>[0] = {}) {
    t = await buildTestApp(options);
    admin = await buildAdmin(t);
    franchise = await buildFranchise(t, { admin });
    diner = await buildUser(t);
  }
  const placeOrder = () => t.http.post('/api/order').set('Authorization', bearer(diner)).send(order(franchise));
  const report = () => t.http.post(REPORT).set('Authorization', bearer(admin));
  const reportLogs = () => t.logs().filter((l) => l.type === 'factory' && l.event === 'report');

  afterEach(async () => {
    await t?.close();
  });

  test('when fail chaos is on, then one report action resolves it (naming the order used), the next order is fulfilled, and the resolved URL is never called again', async () => {
    await setUp();
    await adminChaos(t, 'PUT', '/api/chaos/fail');
    const failed = await placeOrder();
    expect(failed.status).toBe(502);

    const resolved = await report();
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ outcome: 'resolved', factoryStatus: 200, factoryMessage: 'Problem resolved. Pizza is back on the menu!', orderId: failed.body.orderId });
    expect(resolved.body.reportUrl).toMatch(/^https:\/\/127\.0\.0\.1\/api\/support\/\[REDACTED\]\/report\/[a-z0-9]{8}$/);
    expect(JSON.stringify(resolved.body)).not.toContain(FACTORY_API_KEY);
    expect(t.simulator.simulator.chaos.current()).toBeNull();
    expect((await placeOrder()).status).toBe(200);

    const again = await report();
    expect(again.status).toBe(404);
    expect(again.body.message).toMatch(/no report URL of a running chaos/);
    expect(reportLogs().map((l) => l.outcome)).toEqual(['resolved']);
    expect(t.rawLogs()).not.toContain(FACTORY_API_KEY);
  });

  test('when badjwt chaos is on, then one report action ends it and the next order is fulfilled', async () => {
    await setUp();
    await adminChaos(t, 'PUT', '/api/chaos/badjwt');
    const bad = await placeOrder();
    expect([bad.status, bad.body.reason]).toEqual([502, 'invalid_jwt']);

    const resolved = await report();
    expect([resolved.status, resolved.body.outcome, resolved.body.orderId]).toEqual([200, 'resolved', bad.body.orderId]);
    expect((await placeOrder()).status).toBe(200);
  });

  test('when the stored URL is stale (a newer chaos replaced it), then the factory answers 400 and the admin gets 502 naming it; the new chaos URL then resolves', async () => {
    await setUp();
    await adminChaos(t, 'PUT', '/api/chaos/fail');
    const first = await placeOrder();
    await adminChaos(t, 'PUT', '/api/chaos/fail');

    const stale = await report();
    expect(stale.status).toBe(502);
    expect(stale.body).toMatchObject({ outcome: 'unresolved', factoryStatus: 400, factoryMessage: 'Problem unresolved', orderId: first.body.orderId });
    expect(stale.body.message).toBe('the factory answered 400: Problem unresolved (the URL is stale: a newer chaos replaced it, or its fix code is wrong)');
    expect(t.simulator.simulator.chaos.current()?.type).toBe('fail');
    // Not called again: the next action has no URL until an order brings the new chaos's.
    expect((await report()).status).toBe(404);

    const second = await placeOrder();
    expect(second.status).toBe(502);
    const resolved = await report();
    expect(resolved.body).toMatchObject({ outcome: 'resolved', orderId: second.body.orderId });
    expect(t.simulator.simulator.chaos.current()).toBeNull();
  });

  test('when the chaos already ended another way, then the answer says no chaos, not resolved, and that URL is not called again', async () => {
    await setUp();
    await adminChaos(t, 'PUT', '/api/chaos/fail');
    const failed = await placeOrder();
    await adminChaos(t, 'DELETE', '/api/chaos');

    const none = await report();
    expect(none.status).toBe(200);
    expect(none.body).toMatchObject({ outcome: 'no_chaos', factoryStatus: 200, factoryMessage: 'No chaos currently executing', orderId: failed.body.orderId });
    expect(none.body.message).toBe('nothing resolved: the factory says "No chaos currently executing"');
    expect((await report()).status).toBe(404);
    expect(reportLogs().map((l) => l.outcome)).toEqual(['no_chaos']);
  });

  test('when a throttle is on whose late answer has not come yet, then the resolved URL of the chaos before is not called; the late answer then lets the action end the throttle', async () => {
    await setUp({ factoryTimeoutMs: 300, factoryLateAnswerMs: 10_000 });
    await adminChaos(t, 'PUT', '/api/chaos/fail');
    await placeOrder();
    expect((await report()).body.outcome).toBe('resolved');

    await adminChaos(t, 'PUT', '/api/chaos/throttle', { delayMs: 1500 });
    const throttled = await placeOrder();
    expect([throttled.status, throttled.body.reason]).toEqual([503, 'timeout']);
    const early = await report();
    expect(early.status).toBe(404);
    expect(t.simulator.simulator.chaos.current()?.type).toBe('throttle');

    const withUrl = await eventually(async () => {
      const row = await t.ctx.db.selectFrom('orders').select('report_url').where('id', '=', throttled.body.orderId).executeTakeFirstOrThrow();
      return row.report_url ?? undefined;
    }, 5000);
    expect(withUrl).toContain('/api/support/');
    const resolved = await report();
    expect(resolved.body).toMatchObject({ outcome: 'resolved', orderId: throttled.body.orderId });
    expect(t.simulator.simulator.chaos.current()).toBeNull();
    expect(reportLogs().map((l) => l.outcome)).toEqual(['resolved', 'resolved']);
  });

  test('when the stored URL is not https on the factory host, then it is refused with 422 and a log line and never called; the action then moves on', async () => {
    await setUp();
    let connections = 0;
    const elsewhere = http.createServer((_req, res) => res.end('{}'));
    elsewhere.on('connection', () => (connections += 1));
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    const port = (elsewhere.address() as AddressInfo).port;
    try {
      await adminChaos(t, 'PUT', '/api/chaos/fail');
      const genuine = await placeOrder();
      const foreign = [
        `https://localhost:${port}/api/support/${FACTORY_API_KEY}/report/abcdefgh`,
        `http://127.0.0.1:${port}/api/support/${FACTORY_API_KEY}/report/abcdefgh`,
        `https://127.0.0.1:${port}/api/support/${FACTORY_API_KEY}/report/abcdefgh`,
        `https://127.0.0.1/api/support/${FACTORY_API_KEY}/report/abcdefgh?then=https://elsewhere.example`,
      ];
      const problems: string[] = [];
      for (const [index, url] of foreign.entries()) {
        const placed = await placeOrder();
        await t.ctx.db.updateTable('orders').set({ report_url: url, updated_at: Date.now() + 1000 + index }).where('id', '=', placed.body.orderId).execute();
        const refused = await report();
        expect(refused.status).toBe(422);
        expect(refused.body).toMatchObject({ orderId: placed.body.orderId, reportUrl: expect.stringContaining('[REDACTED]') });
        expect(JSON.stringify(refused.body)).not.toContain(FACTORY_API_KEY);
        problems.push(refused.body.message);
      }
      expect(problems).toEqual([
        expect.stringMatching(/: its host localhost is not the factory's \(127\.0\.0\.1\)$/),
        expect.stringMatching(/: it is not https \(http\)$/),
        expect.stringMatching(new RegExp(`: its port ${port} is not the factory's$`)),
        expect.stringMatching(/: it carries credentials, a query or a fragment$/),
      ]);
      expect(connections).toBe(0);
      expect(reportLogs().filter((l) => l.outcome === 'refused')).toHaveLength(4);
      expect(t.simulator.simulator.chaos.current()?.type).toBe('fail');

      // Each refused URL is settled; the newest acceptable one left is the genuine failure's.
      const resolved = await report();
      expect(resolved.body.outcome).toBe('resolved');
      expect(resolved.body.orderId).toBe(genuine.body.orderId);
    } finally {
      await new Promise((resolve) => elsewhere.close(resolve));
    }
  });

  test('when no order carries a report URL, then 404 and a diner cannot call the action', async () => {
    await setUp();
    expect((await report()).status).toBe(404);
    expect((await t.http.post(REPORT).set('Authorization', bearer(diner))).status).toBe(403);
  });
});
