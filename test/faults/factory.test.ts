import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { generateSigningKey, startFactorySimulator, type RunningFactorySimulator } from '../../src/factory/simulator';
import { openDatabase } from '../../src/shared/db';
import {
  freePort,
  registerDiner,
  report,
  request,
  setUpStore,
  sleep,
  startTestService,
  tempDir,
  waitFor,
  type HttpAnswer,
  type ServiceUnderTest,
} from './support';

// The factory fails in every way it can: gone, slower than our timeout, flapping between healthy and
// failing. Whatever it does, each order ends fulfilled or failed (never pending), diners get a JSON answer
// in bounded time, and revenue counts fulfilled orders only. Plus the sweeper for orders a dead process left.

jest.setTimeout(60_000);

const API_KEY = 'faults-factory-api-key-0123456789';
const ADMIN_KEY = 'faults-factory-admin-key-0123456789';
const FAILED = 'Failed to fulfill order at factory';

describe('the factory misbehaves under orders', () => {
  const dir = tempDir('jwt-pizza-factory-faults-');
  const signingKey = generateSigningKey();
  let factoryPort: number;
  let factory: RunningFactorySimulator | undefined;
  let service: ServiceUnderTest;
  let store: { adminToken: string; franchiseId: number; storeId: number };
  let diner: { token: string; id: number };

  const startFactory = async () => {
    factory = await startFactorySimulator({ apiKey: API_KEY, adminKey: ADMIN_KEY, port: factoryPort, signingKey, throttleDelayMs: 5000, oven: { fullDelayMs: 200 } });
  };
  const chaos = async (method: 'PUT' | 'DELETE', path: string, body?: unknown) => {
    const res = await request(factory!.url, method, path, { body, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    if (res.status !== 200) throw new Error(`chaos ${path}: ${res.status} ${res.text}`);
  };
  const order = (key?: string) =>
    request(service.url, 'POST', '/api/order', {
      token: diner.token,
      headers: key ? { 'idempotency-key': key } : {},
      body: { franchiseId: store.franchiseId, storeId: store.storeId, items: [{ menuId: 1 }, { menuId: 2 }] },
      timeoutMs: 15_000,
    });
  /** Every order row of the test diner: none may be pending once its answer came. */
  const orderRows = () => service.ctx.db.selectFrom('orders').select(['id', 'status', 'failure_reason', 'total_units']).where('diner_id', '=', diner.id).execute();
  const waitForClosedCircuit = () =>
    waitFor('the circuit lets orders through again', async () => (await order()).status === 200, 10_000, 100);

  beforeAll(async () => {
    factoryPort = await freePort();
    await startFactory();
    service = await startTestService({
      DATABASE_URL: `sqlite:${join(dir.path, 'pizza.db')}`,
      FACTORY_URL: factory!.url,
      FACTORY_API_KEY: API_KEY,
      FACTORY_TIMEOUT_MS: '1000',
      FACTORY_CIRCUIT_THRESHOLD: '3',
      FACTORY_CIRCUIT_COOLDOWN_MS: '500',
    });
    store = await setUpStore(service.url);
    diner = await registerDiner(service.url, 'factory-diner');
  });
  afterAll(async () => {
    await service?.shutdown();
    await factory?.close();
    dir.remove();
  });

  function expectFailedAnswer(res: HttpAnswer) {
    expect([502, 503]).toContain(res.status);
    expect(res.body).toEqual({ message: FAILED, orderId: expect.any(Number), reason: expect.any(String), requestId: expect.any(String) });
    expect(res.ms).toBeLessThan(3000);
  }

  test('when the factory is down, then orders fail fast with JSON, end failed, and go through again once it is back', async () => {
    expect((await order()).status).toBe(200);
    await factory!.close();
    factory = undefined;
    const answers: HttpAnswer[] = [];
    for (let i = 0; i < 6; i++) answers.push(await order());
    answers.forEach(expectFailedAnswer);
    report(`factory down: ${answers.map((a) => `${a.body.reason} ${a.ms.toFixed(0)} ms`).join(', ')}`);
    // After three failures the circuit opens: later diners are refused at once without calling the factory.
    expect(answers.slice(3).map((a) => a.body.reason)).toContain('circuit_open');
    expect((await orderRows()).filter((r) => r.status === 'pending')).toEqual([]);

    await startFactory();
    await waitForClosedCircuit();
    expect((await orderRows()).filter((r) => r.status === 'pending')).toEqual([]);
  });

  test('when the factory is slower than the timeout, then diners get a 503 within the bound and the orders end failed (timeout)', async () => {
    await chaos('PUT', '/api/chaos/throttle', { delayMs: 5000 });
    const answers = await Promise.all([order(), order(), order()]);
    answers.forEach(expectFailedAnswer);
    expect(answers.map((a) => [a.status, a.body.reason])).toEqual(answers.map(() => [503, 'timeout']));
    report(`factory slow: ${answers.map((a) => `${a.body.reason} ${a.ms.toFixed(0)} ms`).join(', ')}`);
    const rows = await orderRows();
    expect(rows.filter((r) => r.status === 'pending')).toEqual([]);
    expect(rows.filter((r) => answers.some((a) => a.body.orderId === r.id)).map((r) => r.failure_reason)).toEqual(['timeout', 'timeout', 'timeout']);
    await chaos('DELETE', '/api/chaos');
    await waitForClosedCircuit();
  });

  test('when the factory flaps between failing and healthy, then every order ends fulfilled or failed and revenue counts only the fulfilled', async () => {
    const before = new Set((await orderRows()).map((r) => r.id));
    await chaos('PUT', '/api/chaos/fail', { burstMs: 200, gapMs: 800 });
    const answers: HttpAnswer[] = [];
    const workers = [1, 2, 3].map(async (w) => {
      for (let i = 0; i < 12; i++) {
        answers.push(await order(`flap-${w}-${i}`));
        await sleep(150);
      }
    });
    await Promise.all(workers);
    await chaos('PUT', '/api/chaos/throttle', { delayMs: 3000, burstMs: 300, gapMs: 900 });
    for (let i = 0; i < 8; i++) answers.push(await order(`slow-flap-${i}`));
    await chaos('DELETE', '/api/chaos');

    const fulfilled = answers.filter((a) => a.status === 200);
    const failed = answers.filter((a) => a.status !== 200);
    expect(fulfilled.length).toBeGreaterThan(0);
    expect(failed.length).toBeGreaterThan(0);
    failed.forEach(expectFailedAnswer);

    const rows = (await orderRows()).filter((r) => !before.has(r.id));
    expect(rows.filter((r) => r.status === 'pending')).toEqual([]);
    expect(rows.filter((r) => r.status === 'fulfilled').map((r) => r.id).sort()).toEqual(fulfilled.map((a) => a.body.order.id).sort());
    expect(rows.filter((r) => r.status === 'failed').map((r) => r.id).sort()).toEqual(failed.map((a) => a.body.orderId).sort());

    // The store's revenue equals the fulfilled orders' totals, to the satoshi.
    const allRows = await orderRows();
    const fulfilledUnits = allRows.filter((r) => r.status === 'fulfilled').reduce((sum, r) => sum + Number(r.total_units), 0);
    const franchises = await request(service.url, 'GET', '/api/franchise?page=0&limit=100&name=*', { token: store.adminToken });
    const storeView = franchises.body.franchises.find((f: { id: number }) => f.id === store.franchiseId).stores[0];
    expect(Math.round(storeView.totalRevenue * 1e8)).toBe(fulfilledUnits);
    report(`factory flapping: ${answers.length} orders, ${fulfilled.length} fulfilled, ${failed.length} failed (${JSON.stringify(failed.reduce<Record<string, number>>((a, f) => ({ ...a, [f.body.reason]: (a[f.body.reason] ?? 0) + 1 }), {}))})`);
  });
});

describe('the pending-order sweeper', () => {
  test('when a service starts on a database holding an order a dead process left pending, then it becomes failed (interrupted); a fresh pending order is left alone', async () => {
    const dir = tempDir('jwt-pizza-sweeper-');
    const url = `sqlite:${join(dir.path, 'pizza.db')}`;
    try {
      const database = openDatabase(loadConfig({ NODE_ENV: 'test', DATABASE_URL: url }).database);
      await database.migrate();
      const db = database.db;
      const now = Date.now();
      const userId = Number((await db.insertInto('users').values({ name: 'ghost', email: 'ghost@faults.test', password_hash: 'x', created_at: now }).executeTakeFirstOrThrow()).insertId);
      const franchiseId = Number((await db.insertInto('franchises').values({ name: 'ghost franchise' }).executeTakeFirstOrThrow()).insertId);
      const storeId = Number((await db.insertInto('stores').values({ franchise_id: franchiseId, name: 'ghost store' }).executeTakeFirstOrThrow()).insertId);
      const pending = async (updatedAt: number) => {
        const id = Number(
          (
            await db
              .insertInto('orders')
              .values({ diner_id: userId, franchise_id: franchiseId, store_id: storeId, created_at: updatedAt, updated_at: updatedAt, status: 'pending', total_units: 380000, attempts: 0 })
              .executeTakeFirstOrThrow()
          ).insertId,
        );
        await db.insertInto('order_items').values({ order_id: id, menu_id: 1, description: 'Veggie', price_units: 380000 }).execute();
        return id;
      };
      const stale = await pending(now - 60 * 60_000);
      const fresh = await pending(now);
      await database.close();

      const service = await startTestService({ DATABASE_URL: url, FACTORY_TIMEOUT_MS: '1000' });
      try {
        const rows = await service.ctx.db.selectFrom('orders').select(['id', 'status', 'failure_reason']).orderBy('id').execute();
        expect(rows).toEqual([
          { id: stale, status: 'failed', failure_reason: 'interrupted' },
          { id: fresh, status: 'pending', failure_reason: null },
        ]);
        expect(service.logs().some((l) => l.event === 'pending_sweep' && l.orderIds.includes(stale))).toBe(true);
        // Another diner cannot touch it (only its own diner or an admin may retry it).
        const diner = await registerDiner(service.url, 'sweeper');
        expect((await request(service.url, 'POST', `/api/order/${stale}/retry`, { token: diner.token })).status).toBe(404);
      } finally {
        await service.shutdown();
      }
    } finally {
      dir.remove();
    }
  });
});
