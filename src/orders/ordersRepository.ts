import { MysqlAdapter, sql, type Compilable } from 'kysely';
import { sessionCheckedRead } from '../auth/sessionsRepository';
import type { DatabaseFeatures, Db, SqliteNow } from '../shared/db';
import { insertedId, sqliteWriteBatch } from '../shared/db';
import { compileOnce, type CompiledOnce } from '../shared/db/compileOnce';
import type { OrderStatus } from '../shared/db/schema';
import { unitsToBtc } from '../shared/money';

export interface OrderItemView { id: number; menuId: number; description: string; price: number }
export interface OrderView { id: number; franchiseId: number | null; storeId: number | null; date: string; status: OrderStatus; items: OrderItemView[] }

export interface OrderRecord {
  id: number;
  dinerId: number | null;
  franchiseId: number | null;
  storeId: number | null;
  status: OrderStatus;
  createdAt: number;
  jwt: string | null;
  failureReason: string | null;
  failureMessage: string | null;
  factoryStatus: number | null;
  reportUrl: string | null;
  attempts: number;
  totalUnits: number;
}

const orderColumns = [
  'id', 'diner_id', 'franchise_id', 'store_id', 'status', 'created_at', 'jwt', 'failure_reason', 'failure_message', 'factory_status', 'report_url', 'attempts', 'total_units',
] as const;

type OrderRow = { id: number; diner_id: number | null; franchise_id: number | null; store_id: number | null; status: OrderStatus; created_at: number; jwt: string | null; failure_reason: string | null; failure_message: string | null; factory_status: number | null; report_url: string | null; attempts: number; total_units: number };

const nullableNumber = (v: number | null) => (v === null ? null : Number(v));

function toRecord(row: OrderRow): OrderRecord {
  return {
    id: Number(row.id),
    dinerId: nullableNumber(row.diner_id),
    franchiseId: nullableNumber(row.franchise_id),
    storeId: nullableNumber(row.store_id),
    status: row.status,
    createdAt: Number(row.created_at),
    jwt: row.jwt,
    failureReason: row.failure_reason,
    failureMessage: row.failure_message,
    factoryStatus: nullableNumber(row.factory_status),
    reportUrl: row.report_url,
    attempts: Number(row.attempts),
    totalUnits: Number(row.total_units),
  };
}

/** Orders and their items become API shapes here and nowhere else. */
export function toOrderView(order: Pick<OrderRecord, 'id' | 'franchiseId' | 'storeId' | 'createdAt' | 'status'>, items: OrderItemView[]): OrderView {
  return { id: order.id, franchiseId: order.franchiseId, storeId: order.storeId, date: new Date(order.createdAt).toISOString(), status: order.status, items };
}

// The statements of every order, compiled once (see compileOnce).
// The order is written only when its store belongs to the franchise: the row is selected from the store's
// own row, so checking the store costs no statement of its own (no row inserted: no such store there).
const insertOrderQuery = compileOnce((db: Db, dinerId: number, franchiseId: number, storeId: number, now: number, totalUnits: number, idempotencyKey: string | null) =>
  db
    .insertInto('orders')
    .columns(['diner_id', 'franchise_id', 'store_id', 'created_at', 'updated_at', 'status', 'total_units', 'idempotency_key', 'attempts'])
    .expression((eb) =>
      eb
        .selectFrom('stores')
        .select([
          eb.val(dinerId).as('diner_id'),
          'franchise_id',
          'id',
          eb.val(now).as('created_at'),
          eb.val(now).as('updated_at'),
          eb.val('pending').as('status'),
          eb.val(totalUnits).as('total_units'),
          eb.val(idempotencyKey).as('idempotency_key'),
          eb.lit(0).as('attempts'),
        ])
        .where('id', '=', storeId)
        .where('franchise_id', '=', franchiseId),
    ),
);
/**
 * The same insert, written only while the caller's session is live (by id, unexpired, of this diner): the session
 * check folded into the order's first statement, which also answers the diner's name and email (for the factory)
 * and when the session was last seen. Needs `INSERT … RETURNING` (SQLite, MariaDB 10.5+). No row: the store is
 * not in the franchise, or the session is gone (the caller tells which apart, on that path only).
 */
