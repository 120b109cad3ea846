import { startFactorySimulator } from '../../src/factory/simulator';
import { bearer, buildAdmin, buildFranchise, buildTestApp, buildUser, FACTORY_ADMIN_KEY, FACTORY_API_KEY, metricValue, oneItemOrder as order, eventually, type TestApp, type TestUser } from '../helpers/app';

// Under `throttle` chaos the factory answers (with the pizza and its report URL) long after our timeout. The order
// fails `timeout` at once, but the call stays open for the late answer so that on-call can end the chaos.

const TIMEOUT_MS = 400;
const THROTTLE_MS = 1500;

async function throttle(t: TestApp, delayMs: number) {
  const res = await fetch(`${t.simulator.url}/api/chaos/throttle`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${FACTORY_ADMIN_KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ delayMs }),
  });
  expect(res.status).toBe(200);
}

async function setUp(factoryLateAnswerMs: number) {
  const t = await buildTestApp({ factoryTimeoutMs: TIMEOUT_MS, factoryLateAnswerMs });
  const admin = await buildAdmin(t);
  const franchise = await buildFranchise(t, { admin });
  const diner = await buildUser(t);
  return { t, admin, franchise, diner };
}

describe('the factory answers after the order timed out', () => {
  let t: TestApp;
  let admin: TestUser;
  let diner: TestUser;
  let franchise: Awaited<ReturnType<typeof buildFranchise>>;

  afterEach(async () => {
    await t?.close();
  });

  test('when the late answer carries a report URL, then the failed order shows it and on-call ends the chaos with it', async () => {
    ({ t, admin, franchise, diner } = await setUp(10_000));
    await throttle(t, THROTTLE_MS);

    const started = Date.now();
    const res = await t.http.post('/api/order').set('Authorization', bearer(diner)).send(order(franchise));
    expect(res.status).toBe(503);
    expect(res.body.reason).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(THROTTLE_MS);
    expect(await metricValue(t, 'pizza_orders_pending')).toBe(0);
    const orderId = res.body.orderId as number;

    const failure = await eventually(async () => {
      const failures = await t.http.get('/api/order/failures').set('Authorization', bearer(admin));
      return (failures.body.failures as { orderId: number; reportUrl: string | null; reason: string }[]).find((f) => f.orderId === orderId && f.reportUrl);
    }, 5000);
    expect(failure).toBeDefined();
    expect(failure!.reason).toBe('timeout');
    expect(failure!.reportUrl).toContain('[REDACTED]');
    expect(failure!.reportUrl).not.toContain(FACTORY_API_KEY);

    // The order stays failed: the diner was told so, and the made pizza is a reconciliation fact for on-call.
    const row = await t.ctx.db.selectFrom('orders').select(['status', 'failure_reason']).where('id', '=', orderId).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'failed', failure_reason: 'timeout' });
    const late = t.logs().filter((l) => l.type === 'factory' && l.event === 'late_answer');
    expect(late).toHaveLength(1);
    expect(late[0]).toMatchObject({ orderId, status: 200, pizzaMade: true, reportUrl: expect.stringContaining('[REDACTED]') });
    expect(t.rawLogs()).not.toContain(FACTORY_API_KEY);
    expect(await metricValue(t, 'pizza_factory_late_answers_total', { pizza: 'made' })).toBe(1);
    expect(await metricValue(t, 'pizza_factory_late_answers_total', { pizza: 'none' })).toBe(0);

    const state = await t.http.get('/api/order/factory').set('Authorization', bearer(admin));
    expect(state.body.activeReportUrl).toContain('[REDACTED]');

    const resolved = await t.http.post('/api/order/factory/report').set('Authorization', bearer(admin));
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ factoryStatus: 200, orderId });
    expect(t.simulator.simulator.chaos.current()).toBeNull();
    expect((await t.http.post('/api/order').set('Authorization', bearer(diner)).send(order(franchise))).status).toBe(200);
    // Never re-sent: the factory saw each order once.
    expect(t.simulator.simulator.stats().orderRequests).toBe(2);
  });

  test('when the late-answer bound is 0, then the call is aborted at the timeout and no report URL is known', async () => {
    ({ t, admin, franchise, diner } = await setUp(0));
    await throttle(t, THROTTLE_MS);

    const res = await t.http.post('/api/order').set('Authorization', bearer(diner)).send(order(franchise));
    expect(res.status).toBe(503);
    expect(res.body.reason).toBe('timeout');
    await new Promise((resolve) => setTimeout(resolve, THROTTLE_MS + 500));

    const failures = await t.http.get('/api/order/failures').set('Authorization', bearer(admin));
    expect(failures.body.failures.find((f: { orderId: number }) => f.orderId === res.body.orderId)).toMatchObject({ reason: 'timeout', reportUrl: null });
    expect(t.logs().some((l) => l.event === 'late_answer')).toBe(false);
    expect(await metricValue(t, 'pizza_factory_late_answers_total', { pizza: 'made' })).toBe(0);
    expect((await t.http.post('/api/order/factory/report').set('Authorization', bearer(admin))).status).toBe(404);
    expect(t.simulator.simulator.chaos.current()?.type).toBe('throttle');
  });

  test('when the app shuts down with a late call open, then the call is aborted and the shutdown is prompt', async () => {
    // A simulator of the test's own, so that closing the app cannot end the held call from the factory side.
    const simulator = await startFactorySimulator({ apiKey: FACTORY_API_KEY, adminKey: FACTORY_ADMIN_KEY, port: 0, throttleDelayMs: 20_000 });
    try {
      t = await buildTestApp({ factoryTimeoutMs: TIMEOUT_MS, factoryLateAnswerMs: 30_000, simulator });
      admin = await buildAdmin(t);
      franchise = await buildFranchise(t, { admin });
      diner = await buildUser(t);
      await throttle(t, 20_000);
      const res = await t.http.post('/api/order').set('Authorization', bearer(diner)).send(order(franchise));
      expect(res.status).toBe(503);

      const started = Date.now();
      await t.factory.close();
      const ended = await eventually(async () => t.logs().find((l) => l.event === 'late_answer_none' && l.orderId === res.body.orderId), 3000);
      expect(ended).toBeDefined();
      expect(Date.now() - started).toBeLessThan(3000);
      expect(t.logs().some((l) => l.event === 'late_answer')).toBe(false);
    } finally {
      await t?.close();
      await simulator.close();
      t = undefined as unknown as TestApp;
    }
  });
});
