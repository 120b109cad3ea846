import { Migrator } from 'kysely';
import { loadConfig } from '../../src/config';
import { markFailed, markFulfilled } from '../../src/orders/ordersRepository';
import { insertedId, openDatabase } from '../../src/shared/db';
import { migrationProvider } from '../../src/shared/db/migrations';
import { bearer, buildAdmin, buildFranchise, buildTestApp, buildUser, FACTORY_ADMIN_KEY, type TestApp, type TestUser } from '../helpers/app';
import { createTestDatabase } from '../helpers/database';

// A store's revenue is kept on the store as its orders are fulfilled (stores.revenue_units); these tests
// hold it to the sum of the store's fulfilled orders through failures, retries and repeated writes.
describe('store revenue', () => {
  let t: TestApp;
  let admin: TestUser;
  let diner: TestUser;

  beforeAll(async () => {
    t = await buildTestApp({ factoryTimeoutMs: 4000 });
    admin = await buildAdmin(t);
    diner = await buildUser(t);
  });
  afterAll(() => t.close());
  afterEach(() => t.simulator.simulator.chaos.end());

  const setChaos = async (type: 'fail') => {
    const res = await fetch(`${t.simulator.url}/api/chaos/${type}`, { method: 'PUT', headers: { Authorization: `Bearer ${FACTORY_ADMIN_KEY}`, 'Content-Type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(200);
  };
  const place = (f: { id: number; store: { id: number } }) =>
    t.http.post('/api/order').set('Authorization', bearer(diner)).send({ franchiseId: f.id, storeId: f.store.id, items: [{ menuId: 1 }, { menuId: 2 }] });
  const shownRevenue = async (f: { name: string }) => {
    const res = await t.http.get(`/api/franchise?page=0&limit=10&name=${encodeURIComponent(f.name)}`).set('Authorization', bearer(admin));
    return Math.round(res.body.franchises[0].stores[0].totalRevenue * 1e8);
  };
  const fulfilledUnitsOf = async (storeId: number) =>
    (await t.ctx.db.selectFrom('orders').select('total_units').where('store_id', '=', storeId).where('status', '=', 'fulfilled').execute()).reduce((sum, r) => sum + Number(r.total_units), 0);

  test('when an order fails and its retry is fulfilled, then the store counts it once, and retrying again adds nothing', async () => {
    const f = await buildFranchise(t, { admin });
    await setChaos('fail');
    const failed = await place(f);
    expect(failed.status).toBe(502);
    expect(await shownRevenue(f)).toBe(0);

    t.simulator.simulator.chaos.end();
    const retried = await t.http.post(`/api/order/${failed.body.orderId}/retry`).set('Authorization', bearer(diner));
    expect(retried.status).toBe(200);
    await t.http.post(`/api/order/${failed.body.orderId}/retry`).set('Authorization', bearer(diner));

    const units = await fulfilledUnitsOf(f.store.id);
    expect(units).toBeGreaterThan(0);
    expect(await shownRevenue(f)).toBe(units);
  });

  test('when a fulfilled order is written fulfilled again, or failed afterwards, then it stays fulfilled and counted once', async () => {
    const f = await buildFranchise(t, { admin });
    const placed = await place(f);
    expect(placed.status).toBe(200);
    const units = await fulfilledUnitsOf(f.store.id);
    expect(await shownRevenue(f)).toBe(units);

    await markFulfilled(t.ctx.db, placed.body.order.id, placed.body.jwt, null, Date.now());
    await markFailed(t.ctx.db, placed.body.order.id, { reason: 'factory_error', message: 'late failure' }, Date.now());

    const row = await t.ctx.db.selectFrom('orders').select(['status', 'jwt']).where('id', '=', placed.body.order.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'fulfilled', jwt: placed.body.jwt });
    expect(await shownRevenue(f)).toBe(units);
  });

  test('when an order whose store was deleted meanwhile is fulfilled, then it is fulfilled and no store is touched', async () => {
    const f = await buildFranchise(t, { admin });
    const now = Date.now();
    const id = insertedId(
      await t.ctx.db
        .insertInto('orders')
        .values({ diner_id: diner.id, franchise_id: f.id, store_id: null, created_at: now, updated_at: now, status: 'pending', total_units: 5_000, attempts: 0 })
        .executeTakeFirstOrThrow(),
    );
    const revenueBefore = await t.ctx.db.selectFrom('stores').select((eb) => eb.fn.sum<number>('revenue_units').as('sum')).executeTakeFirstOrThrow();

    await markFulfilled(t.ctx.db, id, 'h.p.s', null, now);

    expect(await t.ctx.db.selectFrom('orders').select('status').where('id', '=', id).executeTakeFirstOrThrow()).toEqual({ status: 'fulfilled' });
    const revenueAfter = await t.ctx.db.selectFrom('stores').select((eb) => eb.fn.sum<number>('revenue_units').as('sum')).executeTakeFirstOrThrow();
    expect(Number(revenueAfter.sum)).toBe(Number(revenueBefore.sum));
  });

  test('when orders to two stores are fulfilled, then each store counts only its own', async () => {
    const [a, b] = [await buildFranchise(t, { admin }), await buildFranchise(t, { admin })];
    for (const f of [a, a, b]) expect((await place(f)).status).toBe(200);

    expect(await shownRevenue(a)).toBe(await fulfilledUnitsOf(a.store.id));
    expect(await shownRevenue(b)).toBe(await fulfilledUnitsOf(b.store.id));
    expect(await shownRevenue(a)).toBe(2 * (await shownRevenue(b)));
  });
});

describe('store revenue migration', () => {
  test('when a database from before the revenue column is migrated, then each store starts from its fulfilled orders', async () => {
    const testDb = await createTestDatabase();
    const database = openDatabase(loadConfig({ NODE_ENV: 'test', DATABASE_URL: testDb.url }).database);
    try {
      const db = database.db;
      const migrator = new Migrator({ db, provider: migrationProvider });
      expect((await migrator.migrateTo('2026_11_22_0003_orders_revenue_covering_index')).error).toBeUndefined();
      const franchiseId = insertedId(await db.insertInto('franchises').values({ name: 'before the column' }).executeTakeFirstOrThrow());
      const storeIds: number[] = [];
      for (const name of ['busy store', 'quiet store']) storeIds.push(insertedId(await db.insertInto('stores').values({ franchise_id: franchiseId, name }).executeTakeFirstOrThrow()));
      const now = Date.now();
      for (const [status, units] of [['fulfilled', 100], ['fulfilled', 250], ['failed', 4_000], ['pending', 80_000]] as const) {
        await db.insertInto('orders').values({ diner_id: null, franchise_id: franchiseId, store_id: storeIds[0], created_at: now, updated_at: now, status, total_units: units, attempts: 1 }).execute();
      }

      await database.migrate();

      const rows = await db.selectFrom('stores').select(['id', 'revenue_units']).where('franchise_id', '=', franchiseId).orderBy('id').execute();
      expect(rows.map((r) => [Number(r.id), Number(r.revenue_units)])).toEqual([
        [storeIds[0], 350],
        [storeIds[1], 0],
      ]);
    } finally {
      await database.close();
      await testDb.drop();
    }
  });
});
