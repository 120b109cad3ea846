import { sessionUserOf, touchIfStale } from '../auth/authService';
import { isAdmin } from '../auth/policies';
import type { VerifiedToken } from '../auth/tokens';
import type { SessionUser } from '../auth/sessionsRepository';
import type { AppContext } from '../context';
import type { FactoryOutcome } from '../factory/types';
import type { MenuCache } from '../menu/menuService';
import { isConnectionError, isUniqueViolation } from '../shared/db';
import { AppError, badRequest, conflict, notFound, unauthorized, unprocessable } from '../shared/errors';
import { unitsToBtc } from '../shared/money';
import { exemplarLabels, sampledTraceId } from '../shared/tracing';
import type { User } from '../users/usersRepository';
import { findUserById } from '../users/usersRepository';
import * as orders from './ordersRepository';
import type { OrderItemView, OrderRecord, OrderView } from './ordersRepository';

export interface OrderInput { franchiseId: number; storeId: number; items: { menuId: number }[] }
export interface PlacedOrder { order: OrderView; jwt: string }

const TRANSIENT_REASONS = new Set(['timeout', 'circuit_open', 'interrupted']);
/** How long a written order keeps trying to reach its final state through a database outage (a restart, a failover). */
const SETTLE_BUDGET_MS = 10_000;

/**
 * Runs a database step of an order that is already written. A lost connection is retried with backoff
 * for a bounded time: giving up at once would leave the order pending (and a made pizza unrecorded)
 * until the sweeper fails it, while the database is usually back within seconds. Real clock on purpose:
 * tests may freeze ctx.now.
 */
