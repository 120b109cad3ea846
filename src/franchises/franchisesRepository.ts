import { type AliasedSelectQueryBuilder, sql } from 'kysely';
import type { Db } from '../shared/db';
import { insertedId } from '../shared/db';
import { unitsToBtc } from '../shared/money';
import { compileOnce, type CompiledOnce } from '../shared/db/compileOnce';
import { likeEscaped } from '../shared/db/like';

export interface StoreView { id: number; name: string; totalRevenue?: number }
export interface FranchiseAdmin { id: number; name: string; email: string }
export interface FranchiseView { id: number; name: string; admins?: FranchiseAdmin[]; stores: StoreView[] }

/** A derived table `f` of franchises (id, name): a page of the list, or the franchises of one user. */
type FranchiseSource = (db: Db, ...args: Arg[]) => AliasedSelectQueryBuilder<{ id: number; name: string }, 'f'>;
type Arg = string | number;

const SOURCES = {
  page: (db: Db, limit: Arg, offset: Arg) => db.selectFrom('franchises').select(['id', 'name']).orderBy('id').limit(limit as number).offset(offset as number).as('f'),
  namedPage: (db: Db, nameLike: Arg, limit: Arg, offset: Arg) =>
    db
      .selectFrom('franchises')
      .select(['id', 'name'])
      .where(likeEscaped('name', nameLike as string))
      .orderBy('id')
      .limit(limit as number)
      .offset(offset as number)
      .as('f'),
  ofUser: (db: Db, userId: Arg) =>
    db
      .selectFrom('franchises')
      .innerJoin('user_roles as r', (join) => join.onRef('r.object_id', '=', 'franchises.id').on('r.role', '=', 'franchisee'))
      .select(['franchises.id as id', 'franchises.name as name'])
      .where('r.user_id', '=', userId as number)
      .as('f'),
} satisfies Record<string, FranchiseSource>;
type SourceName = keyof typeof SOURCES;

type FranchiseRow = {
  id: number;
  name: string;
  store_id: number | null;
  store_name: string | null;
  revenue_units?: string | number | null;
  admin_id?: number | null;
  admin_name?: string | null;
  admin_email?: string | null;
};

/**
 * The franchises of a source with their stores in one query. The source is a derived table, so a LIMIT in
 * it counts franchises, not franchise × store rows. With admin detail, each store's revenue (kept on the
 * store as orders are fulfilled) and, in the same statement, the franchise's admins: a second branch of a
 * UNION ALL over the same source (franchisee grants by the (role, object_id) index, one row per admin),
 * where a separate query cost every admin page a round trip. Rows are put in order here, not by an outer
 * ORDER BY, which made MariaDB copy them into a temporary table to sort on every request.
 */
function franchisesQuery(db: Db, source: FranchiseSource, args: Arg[], withAdminDetail: boolean) {
  const stores = db
    .selectFrom(source(db, ...args))
    .leftJoin('stores as s', 's.franchise_id', 'f.id')
    .select(['f.id as id', 'f.name as name', 's.id as store_id', 's.name as store_name']);
  if (!withAdminDetail) return stores;
  const none = <T>() => sql<T | null>`null`;
  return stores
    .select(['s.revenue_units as revenue_units', none<number>().as('admin_id'), none<string>().as('admin_name'), none<string>().as('admin_email')])
    .unionAll(
      db
        .selectFrom(source(db, ...args))
        .innerJoin('user_roles as r', (join) => join.onRef('r.object_id', '=', 'f.id').on('r.role', '=', 'franchisee'))
        .innerJoin('users as u', 'u.id', 'r.user_id')
        .select(['f.id as id', 'f.name as name', none<number>().as('store_id'), none<string>().as('store_name'), none<number>().as('revenue_units')])
        .select(['u.id as admin_id', 'u.name as admin_name', 'u.email as admin_email']),
    );
}

// Every (source, detail) combination compiled once: the list is read on every page of the frontend.
const QUERIES = Object.fromEntries(
  Object.entries(SOURCES).map(([name, source]) => {
    const compiled = (withAdminDetail: boolean) =>
      compileOnce<Arg[], FranchiseRow>((db, ...args) => franchisesQuery(db, source, args, withAdminDetail) as never, source.length - 1);
    return [name, { stores: compiled(false), storesWithRevenue: compiled(true) }];
  }),
) as Record<SourceName, { stores: CompiledOnce<Arg[], FranchiseRow>; storesWithRevenue: CompiledOnce<Arg[], FranchiseRow> }>;

/** Franchise views from one source; rows become views here and nowhere else. */
async function franchisesFrom(db: Db, sourceName: SourceName, args: Arg[], withAdminDetail: boolean): Promise<FranchiseView[]> {
  const queries = QUERIES[sourceName];
  const { rows } = await (withAdminDetail ? queries.storesWithRevenue : queries.stores).execute(db, ...args);
  return franchiseViews(rows, withAdminDetail);
}

/** Rows of franchisesQuery as views: franchises by id, each one's admins by user id, then its stores by id. */
function franchiseViews(rows: FranchiseRow[], withAdminDetail: boolean): FranchiseView[] {
  rows.sort((a, b) => Number(a.id) - Number(b.id) || Number(a.store_id ?? 0) - Number(b.store_id ?? 0) || Number(a.admin_id ?? 0) - Number(b.admin_id ?? 0));
  const byFranchise = new Map<number, FranchiseView>();
  for (const row of rows) {
    const id = Number(row.id);
    let franchise = byFranchise.get(id);
    if (!franchise) {
      franchise = { id, name: row.name, ...(withAdminDetail ? { admins: [] } : {}), stores: [] };
      byFranchise.set(id, franchise);
    }
    if (withAdminDetail && row.admin_id != null && row.admin_name != null && row.admin_email != null) {
      franchise.admins!.push({ id: Number(row.admin_id), name: row.admin_name, email: row.admin_email });
      continue;
    }
    if (row.store_id === null || row.store_name === null) continue;
    const store: StoreView = { id: Number(row.store_id), name: row.store_name };
    if (withAdminDetail) store.totalRevenue = unitsToBtc(row.revenue_units ?? 0);
    franchise.stores.push(store);
  }
  return [...byFranchise.values()];
}

/** A page of franchises (limit + 1 fetched to answer `more`); admins also get admins and revenue. */
export async function listFranchises(db: Db, page: { offset: number; limit: number; nameLike?: string; withAdminDetail: boolean }) {
  const franchises = page.nameLike
    ? await franchisesFrom(db, 'namedPage', [page.nameLike, page.limit + 1, page.offset], page.withAdminDetail)
    : await franchisesFrom(db, 'page', [page.limit + 1, page.offset], page.withAdminDetail);
  return { franchises: franchises.slice(0, page.limit), more: franchises.length > page.limit };
}

/** The franchises a user is a franchisee of, with admins and revenue. */
export async function franchisesOfUser(db: Db, userId: number): Promise<FranchiseView[]> {
  return franchisesFrom(db, 'ofUser', [userId], true);
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

