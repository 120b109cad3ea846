import { sql } from 'kysely';
import type { Db } from '../shared/db';
import { insertedId } from '../shared/db';
import { unitsToBtc } from '../shared/money';
import { likeEscaped } from '../shared/db/like';

export interface StoreView { id: number; name: string; totalRevenue?: number }
export interface FranchiseAdmin { id: number; name: string; email: string }
export interface FranchiseView { id: number; name: string; admins?: FranchiseAdmin[]; stores: StoreView[] }

/**
 * Page of franchises: one query for the page with its stores (and, for admins, each store's revenue as
 * an indexed correlated sum), plus one for the admins when asked, run side by side. The page is a
 * derived table, so its LIMIT applies to franchises, not to franchise × store rows.
 */
export async function listFranchises(db: Db, page: { offset: number; limit: number; nameLike?: string; withAdminDetail: boolean }) {
  const pageOfFranchises = () => {
    let query = db.selectFrom('franchises').select(['id', 'name']);
    if (page.nameLike) query = query.where(likeEscaped('name', page.nameLike));
    return query.orderBy('id').limit(page.limit + 1).offset(page.offset).as('f');
  };
  const withStores = db
    .selectFrom(pageOfFranchises())
    .leftJoin('stores as s', 's.franchise_id', 'f.id')
    .select(['f.id as id', 'f.name as name', 's.id as store_id', 's.name as store_name'])
    .$if(page.withAdminDetail, (q) =>
      q.select((eb) =>
        eb
          .selectFrom('orders as o')
          .select(sql<string | number | null>`sum(o.total_units)`.as('units'))
          .whereRef('o.store_id', '=', 's.id')
          .where('o.status', '=', 'fulfilled')
          .as('revenue_units'),
      ),
    )
    .orderBy('f.id')
    .orderBy('s.id');
  const admins = page.withAdminDetail
    ? db
        .selectFrom(pageOfFranchises())
        .innerJoin('user_roles as r', (join) => join.onRef('r.object_id', '=', 'f.id').on('r.role', '=', 'franchisee'))
        .innerJoin('users as u', 'u.id', 'r.user_id')
        .select(['f.id as franchise_id', 'u.id as id', 'u.name as name', 'u.email as email'])
        .orderBy('u.id')
        .execute()
    : Promise.resolve([]);
  const [rows, adminRows] = await Promise.all([withStores.execute(), admins]);

  const byFranchise = new Map<number, FranchiseView>();
  for (const row of rows as { id: number; name: string; store_id: number | null; store_name: string | null; revenue_units?: string | number | null }[]) {
    const id = Number(row.id);
    let franchise = byFranchise.get(id);
    if (!franchise) {
      franchise = { id, name: row.name, ...(page.withAdminDetail ? { admins: [] } : {}), stores: [] };
      byFranchise.set(id, franchise);
    }
    if (row.store_id === null || row.store_name === null) continue;
    const store: StoreView = { id: Number(row.store_id), name: row.store_name };
    if (page.withAdminDetail) store.totalRevenue = unitsToBtc(row.revenue_units ?? 0);
    franchise.stores.push(store);
  }
  for (const a of adminRows) byFranchise.get(Number(a.franchise_id))?.admins?.push({ id: Number(a.id), name: a.name, email: a.email });
  const franchises = [...byFranchise.values()];
  return { franchises: franchises.slice(0, page.limit), more: franchises.length > page.limit };
}

export async function franchisesOfUser(db: Db, userId: number): Promise<FranchiseView[]> {
  const rows = await db
    .selectFrom('franchises as f')
    .innerJoin('user_roles as r', (join) => join.onRef('r.object_id', '=', 'f.id').on('r.role', '=', 'franchisee'))
    .select(['f.id as id', 'f.name as name'])
    .where('r.user_id', '=', userId)
    .orderBy('f.id')
    .execute();
  return assemble(db, rows, true);
}

async function assemble(db: Db, rows: { id: number; name: string }[], withAdminDetail: boolean): Promise<FranchiseView[]> {
  const ids = rows.map((r) => Number(r.id));
  if (!ids.length) return [];
  const [stores, admins, revenue] = await Promise.all([
    db.selectFrom('stores').select(['id', 'franchise_id', 'name']).where('franchise_id', 'in', ids).orderBy('id').execute(),
    withAdminDetail ? adminsOf(db, ids) : Promise.resolve([]),
    withAdminDetail ? revenueByStore(db, ids) : Promise.resolve(new Map<number, number>()),
  ]);
  const byFranchise = new Map<number, FranchiseView>(
    rows.map((r) => [Number(r.id), { id: Number(r.id), name: r.name, ...(withAdminDetail ? { admins: [] } : {}), stores: [] }]),
  );
  for (const s of stores) {
    const store: StoreView = { id: Number(s.id), name: s.name };
    if (withAdminDetail) store.totalRevenue = unitsToBtc(revenue.get(Number(s.id)) ?? 0);
    byFranchise.get(Number(s.franchise_id))?.stores.push(store);
  }
  for (const a of admins) byFranchise.get(Number(a.franchise_id))?.admins?.push({ id: Number(a.id), name: a.name, email: a.email });
  return [...byFranchise.values()];
}

function adminsOf(db: Db, franchiseIds: number[]) {
  return db
    .selectFrom('user_roles as r')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .select(['r.object_id as franchise_id', 'u.id as id', 'u.name as name', 'u.email as email'])
    .where('r.role', '=', 'franchisee')
    .where('r.object_id', 'in', franchiseIds)
    .orderBy('u.id')
    .execute();
}

/** Revenue counts fulfilled orders only. */
async function revenueByStore(db: Db, franchiseIds: number[]): Promise<Map<number, number>> {
  const rows = await db
    .selectFrom('orders as o')
    .innerJoin('stores as s', 's.id', 'o.store_id')
    .select(['o.store_id as store_id', sql<string | number>`sum(o.total_units)`.as('units')])
    .where('s.franchise_id', 'in', franchiseIds)
    .where('o.status', '=', 'fulfilled')
    .groupBy('o.store_id')
    .execute();
  return new Map(rows.map((r) => [Number(r.store_id), Number(r.units)]));
}

export async function insertFranchise(db: Db, name: string): Promise<number> {
  return insertedId(await db.insertInto('franchises').values({ name }).executeTakeFirstOrThrow());
}

export async function franchiseExists(db: Db, id: number): Promise<boolean> {
  return (await db.selectFrom('franchises').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}

export async function deleteFranchise(db: Db, id: number): Promise<boolean> {
  const result = await db.deleteFrom('franchises').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function insertStore(db: Db, franchiseId: number, name: string): Promise<number> {
  return insertedId(await db.insertInto('stores').values({ franchise_id: franchiseId, name }).executeTakeFirstOrThrow());
}

export async function deleteStore(db: Db, franchiseId: number, storeId: number): Promise<boolean> {
  const result = await db.deleteFrom('stores').where('id', '=', storeId).where('franchise_id', '=', franchiseId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function storeInFranchise(db: Db, franchiseId: number, storeId: number): Promise<boolean> {
  return (await db.selectFrom('stores').select('id').where('id', '=', storeId).where('franchise_id', '=', franchiseId).executeTakeFirst()) !== undefined;
}