const insertOrderForSessionQuery = compileOnce(
  (db: Db, sessionId: string, now: number, dinerId: number, franchiseId: number, storeId: number, totalUnits: number, idempotencyKey: string | null) =>
    db
      .insertInto('orders')
      .columns(['diner_id', 'franchise_id', 'store_id', 'created_at', 'updated_at', 'status', 'total_units', 'idempotency_key', 'attempts'])
      .expression((eb) =>
        eb
          .selectFrom('stores')
          .innerJoin('sessions', (join) => join.on('sessions.id', '=', sessionId).on('sessions.user_id', '=', dinerId).on('sessions.expires_at', '>', now))
          .select([
            eb.val(dinerId).as('diner_id'),
            'stores.franchise_id',
            'stores.id',
            eb.val(now).as('created_at'),
            eb.val(now).as('updated_at'),
            eb.val('pending').as('status'),
            eb.val(totalUnits).as('total_units'),
            eb.val(idempotencyKey).as('idempotency_key'),
            eb.lit(0).as('attempts'),
          ])
          .where('stores.id', '=', storeId)
          .where('stores.franchise_id', '=', franchiseId),
      )
      .returning([
        'id',
        sql<string>`(select u.name from users u where u.id = orders.diner_id)`.as('diner_name'),
        sql<string>`(select u.email from users u where u.id = orders.diner_id)`.as('diner_email'),
        sql<number>`(select x.last_seen_at from sessions x where x.id = ${sessionId})`.as('session_last_seen_at'),
      ]),
);
const itemColumns = ['id', 'menu_id', 'description', 'price_units'] as const;
type ItemArgs = (number | string)[];
const insertItemsQueries = new Map<string, CompiledOnce<ItemArgs, ItemRow>>();
/**
 * The items of an order, in one multi-row INSERT, compiled once per item count (1 to 20). Where the server
 * has `INSERT … RETURNING` (MariaDB 10.5+, SQLite) it also answers their ids; elsewhere they are read back
 * (itemsOfOrderQuery): a multi-row insert reports only the first id, and MySQL does not promise the rest
 * are consecutive.
 */
