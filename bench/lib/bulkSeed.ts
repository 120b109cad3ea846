/**
 * Bulk data for the scale scenarios (10x and 100x franchises, diners with 100 and 1,000 orders).
 * Creating 10,000 franchises or 20,000 orders through the API would take minutes (every order is a
 * factory call), so these rows are written with multi-row INSERTs through Kysely, straight into the
 * service's database while it runs. The rows look like the API's: fulfilled orders carry a real pizza
 * JWT copied from a seeded order, items carry menu titles and prices.
 */
import { openDatabase, type Db } from '../../src/shared/db';
import type { DatabaseConfig } from '../../src/config';

const CHUNK = 500;

export function databaseConfig(url: string): DatabaseConfig {
  if (url.startsWith('sqlite:')) return { kind: 'sqlite', file: url.slice('sqlite:'.length) };
  const u = new URL(url);
  return { kind: 'mysql', url, host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), database: u.pathname.slice(1) };
}

async function inChunks<T>(rows: T[], write: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) await write(rows.slice(i, i + CHUNK));
}

async function maxId(db: Db, table: 'franchises' | 'orders'): Promise<number> {
  const row = await db.selectFrom(table).select((eb) => eb.fn.max('id').as('m')).executeTakeFirst();
  return Number(row?.m ?? 0);
}

export interface BulkSeeder {
  /** Adds franchises (3 stores each) until there are `total`. Returns how many were added. */
  growFranchises(total: number, storesPerFranchise: number): Promise<number>;
  /** Adds fulfilled orders of 2 items to each diner until each has `perDiner`. Returns how many were added. */
  growOrders(dinerIds: number[], perDiner: number, stores: { franchiseId: number; storeId: number }[]): Promise<number>;
  close(): Promise<void>;
}

export function openBulkSeeder(databaseUrl: string): BulkSeeder {
  const database = openDatabase(databaseConfig(databaseUrl), { poolSize: 2 });
  const db = database.db;
  return {
    async growFranchises(total, storesPerFranchise) {
      const existing = Number((await db.selectFrom('franchises').select((eb) => eb.fn.countAll().as('n')).executeTakeFirst())?.n ?? 0);
      const missing = total - existing;
      if (missing <= 0) return 0;
      const before = await maxId(db, 'franchises');
      const names = Array.from({ length: missing }, (_, i) => ({ name: `Scale Pizza ${String(existing + i).padStart(6, '0')}` }));
      await inChunks(names, (chunk) => db.insertInto('franchises').values(chunk).execute());
      const ids = (await db.selectFrom('franchises').select('id').where('id', '>', before).orderBy('id').execute()).map((r) => Number(r.id));
      const stores = ids.flatMap((franchiseId) => Array.from({ length: storesPerFranchise }, (_, s) => ({ franchise_id: franchiseId, name: `Store ${franchiseId}-${s}` })));
      await inChunks(stores, (chunk) => db.insertInto('stores').values(chunk).execute());
      return missing;
    },

    async growOrders(dinerIds, perDiner, stores) {
      const sample = await db.selectFrom('orders').select('jwt').where('status', '=', 'fulfilled').where('jwt', 'is not', null).limit(1).executeTakeFirst();
      const menu = await db.selectFrom('menu_items').select(['id', 'title', 'price_units']).orderBy('id').execute();
      const counts = new Map(
        (await db.selectFrom('orders').select(['diner_id', (eb) => eb.fn.countAll().as('n')]).where('diner_id', 'in', dinerIds).groupBy('diner_id').execute()).map((r) => [
          Number(r.diner_id),
          Number(r.n),
        ]),
      );
      const plan: { dinerId: number; store: { franchiseId: number; storeId: number }; menu: [(typeof menu)[number], (typeof menu)[number]] }[] = [];
      let k = 0;
      for (const dinerId of dinerIds) {
        for (let n = counts.get(dinerId) ?? 0; n < perDiner; n++, k++) {
          plan.push({ dinerId, store: stores[k % stores.length], menu: [menu[k % menu.length], menu[(k + 3) % menu.length]] });
        }
      }
      if (!plan.length) return 0;
      const totalUnits = (o: (typeof plan)[number]) => Number(o.menu[0].price_units) + Number(o.menu[1].price_units);
      const now = Date.now();
      const before = await maxId(db, 'orders');
      await inChunks(plan, (chunk) =>
        db
          .insertInto('orders')
          .values(
            chunk.map((o, i) => ({
              diner_id: o.dinerId,
              franchise_id: o.store.franchiseId,
              store_id: o.store.storeId,
              created_at: now - (plan.length - i) * 1000,
              updated_at: now - (plan.length - i) * 1000,
              status: 'fulfilled' as const,
              total_units: totalUnits(o),
              idempotency_key: null,
              jwt: sample?.jwt ?? null,
              factory_status: 200,
              attempts: 1,
            })),
          )
          .execute(),
      );
      // Nothing else writes orders while this runs (no load is running), so new ids follow the plan's order.
      const ids = (await db.selectFrom('orders').select('id').where('id', '>', before).orderBy('id').execute()).map((r) => Number(r.id));
      if (ids.length !== plan.length) throw new Error(`bulk seed: expected ${plan.length} new orders, found ${ids.length}`);
      const items = plan.flatMap((o, i) => o.menu.map((m) => ({ order_id: ids[i], menu_id: Number(m.id), description: m.title, price_units: Number(m.price_units) })));
      await inChunks(items, (chunk) => db.insertInto('order_items').values(chunk).execute());
      // The service adds a fulfilled order to its store's revenue as it fulfils it; these were inserted fulfilled.
      const added = new Map<number, number>();
      for (const o of plan) added.set(o.store.storeId, (added.get(o.store.storeId) ?? 0) + totalUnits(o));
      for (const [storeId, units] of added) await db.updateTable('stores').set((eb) => ({ revenue_units: eb('revenue_units', '+', units) })).where('id', '=', storeId).execute();
      return plan.length;
    },

    close: () => database.close(),
  };
}
