import type { AliasedSelectQueryBuilder } from 'kysely';
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

type StoreRow = { id: number; name: string; store_id: number | null; store_name: string | null; revenue_units?: string | number | null };
type AdminRow = { franchise_id: number; id: number; name: string; email: string };

/**
 * The franchises of a source with their stores (and, with admin detail, each store's revenue, kept on
 * the store as orders are fulfilled) in one query. The source is a derived table, so a LIMIT in
 * it counts franchises, not franchise × store rows. Rows are put in order here, not by an outer ORDER BY,
 * which made MariaDB copy them into a temporary table to sort on every request.
 */
function storesQuery(source: FranchiseSource, withAdminDetail: boolean) {
  return compileOnce<Arg[], StoreRow>(
    (db, ...args) =>
      db
        .selectFrom(source(db, ...args))
        .leftJoin('stores as s', 's.franchise_id', 'f.id')
        .select(['f.id as id', 'f.name as name', 's.id as store_id', 's.name as store_name'])
        .$if(withAdminDetail, (q) => q.select('s.revenue_units as revenue_units')),
    source.length - 1,
  );
}

// Every (source, detail) combination compiled once: the list is read on every page of the frontend.
const QUERIES = Object.fromEntries(
  Object.entries(SOURCES).map(([name, source]) => [name, { stores: storesQuery(source, false), storesWithRevenue: storesQuery(source, true) }]),
) as Record<SourceName, { stores: CompiledOnce<Arg[], StoreRow>; storesWithRevenue: CompiledOnce<Arg[], StoreRow> }>;

/**
 * The franchisees of these franchises, by the (role, object_id) index. Joined with the derived page
 * instead, MariaDB scanned all of user_roles for every admin page.
 */
async function adminsOf(db: Db, franchiseIds: number[]): Promise<AdminRow[]> {
  if (!franchiseIds.length) return [];
  return db
    .selectFrom('user_roles as r')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .select(['r.object_id as franchise_id', 'u.id as id', 'u.name as name', 'u.email as email'])
    .where('r.role', '=', 'franchisee')
    .where('r.object_id', 'in', franchiseIds)
    .orderBy('u.id')
    .execute() as Promise<AdminRow[]>;
}

/** Franchise views from one source; rows become views here and nowhere else. */
async function franchisesFrom(db: Db, sourceName: SourceName, args: Arg[], withAdminDetail: boolean): Promise<FranchiseView[]> {
  const queries = QUERIES[sourceName];
  const { rows } = await (withAdminDetail ? queries.storesWithRevenue : queries.stores).execute(db, ...args);
  rows.sort((a, b) => Number(a.id) - Number(b.id) || Number(a.store_id ?? 0) - Number(b.store_id ?? 0));

  const byFranchise = new Map<number, FranchiseView>();
  for (const row of rows) {
    const id = Number(row.id);
    let franchise = byFranchise.get(id);
    if (!franchise) {
      franchise = { id, name: row.name, ...(withAdminDetail ? { admins: [] } : {}), stores: [] };
      byFranchise.set(id, franchise);
    }
    if (row.store_id === null || row.store_name === null) continue;
    const store: StoreView = { id: Number(row.store_id), name: row.store_name };
    if (withAdminDetail) store.totalRevenue = unitsToBtc(row.revenue_units ?? 0);
    franchise.stores.push(store);
  }
  if (withAdminDetail) {
    for (const a of await adminsOf(db, [...byFranchise.keys()])) byFranchise.get(Number(a.franchise_id))?.admins?.push({ id: Number(a.id), name: a.name, email: a.email });
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

const storeInFranchiseQuery = compileOnce((db: Db, franchiseId: number, storeId: number) =>
  db.selectFrom('stores').select('id').where('id', '=', storeId).where('franchise_id', '=', franchiseId),
);

/** Checked on every order. */
export async function storeInFranchise(db: Db, franchiseId: number, storeId: number): Promise<boolean> {
  return (await storeInFranchiseQuery.execute(db, franchiseId, storeId)).rows.length > 0;
}