function insertItemsQuery(count: number, returning: boolean): CompiledOnce<ItemArgs, ItemRow> {
  const key = `${count}:${returning}`;
  let query = insertItemsQueries.get(key);
  if (!query) {
    query = compileOnce((db: Db, ...args: ItemArgs) => {
      const rows = Array.from({ length: count }, (_, i) => ({
        order_id: args[0] as number,
        menu_id: args[1 + 3 * i] as number,
        description: args[2 + 3 * i] as string,
        price_units: args[3 + 3 * i] as number,
      }));
      const insert = db.insertInto('order_items').values(rows);
      return (returning ? insert.returning(itemColumns) : insert) as Compilable<ItemRow>;
    }, 1 + 3 * count);
    insertItemsQueries.set(key, query);
  }
  return query;
}
const itemsOfOrderQuery = compileOnce((db: Db, orderId: number) => db.selectFrom('order_items').select(itemColumns).where('order_id', '=', orderId).orderBy('id'));
// Fulfilling an order adds its total to its store's revenue_units (what the admin franchise list shows),
// only on the way into 'fulfilled', so a repeated call (settle() retrying after a lost answer) adds nothing.
// MariaDB/MySQL: one multi-table UPDATE (no extra round trip per order; Kysely's builder types only the
// updated table's columns, hence raw SQL, bound parameters all the same); SQLite, which has none: a transaction.
const markFulfilledQuery = compileOnce((db: Db, id: number, jwt: string, reportUrl: string | null, now: number) =>
  db
    .updateTable('orders')
    .set((eb) => ({ status: 'fulfilled', jwt, report_url: reportUrl, failure_reason: null, failure_message: null, factory_status: 200, updated_at: now, attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .where('status', '!=', 'fulfilled'),
);
const markFulfilledWithRevenueQuery = compileOnce((db: Db, id: number, jwt: string, reportUrl: string | null, now: number) => ({
  compile: () =>
    sql`update orders o left join stores s on s.id = o.store_id
      set o.status = 'fulfilled', o.jwt = ${jwt}, o.report_url = ${reportUrl}, o.failure_reason = null, o.failure_message = null,
        o.factory_status = 200, o.updated_at = ${now}, o.attempts = o.attempts + 1, s.revenue_units = s.revenue_units + o.total_units
      where o.id = ${id} and o.status <> 'fulfilled'`.compile(db),
}));
const addToStoreRevenueQuery = compileOnce((db: Db, orderId: number) =>
  db
    .updateTable('stores')
    .set((eb) => ({ revenue_units: eb('revenue_units', '+', eb.selectFrom('orders').select('total_units').where('id', '=', orderId)) }))
    .where('id', '=', (eb) => eb.selectFrom('orders').select('store_id').where('id', '=', orderId)),
);

type ItemRow = { id: number; menu_id: number; description: string; price_units: number };
const itemView = (r: ItemRow): OrderItemView => ({ id: Number(r.id), menuId: Number(r.menu_id), description: r.description, price: unitsToBtc(r.price_units) });

export interface PendingOrderInput {
  dinerId: number;
  franchiseId: number;
  storeId: number;
  idempotencyKey?: string;
  items: { menuId: number; description: string; priceUnits: number }[];
  /** Write the order only while this session of the diner is live (the session check folded in; needs features.insertReturning). */
  sessionId?: string;
}
/** With `sessionId`, the diner as the session check found them. */
export type PendingOrder = { record: OrderRecord; items: OrderItemView[]; diner?: { name: string; email: string; sessionLastSeenAt: number } } | undefined;

/**
 * Writes the order as pending with its items, in one transaction; returns the record and the items as the API
 * shows them, or undefined, having written nothing, when the store is not in that franchise (or, with
 * `sessionId`, the session is gone). On SQLite it runs synchronously on the connection, committed with the
 * other writes of the same event-loop turn (sqliteWriteBatch); elsewhere in a Kysely transaction.
 */
export async function writePendingOrder(db: Db, order: PendingOrderInput, now: number, features: DatabaseFeatures): Promise<PendingOrder> {
  if (order.sessionId !== undefined && !features.insertReturning) throw new Error('the session check is folded into the order insert only with INSERT … RETURNING');
  const batch = sqliteWriteBatch(db);
  if (batch) return batch.write((sqlite) => insertPendingOrderNow(sqlite, db, order, now, features));
  return db.transaction().execute((trx) => insertPendingOrder(trx, order, now, features));
}

type SessionOrderRow = { id: number; diner_name: string; diner_email: string; session_last_seen_at: number | string };
const sessionOrderArgs = (order: PendingOrderInput & { sessionId: string }, now: number, totalUnits: number) =>
  [order.sessionId, now, order.dinerId, order.franchiseId, order.storeId, totalUnits, order.idempotencyKey ?? null] as [string, number, number, number, number, number, string | null];
const dinerOf = (row: SessionOrderRow) => ({ name: row.diner_name, email: row.diner_email, sessionLastSeenAt: Number(row.session_last_seen_at) });

const orderArgs = (order: PendingOrderInput, now: number, totalUnits: number) =>
  [order.dinerId, order.franchiseId, order.storeId, now, totalUnits, order.idempotencyKey ?? null] as [number, number, number, number, number, string | null];
const itemArgs = (id: number, order: PendingOrderInput): ItemArgs => {
  const args: ItemArgs = [id];
  for (const item of order.items) args.push(item.menuId, item.description, item.priceUnits);
  return args;
};
const totalOf = (order: PendingOrderInput) => order.items.reduce((sum, item) => sum + item.priceUnits, 0);

function insertPendingOrderNow(sqlite: SqliteNow, db: Db, order: PendingOrderInput, now: number, features: DatabaseFeatures): PendingOrder {
  const totalUnits = totalOf(order);
  if (order.sessionId !== undefined) {
    const { rows: [row] } = insertOrderForSessionQuery.runNow(sqlite, db, ...sessionOrderArgs(order as PendingOrderInput & { sessionId: string }, now, totalUnits));
    if (!row) return undefined;
    const id = Number(row.id);
    const { rows } = insertItemsQuery(order.items.length, true).runNow(sqlite, db, ...itemArgs(id, order));
    return { ...pendingOrder(id, order, now, totalUnits, rows)!, diner: dinerOf(row as SessionOrderRow) };
  }
  const inserted = insertOrderQuery.runNow(sqlite, db, ...orderArgs(order, now, totalUnits));
  if (!inserted.numAffectedRows) return undefined;
  const id = insertedId(inserted);
  const { rows: returned } = insertItemsQuery(order.items.length, features.insertReturning).runNow(sqlite, db, ...itemArgs(id, order));
  return pendingOrder(id, order, now, totalUnits, features.insertReturning ? returned : itemsOfOrderQuery.runNow(sqlite, db, id).rows);
}

/** Writes the order as pending with its items (run it in a transaction); see writePendingOrder. */
export async function insertPendingOrder(db: Db, order: PendingOrderInput, now: number, features: DatabaseFeatures): Promise<PendingOrder> {
  const totalUnits = totalOf(order);
  if (order.sessionId !== undefined) {
    const { rows: [row] } = await insertOrderForSessionQuery.execute(db, ...sessionOrderArgs(order as PendingOrderInput & { sessionId: string }, now, totalUnits));
    if (!row) return undefined;
    const id = Number(row.id);
    const { rows } = await insertItemsQuery(order.items.length, true).execute(db, ...itemArgs(id, order));
    return { ...pendingOrder(id, order, now, totalUnits, rows)!, diner: dinerOf(row as SessionOrderRow) };
  }
  const inserted = await insertOrderQuery.execute(db, ...orderArgs(order, now, totalUnits));
  if (!inserted.numAffectedRows) return undefined;
  const id = insertedId(inserted);
  const { rows: returned } = await insertItemsQuery(order.items.length, features.insertReturning).execute(db, ...itemArgs(id, order));
  return pendingOrder(id, order, now, totalUnits, features.insertReturning ? returned : (await itemsOfOrderQuery.execute(db, id)).rows);
}

function pendingOrder(id: number, order: PendingOrderInput, now: number, totalUnits: number, rows: ItemRow[]): PendingOrder {
  // In insertion order: SQLite does not promise RETURNING's row order.
  const items = rows.map(itemView).sort((a, b) => a.id - b.id);
  const record: OrderRecord = {
    id,
    dinerId: order.dinerId,
    franchiseId: order.franchiseId,
    storeId: order.storeId,
    status: 'pending',
    createdAt: now,
    jwt: null,
    failureReason: null,
    failureMessage: null,
    factoryStatus: null,
    reportUrl: null,
    attempts: 0,
    totalUnits,
  };
  return { record, items };
}

const findOrderQuery = compileOnce((db: Db, id: number) => db.selectFrom('orders').select(orderColumns).where('id', '=', id));
const findOrderByKeyQuery = compileOnce((db: Db, dinerId: number, key: string) => db.selectFrom('orders').select(orderColumns).where('diner_id', '=', dinerId).where('idempotency_key', '=', key));

export async function findOrder(db: Db, id: number): Promise<OrderRecord | undefined> {
  const { rows } = await findOrderQuery.execute(db, id);
  return rows.length ? toRecord(rows[0]) : undefined;
}

export async function findOrderByIdempotencyKey(db: Db, dinerId: number, key: string): Promise<OrderRecord | undefined> {
  const { rows } = await findOrderByKeyQuery.execute(db, dinerId, key);
  return rows.length ? toRecord(rows[0]) : undefined;
}

export async function itemsOfOrders(db: Db, orderIds: number[]): Promise<Map<number, OrderItemView[]>> {
  const map = new Map<number, OrderItemView[]>(orderIds.map((id) => [id, []]));
  if (!orderIds.length) return map;
  // One order (a replay, a retry): a statement compiled once; a list of them is built per call (its IN list varies).
  if (orderIds.length === 1) {
    const { rows } = await itemsOfOrderQuery.execute(db, orderIds[0]);
    map.set(orderIds[0], rows.map(itemView));
    return map;
  }
  const rows = await db.selectFrom('order_items').select(['id', 'order_id', 'menu_id', 'description', 'price_units']).where('order_id', 'in', orderIds).orderBy('id').execute();
  for (const r of rows) {
    map.get(Number(r.order_id))?.push(itemView(r));
  }
  return map;
}

export async function markFulfilled(db: Db, id: number, jwt: string, reportUrl: string | null, now: number): Promise<void> {
  if (db.getExecutor().adapter instanceof MysqlAdapter) {
    await markFulfilledWithRevenueQuery.execute(db, id, jwt, reportUrl, now);
    return;
  }
  const batch = sqliteWriteBatch(db);
  if (batch) {
    await batch.write((sqlite) => {
      if (markFulfilledQuery.runNow(sqlite, db, id, jwt, reportUrl, now).numAffectedRows) addToStoreRevenueQuery.runNow(sqlite, db, id);
    });
    return;
  }
  await db.transaction().execute(async (trx) => {
    const { numAffectedRows } = await markFulfilledQuery.execute(trx, id, jwt, reportUrl, now);
    if (numAffectedRows) await addToStoreRevenueQuery.execute(trx, id);
  });
}

export async function markFailed(
  db: Db,
  id: number,
  failure: { reason: string; message: string; factoryStatus?: number; reportUrl?: string; traceId?: string },
  now: number,
): Promise<void> {
  await markFailedQuery.execute(db, id, failure.reason, failure.message.slice(0, 1000), failure.factoryStatus ?? null, failure.reportUrl?.slice(0, 2000) ?? null, failure.traceId ?? null, now);
}

const markFailedQuery = compileOnce((db: Db, id: number, reason: string, message: string, factoryStatus: number | null, reportUrl: string | null, traceId: string | null, now: number) =>
  db
    .updateTable('orders')
    .set((eb) => ({
      status: 'failed',
      failure_reason: reason,
      failure_message: message,
      factory_status: factoryStatus,
      report_url: reportUrl,
      trace_id: traceId,
      updated_at: now,
      attempts: eb('attempts', '+', 1),
    }))
    .where('id', '=', id)
    // A fulfilled order stays fulfilled (its pizza was made and its revenue counted).
    .where('status', '!=', 'fulfilled'),
);
const attachLateReportUrlQuery = compileOnce((db: Db, id: number, reportUrl: string, now: number) =>
  db.updateTable('orders').set({ report_url: reportUrl, updated_at: now }).where('id', '=', id).where('status', '=', 'failed'),
);
const claimForRetryQuery = compileOnce((db: Db, id: number, now: number) => db.updateTable('orders').set({ status: 'pending', updated_at: now }).where('id', '=', id).where('status', '=', 'failed'));

/**
 * Stores the report URL of the factory's late answer on the order that already failed (timeout). Only a failed
 * order: one retried meanwhile (pending) or fulfilled is left alone. False when no row was changed.
 */
export async function attachLateReportUrl(db: Db, id: number, reportUrl: string, now: number): Promise<boolean> {
  const { numAffectedRows } = await attachLateReportUrlQuery.execute(db, id, reportUrl.slice(0, 2000), now);
  return Number(numAffectedRows ?? 0) > 0;
}

/** Claims a failed order for a retry; false when another request got it first or it is not failed. */
export async function claimForRetry(db: Db, id: number, now: number): Promise<boolean> {
  const { numAffectedRows } = await claimForRetryQuery.execute(db, id, now);
  return Number(numAffectedRows ?? 0) > 0;
}

/**
 * A diner's page of orders with their items, as one derived table: the page is itself a derived table (its
 * LIMIT counts orders, not order × item rows) joined with the items. Only the columns the view shows are
 * read (not the pizza JWT, ~0.6 kB an order). Read through the caller's session check (one statement):
 * only a diner reads their history.
 */
export const ownOrderHistory = sessionCheckedRead(
  (db: Db, dinerId: number, limit: number, offset: number) =>
    db
      .selectFrom(db.selectFrom('orders').select(['id', 'franchise_id', 'store_id', 'created_at', 'status']).where('diner_id', '=', dinerId).orderBy('id', 'desc').limit(limit).offset(offset).as('o'))
      .leftJoin('order_items as i', 'i.order_id', 'o.id')
      .select(['o.id as id', 'o.franchise_id as franchise_id', 'o.store_id as store_id', 'o.created_at as created_at', 'o.status as status'])
      .select(['i.id as item_id', 'i.menu_id as menu_id', 'i.description as description', 'i.price_units as price_units'])
      .as('x'),
  2,
);

type HistoryRow = {
  id?: number | null;
  franchise_id?: number | null;
  store_id?: number | null;
  created_at?: number | string | null;
  status?: OrderStatus | null;
  item_id?: number | null;
  menu_id?: number | null;
  description?: string | null;
  price_units?: number | string | null;
};

/** The page of order views in `rows` (read with limit + 1 to answer `more`); a row without an order is skipped. */
export function orderHistoryPage(rows: HistoryRow[], limit: number) {
  const own = rows.filter((row): row is HistoryRow & { id: number; status: OrderStatus } => row.id !== null && row.id !== undefined && row.status != null);
  // Newest order first, its items in order: sorted here (an outer ORDER BY cost MariaDB a temporary table).
  own.sort((a, b) => Number(b.id) - Number(a.id) || Number(a.item_id ?? 0) - Number(b.item_id ?? 0));
  const orders: { order: Pick<OrderRecord, 'id' | 'franchiseId' | 'storeId' | 'createdAt' | 'status'>; items: OrderItemView[] }[] = [];
  for (const row of own) {
    const id = Number(row.id);
    let entry = orders[orders.length - 1];
    if (entry?.order.id !== id) {
      entry = {
        order: { id, franchiseId: nullableNumber(row.franchise_id ?? null), storeId: nullableNumber(row.store_id ?? null), createdAt: Number(row.created_at), status: row.status },
        items: [],
      };
      orders.push(entry);
    }
    if (row.item_id != null && row.menu_id != null && row.description != null && row.price_units != null) {
      entry.items.push({ id: Number(row.item_id), menuId: Number(row.menu_id), description: row.description, price: unitsToBtc(row.price_units) });
    }
  }
  return { orders: orders.slice(0, limit).map((o) => toOrderView(o.order, o.items)), more: orders.length > limit };
}

export async function recentFailures(db: Db, limit: number): Promise<(OrderRecord & { traceId: string | null })[]> {
  const rows = await db.selectFrom('orders').select([...orderColumns, 'trace_id']).where('status', '=', 'failed').orderBy('updated_at', 'desc').limit(limit).execute();
  return rows.map((row) => ({ ...toRecord(row), traceId: row.trace_id }));
}

/** Orders left pending by a process that died mid-call; the sweeper fails them so none stays pending forever. */
export async function failStalePending(db: Db, olderThan: number, now: number): Promise<number[]> {
  const stale = await db.selectFrom('orders').select('id').where('status', '=', 'pending').where('updated_at', '<', olderThan).execute();
  const ids = stale.map((r) => Number(r.id));
  if (!ids.length) return [];
  await db
    .updateTable('orders')
    .set({ status: 'failed', failure_reason: 'interrupted', failure_message: 'the service stopped before the factory answered', updated_at: now })
    .where('id', 'in', ids)
    .where('status', '=', 'pending')
    .execute();
  return ids;
}
