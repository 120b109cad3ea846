import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { currentBackend } from '../helpers/database';
import { bearer, buildAdmin, buildFranchise, buildTestApp, buildUser, FACTORY_ADMIN_KEY, FACTORY_API_KEY, metricValue, unique, type TestApp, type TestUser } from '../helpers/app';
import { insertMenuItem } from '../../src/menu/menuRepository';

async function chaos(t: TestApp, type: 'fail' | 'throttle' | 'badjwt' | 'none', body: Record<string, unknown> = {}) {
  const res = await fetch(`${t.simulator.url}/api/chaos/${type}`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${FACTORY_ADMIN_KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
}

async function endChaos(t: TestApp) {
  const res = await fetch(`${t.simulator.url}/api/chaos`, { method: 'DELETE', headers: { Authorization: `Bearer ${FACTORY_ADMIN_KEY}` } });
  expect(res.status).toBe(200);
}

function order(f: { id: number; store: { id: number } }, menuIds = [1]) {
  return { franchiseId: f.id, storeId: f.store.id, items: menuIds.map((menuId) => ({ menuId, description: 'anything', price: 0.0001 })) };
}

async function orderRows(t: TestApp) {
  return t.ctx.db.selectFrom('orders').selectAll().orderBy('id').execute();
}

describe('ordering pizza', () => {
  let t: TestApp;
  let franchise: Awaited<ReturnType<typeof buildFranchise>>;
  let diner: TestUser;
  let admin: TestUser;

  beforeAll(async () => {
    t = await buildTestApp({ factoryTimeoutMs: 4000 });
    admin = await buildAdmin(t);
    franchise = await buildFranchise(t, { admin });
  });
  beforeEach(async () => {
    diner = await buildUser(t);
    t.simulator.simulator.chaos.end();
  });
  afterAll(() => t.close());

  describe('validation', () => {
    test('when the order has no items or more than 20, then 400 and nothing is written', async () => {
      const before = (await orderRows(t)).length;
      for (const items of [[], Array.from({ length: 21 }, () => ({ menuId: 1 }))]) {
        const res = await t.http.post('/api/order').set('Authorization', bearer(diner)).send({ franchiseId: franchise.id, storeId: franchise.store.id, items });
        expect(res.status).toBe(400);
        expect(res.body.message).toMatch(/items/);
      }
      expect((await orderRows(t)).length).toBe(before);
    });

    test('when a menu id is unknown, then 400 naming the item', async () => {
      const res = await t.http.post('/api/order').set('Authorization', bearer(diner)).send(order(franchise, [1, 9999]));
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/items\.1\.menuId/);
    });

    test('when the store belongs to another franchise or does not exist, then 404 and nothing is written', async () => {
      const other = await buildFranchise(t, { admin });
      const before = await orderRows(t);
      const itemsBefore = await t.ctx.db.selectFrom('order_items').select('id').execute();
      for (const storeId of [other.store.id, 999_999]) {
        const res = await t.http.post('/api/order').set('Authorization', bearer(diner)).send({ franchiseId: franchise.id, storeId, items: [{ menuId: 1 }] });
        expect(res.status).toBe(404);
        expect(res.body.message).toMatch(/store not found/);
      }
      expect(await orderRows(t)).toEqual(before);
      expect(await t.ctx.db.selectFrom('order_items').select('id').execute()).toHaveLength(itemsBefore.length);
      // The right store still takes the next order.
      expect((await t.http.post('/api/order').set('Authorization', bearer(diner)).send(order(other))).status).toBe(200);
    });

    test('when anonymous, then 401', async () => {
      expect((await t.http.post('/api/order').send(order(franchise))).status).toBe(401);
    });

    test('when the client sends prices and descriptions, then the menu ones are used and ids may be strings', async () => {
      const res = await t.http
        .post('/api/order')
        .set('Authorization', bearer(diner))
        .send({ franchiseId: String(franchise.id), storeId: String(franchise.store.id), items: [{ menuId: '5', description: 'free pizza', price: 0 }] });
      expect(res.status).toBe(200);
      expect(res.body.order.items[0]).toMatchObject({ menuId: 5, description: 'Charred Leopard', price: 0.0099 });
    });
  });

    test('when a menu item was added by another instance a moment ago, then it can be ordered at once at its price', async () => {
      // Warm this instance's menu cache, then add an item behind its back (as a second instance would).
      await t.http.post('/api/order').set('Authorization', bearer(diner)).send(order(franchise, [1]));
      const id = await insertMenuItem(t.ctx.db, { title: `Elsewhere ${unique()}`, description: '', image: 'p.png', priceUnits: 123_456 });

      const res = await t.http.post('/api/order').set('Authorization', bearer(diner)).send(order(franchise, [id, 1]));

      expect(res.status).toBe(200);
      expect(res.body.order.items[0]).toMatchObject({ menuId: id, price: 0.00123456 });
    });

  describe('the items of an order', () => {
    test('the database answers the item ids itself where it can (SQLite, MariaDB 10.5+)', async () => {
      const { rows } = await sql<{ version: string }>`select ${sql.raw(currentBackend() === 'sqlite' ? 'sqlite_version()' : 'version()')} as version`.execute(t.ctx.db);
      expect(t.database.features.insertReturning).toBe(currentBackend() === 'sqlite' || /mariadb/i.test(rows[0].version));
    });

    test.each([true, false])('come back with their ids in the order given, as history shows them (INSERT … RETURNING: %s)', async (returning) => {
      const saved = t.database.features.insertReturning;
      t.database.features.insertReturning = returning;
      try {
        const res = await t.http.post('/api/order').set('Authorization', bearer(diner)).send(order(franchise, [3, 1, 2, 1]));
        expect(res.status).toBe(200);
        const items = res.body.order.items as { id: number; menuId: number; price: number }[];
        expect(items.map((i) => i.menuId)).toEqual([3, 1, 2, 1]);
        const ids = items.map((i) => i.id);
        expect([...ids].sort((a, b) => a - b)).toEqual(ids);
        expect(new Set(ids).size).toBe(4);
        const stored = await t.ctx.db.selectFrom('order_items').select(['id', 'menu_id']).where('order_id', '=', res.body.order.id).orderBy('id').execute();
        expect(stored.map((r) => [Number(r.id), Number(r.menu_id)])).toEqual(items.map((i) => [i.id, i.menuId]));

        const history = await t.http.get('/api/order').set('Authorization', bearer(diner));
        expect(history.body.orders.find((o: { id: number }) => o.id === res.body.order.id).items).toEqual(items);
      } finally {
        t.database.features.insertReturning = saved;
      }
    });
  });

  describe('history', () => {
    test('when a diner has 12 orders, then pages of 10 newest first with more, and only their own', async () => {
      const other = await buildUser(t);
      await t.http.post('/api/order').set('Authorization', bearer(other)).send(order(franchise));
      const ids: number[] = [];
      for (let i = 0; i < 12; i++) {
        const res = await t.http.post('/api/order').set('Authorization', bearer(diner)).send(order(franchise, [1 + (i % 5)]));
        expect(res.status).toBe(200);
        ids.push(res.body.order.id);
      }
      const page1 = await t.http.get('/api/order?page=1').set('Authorization', bearer(diner));
      expect(page1.status).toBe(200);
      expect(page1.body).toMatchObject({ dinerId: diner.id, page: 1, more: true });
      expect(page1.body.orders.map((o: { id: number }) => o.id)).toEqual(ids.slice().reverse().slice(0, 10));
      expect(page1.body.orders[0]).toEqual({ id: ids[11], franchiseId: franchise.id, storeId: franchise.store.id, date: expect.any(String), status: 'fulfilled', items: [expect.objectContaining({ menuId: 2 })] });
      const page2 = await t.http.get('/api/order?page=2').set('Authorization', bearer(diner));
      expect(page2.body.more).toBe(false);
      expect(page2.body.orders.map((o: { id: number }) => o.id)).toEqual([ids[1], ids[0]]);
    });

    test('when a diner has no orders, or asks past the last page, then 200 with no orders', async () => {
      const none = await t.http.get('/api/order?page=1').set('Authorization', bearer(diner));
      expect(none.status).toBe(200);
      expect(none.body).toEqual({ dinerId: diner.id, orders: [], page: 1, more: false });

      expect((await t.http.post('/api/order').set('Authorization', bearer(diner)).send(order(franchise))).status).toBe(200);
      const past = await t.http.get('/api/order?page=2').set('Authorization', bearer(diner));
      expect(past.body).toEqual({ dinerId: diner.id, orders: [], page: 2, more: false });
    });

    test('when an order has several items, then they come in the order they were ordered, with prices from the menu', async () => {
      const placed = await t.http.post('/api/order').set('Authorization', bearer(diner)).send(order(franchise, [3, 1, 3]));
      expect(placed.status).toBe(200);

      const history = await t.http.get('/api/order?page=1').set('Authorization', bearer(diner));

      expect(history.body.orders).toEqual([placed.body.order]);
      expect(history.body.orders[0].items.map((i: { menuId: number }) => i.menuId)).toEqual([3, 1, 3]);
    });

    test('when the page is not a number, then an anonymous caller gets 401 before the 400 a diner gets', async () => {
      const anonymous = await t.http.get('/api/order?page=abc');
      expect(anonymous.status).toBe(401);
      const signedIn = await t.http.get('/api/order?page=abc').set('Authorization', bearer(diner));
      expect(signedIn.status).toBe(400);
      expect(signedIn.body.message).toMatch(/page/);
    });

    test('when the diner was deleted, then their token reads no history', async () => {
      const res = await t.http.delete(`/api/user/${diner.id}`).set('Authorization', bearer(admin));
      expect(res.status).toBe(200);

      const history = await t.http.get('/api/order?page=1').set('Authorization', bearer(diner));

      expect(history.status).toBe(401);
      expect(history.body).toEqual({ message: 'unauthorized' });
    });

    test('when a session was last seen over a minute ago, then reading the history marks it seen (active users)', async () => {
      const sessions = () => t.ctx.db.selectFrom('sessions').select(['id', 'last_seen_at']).where('user_id', '=', diner.id).execute();
      const longAgo = Date.now() - 10 * 60_000;
      await t.ctx.db.updateTable('sessions').set({ last_seen_at: longAgo }).where('user_id', '=', diner.id).execute();

      expect((await t.http.get('/api/order?page=1').set('Authorization', bearer(diner))).status).toBe(200);

      // The touch is not awaited by the request.
      for (let i = 0; i < 50 && Number((await sessions())[0].last_seen_at) === longAgo; i++) await new Promise((r) => setTimeout(r, 20));
      expect(Number((await sessions())[0].last_seen_at)).toBeGreaterThan(longAgo);
    });
  });

  describe('factory chaos', () => {
    test('when the factory fails, then 502 with orderId and reason, the order is failed with its report URL, and no sale is counted', async () => {
      await chaos(t, 'fail');
      const revenueBefore = await metricValue(t, 'pizza_revenue_btc_total');
      const failuresBefore = await metricValue(t, 'pizza_purchases_total', { outcome: 'failure', reason: 'factory_error' });
      const res = await t.http.post('/api/order').set('Authorization', bearer(diner)).send(order(franchise));
      expect(res.status).toBe(502);
      expect(res.body).toEqual({ message: 'Failed to fulfill order at factory', orderId: expect.any(Number), reason: 'factory_error', requestId: expect.any(String) });
      expect(res.text).not.toContain(FACTORY_API_KEY);
      expect(res.text).not.toMatch(/report/i);

      const row = (await orderRows(t)).find((r) => Number(r.id) === res.body.orderId)!;
      expect(row.status).toBe('failed');
      expect(row.failure_reason).toBe('factory_error');
      expect(Number(row.factory_status)).toBe(500);
      expect(row.report_url).toContain('/api/support/');

      expect(await metricValue(t, 'pizza_revenue_btc_total')).toBe(revenueBefore);
      expect(await metricValue(t, 'pizza_purchases_total', { outcome: 'failure', reason: 'factory_error' })).toBe(failuresBefore + 1);

      const factoryLog = t.logs().find((l) => l.type === 'factory' && l.orderId === res.body.orderId);
      expect(factoryLog).toMatchObject({ outcome: 'failed', reason: 'factory_error', reportUrl: expect.stringContaining('[REDACTED]') });
      expect(t.rawLogs()).not.toContain(FACTORY_API_KEY);

      const failures = await t.http.get('/api/order/failures').set('Authorization', bearer(admin));
      expect(failures.status).toBe(200);
      expect(failures.body.failures[0]).toMatchObject({ orderId: res.body.orderId, reason: 'factory_error', factoryStatus: 500, reportUrl: expect.stringContaining('/api/support/[REDACTED]/report/') });
      expect(failures.text).not.toContain(FACTORY_API_KEY);
      expect((await t.http.get('/api/order/failures').set('Authorization', bearer(diner))).status).toBe(403);
    });

    test('when the factory returns a JWT that does not verify, then 502 invalid_jwt and no sale', async () => {
      await chaos(t, 'badjwt');
      const soldBefore = await metricValue(t, 'pizzas_sold_total');
      const res = await t.http.post('/api/order').set('Authorization', bearer(diner)).send(order(franchise));
      expect(res.status).toBe(502);
      expect(res.body.reason).toBe('invalid_jwt');
      expect(await metricValue(t, 'pizzas_sold_total')).toBe(soldBefore);
      expect(await metricValue(t, 'pizza_purchases_total', { outcome: 'failure', reason: 'invalid_jwt' })).toBeGreaterThanOrEqual(1);
      const admins = await t.http.get('/api/franchise?page=0&limit=100').set('Authorization', bearer(admin));
      const row = (await orderRows(t)).find((r) => Number(r.id) === res.body.orderId)!;
      expect(row.status).toBe('failed');
      expect(admins.status).toBe(200);
    });

    test('when the factory throttles past the timeout, then 503 timeout while other endpoints keep answering', async () => {
      // The factory holds the order 12 s; the service gives up after factoryTimeoutMs (4 s).
      await chaos(t, 'throttle', { delayMs: 12000 });
      const reachedFactory = t.simulator.simulator.stats().orderRequests;
      const factoryTimeouts = () => t.logs().filter((l) => l.type === 'factory' && l.reason === 'timeout').length;
      const timeoutsBefore = factoryTimeouts();
      let orderAnswered = false;
      // .then() sends the request now (supertest sends nothing until it is awaited).
      const pending = t.http
        .post('/api/order')
        .set('Authorization', bearer(diner))
        .send(order(franchise))
        .then((res) => {
          orderAnswered = true;
          return res;
        });
      // In flight: the factory has it (and holds it), and the diner has no answer yet.
      while (t.simulator.simulator.stats().orderRequests === reachedFactory) {
        if (orderAnswered) throw new Error('the order was answered before it reached the factory');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(orderAnswered).toBe(false);

      // Another endpoint answers while the order is still waiting on the factory: before the service has given
      // up on it. An order path that blocked the event loop until its deadline would let the deadline fire
      // first. (On a healthy service only a menu request slower than the whole 4 s factory timeout fails this.)
      const menu = await t.http.get('/api/order/menu');
      expect(menu.status).toBe(200);
      expect(orderAnswered).toBe(false);
      expect(factoryTimeouts()).toBe(timeoutsBefore);

      // Then the service gives up on the factory (a 503 timeout, not the factory's answer 12 s later).
      const res = await pending;
      expect(res.status).toBe(503);
      expect(res.body.reason).toBe('timeout');
      expect(factoryTimeouts()).toBeGreaterThan(timeoutsBefore);
    });

    test('when on-call ends the chaos through the admin report action, then the next order is fulfilled', async () => {
      await chaos(t, 'fail');
      expect((await t.http.post('/api/order').set('Authorization', bearer(diner)).send(order(franchise))).status).toBe(502);
      const state = await t.http.get('/api/order/factory').set('Authorization', bearer(admin));
      expect(state.body.activeReportUrl).toContain('[REDACTED]');
      expect(JSON.stringify(state.body)).not.toContain(FACTORY_API_KEY);
      const resolved = await t.http.post('/api/order/factory/report').set('Authorization', bearer(admin));
      expect(resolved.status).toBe(200);
      expect(resolved.body.factoryStatus).toBe(200);
      expect(t.simulator.simulator.chaos.current()).toBeNull();
      expect((await t.http.post('/api/order').set('Authorization', bearer(diner)).send(order(franchise))).status).toBe(200);
    });

    test('when chaos is ended with DELETE /api/chaos, then orders succeed again', async () => {
      await chaos(t, 'fail');
      expect((await t.http.post('/api/order').set('Authorization', bearer(diner)).send(order(franchise))).status).toBe(502);
      await endChaos(t);
      expect((await t.http.post('/api/order').set('Authorization', bearer(diner)).send(order(franchise))).status).toBe(200);
    });
  });

  describe('idempotency and retry', () => {
    test('when the same Idempotency-Key is sent twice, then one order and one pizza', async () => {
      const key = randomUUID();
      const factoryCallsBefore = t.simulator.simulator.stats().orderRequests;
      const first = await t.http.post('/api/order').set('Authorization', bearer(diner)).set('Idempotency-Key', key).send(order(franchise));
      const second = await t.http.post('/api/order').set('Authorization', bearer(diner)).set('Idempotency-Key', key).send(order(franchise));
      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      expect(second.body).toEqual(first.body);
      expect(t.simulator.simulator.stats().orderRequests).toBe(factoryCallsBefore + 1);
      const history = await t.http.get('/api/order').set('Authorization', bearer(diner));
      expect(history.body.orders).toHaveLength(1);
    });

    test('when a key is reused with a different body, then 422 naming the key, and no second order or pizza', async () => {
      const key = randomUUID();
      const first = await t.http.post('/api/order').set('Authorization', bearer(diner)).set('Idempotency-Key', key).send(order(franchise, [1]));
      expect(first.status).toBe(200);
      const factoryCalls = t.simulator.simulator.stats().orderRequests;
      const rowsBefore = (await orderRows(t)).length;
      for (const body of [order(franchise, [2]), order(franchise, [1, 1]), { ...order(franchise, [1]), storeId: franchise.store.id + 1000 }]) {
        const reused = await t.http.post('/api/order').set('Authorization', bearer(diner)).set('Idempotency-Key', key).send(body);
        expect(reused.status).toBe(422);
        expect(reused.body).toEqual({ message: expect.stringMatching(/Idempotency-Key/) });
      }
      // The original request still replays its first answer.
      const replayed = await t.http.post('/api/order').set('Authorization', bearer(diner)).set('Idempotency-Key', key).send(order(franchise, [1]));
      expect(replayed.body).toEqual(first.body);
      expect((await orderRows(t)).length).toBe(rowsBefore);
      expect(t.simulator.simulator.stats().orderRequests).toBe(factoryCalls);
    });

    test('when another diner uses the same key, then it is a separate order', async () => {
      const key = randomUUID();
      const other = await buildUser(t);
      const a = await t.http.post('/api/order').set('Authorization', bearer(diner)).set('Idempotency-Key', key).send(order(franchise));
      const b = await t.http.post('/api/order').set('Authorization', bearer(other)).set('Idempotency-Key', key).send(order(franchise));
      expect(a.body.order.id).not.toBe(b.body.order.id);
    });

    test('when a failed order is retried after the chaos ends, then the same order is fulfilled', async () => {
      await chaos(t, 'fail');
      const failed = await t.http.post('/api/order').set('Authorization', bearer(diner)).set('Idempotency-Key', randomUUID()).send(order(franchise));
      expect(failed.status).toBe(502);
      const stranger = await buildUser(t);
      expect((await t.http.post(`/api/order/${failed.body.orderId}/retry`).set('Authorization', bearer(stranger))).status).toBe(404);
      await endChaos(t);
      const retried = await t.http.post(`/api/order/${failed.body.orderId}/retry`).set('Authorization', bearer(diner));
      expect(retried.status).toBe(200);
      expect(retried.body.order.id).toBe(failed.body.orderId);
      const again = await t.http.post(`/api/order/${failed.body.orderId}/retry`).set('Authorization', bearer(diner));
      expect(again.body.jwt).toBe(retried.body.jwt);
      const rows = (await orderRows(t)).filter((r) => Number(r.diner_id) === diner.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: 'fulfilled' });
      expect(Number(rows[0].attempts)).toBe(2);
    });
  });

  describe('a burst of concurrent orders with 50% failures', () => {
    test('then every request gets a definite JSON answer, every order a final state, and revenue counts fulfilled orders only', async () => {
      await chaos(t, 'fail', { ratio: 0.5 });
      const diners = await Promise.all(Array.from({ length: 8 }, () => buildUser(t)));
      const requests = Array.from({ length: 40 }, (_, i) => ({ user: diners[i % diners.length], key: randomUUID(), menuIds: [1 + (i % 5), 1 + ((i + 2) % 5)] }));
      const send = () => Promise.all(requests.map((r) => t.http.post('/api/order').set('Authorization', bearer(r.user)).set('Idempotency-Key', r.key).send(order(franchise, r.menuIds))));
      const answers = await send();
      for (const a of answers) {
        expect([200, 502]).toContain(a.status);
        expect(typeof a.body).toBe('object');
      }
      const fulfilled = answers.filter((a) => a.status === 200);
      const failed = answers.filter((a) => a.status === 502);
      expect(fulfilled.length).toBeGreaterThan(0);
      expect(failed.length).toBeGreaterThan(0);

      const dinerIds = new Set(diners.map((d) => d.id));
      const rows = (await orderRows(t)).filter((r) => dinerIds.has(Number(r.diner_id)));
      expect(rows).toHaveLength(40);
      expect(rows.filter((r) => r.status === 'pending')).toHaveLength(0);
      expect(rows.filter((r) => r.status === 'fulfilled')).toHaveLength(fulfilled.length);
      expect(rows.filter((r) => r.status === 'failed')).toHaveLength(failed.length);

      // Replaying every request with its key creates nothing new and answers the same.
      const replay = await send();
      expect(replay.map((a) => a.status)).toEqual(answers.map((a) => a.status));
      expect((await orderRows(t)).filter((r) => dinerIds.has(Number(r.diner_id)))).toHaveLength(40);

      await endChaos(t);
      const expectedUnits = rows.filter((r) => r.status === 'fulfilled' && Number(r.store_id) === franchise.store.id).reduce((sum, r) => sum + Number(r.total_units), 0);
      const allFulfilledUnits = (await orderRows(t)).filter((r) => r.status === 'fulfilled' && Number(r.store_id) === franchise.store.id).reduce((s, r) => s + Number(r.total_units), 0);
      const list = await t.http.get('/api/franchise?page=0&limit=100').set('Authorization', bearer(admin));
      const store = list.body.franchises.find((f: { id: number }) => f.id === franchise.id).stores.find((s: { id: number }) => s.id === franchise.store.id);
      expect(store.totalRevenue).toBeCloseTo(allFulfilledUnits / 1e8, 10);
      expect(allFulfilledUnits).toBeGreaterThanOrEqual(expectedUnits);
    });
  });
});

describe('the factory circuit breaker', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ circuitThreshold: 2, circuitCooldownMs: 400 });
  });
  afterAll(() => t.close());

  test('when the factory keeps failing, then the circuit opens and fails fast, then half-opens and closes on success', async () => {
    const admin = await buildAdmin(t);
    const franchise = await buildFranchise(t, { admin });
    const diner = await buildUser(t);
    await chaos(t, 'fail');
    for (let i = 0; i < 2; i++) expect((await t.http.post('/api/order').set('Authorization', bearer(diner)).send(order(franchise))).body.reason).toBe('factory_error');
    const callsWhenOpen = t.simulator.simulator.stats().orderRequests;
    const fast = await t.http.post('/api/order').set('Authorization', bearer(diner)).send(order(franchise));
    expect(fast.status).toBe(503);
    expect(fast.body.reason).toBe('circuit_open');
    expect(t.simulator.simulator.stats().orderRequests).toBe(callsWhenOpen);
    expect((await t.http.get('/api/order/factory').set('Authorization', bearer(admin))).body.circuit).toBe('open');
    expect(await metricValue(t, 'pizza_factory_circuit_state')).toBe(2);
    expect(await metricValue(t, 'pizza_purchases_total', { outcome: 'failure', reason: 'circuit_open' })).toBe(1);

    await endChaos(t);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const probe = await t.http.post('/api/order').set('Authorization', bearer(diner)).send(order(franchise));
    expect(probe.status).toBe(200);
    expect((await t.http.get('/api/order/factory').set('Authorization', bearer(admin))).body.circuit).toBe('closed');
    expect(await metricValue(t, 'pizza_factory_circuit_state')).toBe(0);
  });
});