async function settle<T>(ctx: AppContext, orderId: number, step: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + SETTLE_BUDGET_MS;
  for (let delayMs = 100; ; delayMs = Math.min(delayMs * 2, 2000)) {
    try {
      return await step();
    } catch (error) {
      if (!isConnectionError(error) || Date.now() + delayMs > deadline) throw error;
      ctx.logger.warn({ type: 'db', orderId, retryInMs: delayMs, err: { message: (error as Error).message, code: (error as { code?: string }).code } }, 'order step failed: database unreachable, retrying');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** The diner-facing failure: no report URL, no factory internals. 503 when retrying soon may work, 502 otherwise. */
function fulfilmentFailed(orderId: number, reason: string): AppError {
  return new AppError(TRANSIENT_REASONS.has(reason) ? 503 : 502, 'order_failed', 'Failed to fulfill order at factory', { orderId, reason });
}

/**
 * The answer to a request whose Idempotency-Key names an order already placed. The same key with another
 * body is a client error (IETF httpapi idempotency-key draft: 422), not a replay of the first answer.
 */
async function replay(ctx: AppContext, order: OrderRecord, input: OrderInput): Promise<PlacedOrder> {
  const items = (await orders.itemsOfOrders(ctx.db, [order.id])).get(order.id) ?? [];
  // A franchise or store deleted since keeps its orders with no id: those cannot be compared.
  const sameStore = (order.franchiseId === null || order.franchiseId === input.franchiseId) && (order.storeId === null || order.storeId === input.storeId);
  const sameItems = items.length === input.items.length && items.every((item, index) => item.menuId === input.items[index].menuId);
  if (!sameStore || !sameItems) throw unprocessable('Idempotency-Key already used for a different order: send a new key for a new order');
  return answerFor(ctx, order, items);
}

async function answerFor(ctx: AppContext, order: OrderRecord, knownItems?: OrderItemView[]): Promise<PlacedOrder> {
  if (order.status === 'pending') throw conflict('this order is still being processed, try again in a moment');
  if (order.status === 'failed') throw fulfilmentFailed(order.id, order.failureReason ?? 'factory_error');
  const items = knownItems ?? (await orders.itemsOfOrders(ctx.db, [order.id])).get(order.id) ?? [];
  return { order: orders.toOrderView(order, items), jwt: order.jwt ?? '' };
}

/** Who places an order: a token whose signature checked; its session is checked with the order (see placeOrder). */
export interface OrderCaller {
  token: VerifiedToken;
  /** Called once the session is known to be live (the access log's `authorized`). */
  onAuthenticated(userId: number): void;
}

/**
 * Place an order: validate it against the menu (priced from the menu cache), write it as pending if its
 * store is in the franchise, ask the factory, and record the final state. Whatever the factory does, the
 * order ends fulfilled or failed. The caller's session is checked by the statement that writes the order
 * (one statement fewer per order) where the database answers `INSERT … RETURNING`; with an Idempotency-Key,
 * or without RETURNING (MySQL), by its own statement first.
 */
export async function placeOrder(ctx: AppContext, menu: MenuCache, caller: OrderCaller, input: OrderInput, idempotencyKey?: string): Promise<PlacedOrder> {
  const folded = ctx.database.features.insertReturning && idempotencyKey === undefined;
  let diner: Diner | undefined;
  if (!folded) {
    diner = await checkedSession(ctx, caller);
    if (idempotencyKey) {
      const previous = await orders.findOrderByIdempotencyKey(ctx.db, diner.id, idempotencyKey);
      if (previous) return replay(ctx, previous, input);
    }
  }

  const menuItems = await menu.itemsByIds(input.items.map((i) => i.menuId));
  const items = input.items.map((item, index) => {
    const entry = menuItems.get(item.menuId);
    if (!entry) throw badRequest(`invalid items.${index}.menuId: no menu item ${item.menuId}`);
    return { menuId: item.menuId, description: entry.title, priceUnits: entry.priceUnits };
  });

  const { userId, sessionId } = caller.token;
  const now = ctx.now();
  let placed: orders.PendingOrder;
  try {
    placed = await orders.writePendingOrder(
      ctx.db,
      { dinerId: userId, franchiseId: input.franchiseId, storeId: input.storeId, idempotencyKey, items, ...(folded ? { sessionId } : {}) },
      now,
      ctx.database.features,
    );
  } catch (error) {
    // The same key raced in from a concurrent request: answer with that request's order.
    if (idempotencyKey && isUniqueViolation(error)) {
      const winner = await orders.findOrderByIdempotencyKey(ctx.db, userId, idempotencyKey);
      if (winner) return replay(ctx, winner, input);
    }
    throw error;
  }
  if (!placed) {
    // Nothing written: a store of another franchise, or (folded) a session that is gone: 401 before 404.
    if (folded) await checkedSession(ctx, caller);
    throw notFound('store not found in that franchise');
  }
  if (placed.diner) {
    caller.onAuthenticated(userId);
    touchIfStale(ctx, sessionId, placed.diner.sessionLastSeenAt, now);
    diner = { id: userId, name: placed.diner.name, email: placed.diner.email };
  }
  return fulfil(ctx, diner!, placed.record, placed.items);
}

type Diner = Pick<User, 'id' | 'name' | 'email'>;

/** The caller's live session's user, or 401 (the refusals of auth.requireUser). */
async function checkedSession(ctx: AppContext, caller: OrderCaller): Promise<Diner> {
  const user = await sessionUserOf(ctx, caller.token);
  if (!user) throw unauthorized();
  caller.onAuthenticated(user.id);
  return user;
}

/** Retry a failed order in place: the same order id goes to the factory again. */
export async function retryOrder(ctx: AppContext, actor: SessionUser, orderId: number): Promise<PlacedOrder> {
  const order = await orders.findOrder(ctx.db, orderId);
  // Someone else's order is reported as missing, not forbidden, so ids cannot be probed.
  if (!order || (order.dinerId !== actor.id && !isAdmin(actor))) throw notFound('order not found');
  if (order.status !== 'failed') return answerFor(ctx, order);
  if (!(await orders.claimForRetry(ctx.db, orderId, ctx.now()))) {
    const current = await orders.findOrder(ctx.db, orderId);
    if (!current) throw notFound('order not found');
    return answerFor(ctx, current);
  }
  const diner = order.dinerId === actor.id ? actor : order.dinerId !== null ? await findUserById(ctx.db, order.dinerId) : undefined;
  if (!diner || order.franchiseId === null || order.storeId === null) {
    await orders.markFailed(ctx.db, orderId, { reason: 'factory_error', message: 'order can no longer be made: its diner or store was deleted' }, ctx.now());
    throw new AppError(409, 'order_orphaned', 'this order can no longer be made: its store or diner was deleted');
  }
  return fulfil(ctx, diner, { ...order, status: 'pending' });
}

async function fulfil(ctx: AppContext, diner: Diner, order: OrderRecord, knownItems?: OrderItemView[]): Promise<PlacedOrder> {
  const items = knownItems ?? (await settle(ctx, order.id, () => orders.itemsOfOrders(ctx.db, [order.id]))).get(order.id) ?? [];
  ctx.metrics.ordersPending.inc();
  let outcome: FactoryOutcome;
  try {
    outcome = await ctx.factory.createPizza({
      diner: { id: diner.id, name: diner.name, email: diner.email },
      order: { id: order.id, franchiseId: order.franchiseId ?? 0, storeId: order.storeId ?? 0, items: items.map((i) => ({ menuId: i.menuId, description: i.description, price: i.price })) },
    });
  } catch (error) {
    // The client maps every factory outcome; an exception here is our bug, but the order still gets a final state.
    ctx.logger.error({ type: 'error', err: error, orderId: order.id }, 'factory client threw');
    outcome = { kind: 'failed', reason: 'factory_error', message: 'The pizza factory could not make your order', latencyMs: 0 };
  } finally {
    ctx.metrics.ordersPending.dec();
  }

  const now = ctx.now();
  if (outcome.kind === 'fulfilled') {
    await settle(ctx, order.id, () => orders.markFulfilled(ctx.db, order.id, outcome.jwt, outcome.reportUrl ?? null, now));
    ctx.metrics.purchases.inc({ outcome: 'success', reason: 'none' });
    ctx.metrics.pizzasSold.inc(items.length);
    ctx.metrics.revenue.inc(unitsToBtc(order.totalUnits));
    ctx.metrics.factoryDuration.observe({ labels: { outcome: 'fulfilled' }, value: outcome.latencyMs / 1000, exemplarLabels: exemplarLabels() });
    // The order's one log line is the factory client's (`factory order fulfilled` / `order failed at factory`).
    return { order: orders.toOrderView({ ...order, status: 'fulfilled' }, items), jwt: outcome.jwt };
  }

  const traceId = sampledTraceId();
  await settle(ctx, order.id, () => orders.markFailed(ctx.db, order.id, { reason: outcome.reason, message: outcome.message, factoryStatus: outcome.factoryStatus, reportUrl: outcome.reportUrl, traceId }, now));
  ctx.metrics.purchases.inc({ outcome: 'failure', reason: outcome.reason });
  if (outcome.reason !== 'circuit_open') ctx.metrics.factoryDuration.observe({ labels: { outcome: outcome.reason }, value: outcome.latencyMs / 1000, exemplarLabels: exemplarLabels() });
  throw fulfilmentFailed(order.id, outcome.reason);
}
