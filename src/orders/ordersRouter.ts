import { z } from 'zod';
import type { authMiddleware } from '../auth/middleware';
import type { AppContext } from '../context';
import { addMenuItem, type MenuCache } from '../menu/menuService';
import { badRequest } from '../shared/errors';
import { id, queryInt, RawJson, type MountedRoutes, type RouteCatalogue } from '../shared/http/routes';
import { textField } from '../shared/http/schemas';
import { orderHistoryPage, ownOrderHistory } from './ordersRepository';
import { factoryStatus, listFailures, resolveActiveChaos } from './onCall';
import { placeOrder, retryOrder } from './placeOrder';

const PAGE_SIZE = 10;
const exampleOrder = { id: 1, franchiseId: 1, storeId: 1, date: '2026-11-22T12:00:00.000Z', status: 'fulfilled', items: [{ id: 1, menuId: 1, description: 'Veggie', price: 0.0038 }] };

const price = z
  .number({ message: 'must be a number' })
  .positive('must be positive')
  .max(1000, 'must be at most 1000')
  // p * 1e8 drifts by more than any fixed epsilon above ~100 BTC; rounding to 8 decimals and comparing is exact.
  .refine((p) => Number(p.toFixed(8)) === p, 'at most 8 decimals');

export function ordersRouter(ctx: AppContext, catalogue: RouteCatalogue, auth: ReturnType<typeof authMiddleware>, menu: MenuCache): MountedRoutes {
  return catalogue.router('/api/order', [
    {
      method: 'GET',
      path: '/menu',
      auth: 'none',
      description: 'Get the pizza menu',
      example: `curl localhost:3000/api/order/menu`,
      response: [{ id: 1, title: 'Veggie', image: 'pizza1.png', price: 0.0038, description: 'A garden of delight' }],
      // From the cache in the same turn while it is fresh (no promise on the busiest read).
      handle: () => {
        const fresh = menu.freshJson();
        return fresh !== undefined ? new RawJson(fresh) : menu.json().then((text) => new RawJson(text));
      },
    },
    {
      method: 'PUT',
      path: '/menu',
      auth: 'admin',
      description: 'Add an item to the menu; returns the whole menu',
      example: `curl -X PUT localhost:3000/api/order/menu -H 'Content-Type: application/json' -d '{ "title":"Student", "description": "No topping, no sauce, just carbs", "image":"pizza9.png", "price": 0.0001 }' -H 'Authorization: Bearer tttttt'`,
      response: [{ id: 1, title: 'Student', description: 'No topping, no sauce, just carbs', image: 'pizza9.png', price: 0.0001 }],
      before: [auth.requireAdmin],
      body: z.object({
        title: textField(100),
        description: z.string().trim().max(1000).default(''),
        image: z.string().trim().min(1).max(1000),
        price,
      }),
      handle: async ({ body }) => new RawJson(await addMenuItem(ctx, menu, body)),
    },
    {
      method: 'GET',
      path: '/',
      auth: 'user',
      description: "Get the authenticated user's orders, 1-based pages of 10, newest first",
      example: `curl 'localhost:3000/api/order?page=1' -H 'Authorization: Bearer tttttt'`,
      response: { dinerId: 4, orders: [exampleOrder], page: 1, more: false },
      // The session is checked in the statement that reads the page (auth.readOwn): one round trip.
      before: [auth.requireSignedToken],
      query: z.object({ page: queryInt(1, 1_000_000, 1) }),
      handle: async ({ req, query }) => {
        const { userId, rows } = await auth.readOwn(req, ownOrderHistory, PAGE_SIZE + 1, (query.page - 1) * PAGE_SIZE);
        const { orders, more } = orderHistoryPage(rows, PAGE_SIZE);
        return { dinerId: userId, orders, page: query.page, more };
      },
    },
    {
      method: 'POST',
      path: '/',
      auth: 'user',
      description: 'Order pizzas (1 to 20 items; prices and descriptions come from the menu). Send an Idempotency-Key header to make retries safe',
      example: `curl -X POST localhost:3000/api/order -H 'Content-Type: application/json' -H 'Idempotency-Key: 7d1c…' -d '{"franchiseId": 1, "storeId":1, "items":[{ "menuId": 1, "description": "Veggie", "price": 0.0038 }]}' -H 'Authorization: Bearer tttttt'`,
      response: { order: exampleOrder, jwt: '1111111111' },
      // The signature only (401 for an anonymous caller before validation); the session is checked by the
      // statement that writes the order (placeOrder).
      before: [auth.requireSignedToken],
      body: z.object({
        franchiseId: id,
        storeId: id,
        // description and price are accepted for compatibility with the frontend but never trusted.
        items: z.array(z.object({ menuId: id }).passthrough()).min(1, 'must have 1 to 20 items').max(20, 'must have 1 to 20 items'),
      }),
      handle: ({ req, body }) =>
        placeOrder(ctx, menu, { token: req.signedToken!, onAuthenticated: (userId) => (req.authenticatedUserId = userId) }, body, idempotencyKey(req.headers['idempotency-key'])),
    },
    {
      method: 'POST',
      path: '/:orderId/retry',
      auth: 'self/admin',
      description: 'Retry a failed order in place (same order id); a fulfilled order answers with its pizza',
      example: `curl -X POST localhost:3000/api/order/12/retry -H 'Authorization: Bearer tttttt'`,
      response: { order: exampleOrder, jwt: '1111111111' },
      before: [auth.requireUser],
      params: z.object({ orderId: id }),
      handle: ({ req, params }) => retryOrder(ctx, req.user!, params.orderId),
    },
    {
      method: 'GET',
      path: '/failures',
      auth: 'admin',
      description: 'On-call: recent failed orders with reason, time and the factory report URL (API key redacted)',
      example: `curl 'localhost:3000/api/order/failures?limit=20' -H 'Authorization: Bearer tttttt'`,
      response: { failures: [{ orderId: 12, dinerId: 4, date: '2026-11-22T12:00:00.000Z', reason: 'factory_error', message: 'chaos monkey', factoryStatus: 500, reportUrl: 'http://factory/api/support/[REDACTED]/report/<code>', traceId: '4bf92f3577b34da6a3ce929d0e0e4736' }] },
      before: [auth.requireAdmin],
      query: z.object({ limit: queryInt(1, 500, 50) }),
      handle: ({ query }) => listFailures(ctx, query.limit),
    },
    {
      method: 'GET',
      path: '/factory',
      auth: 'admin',
      description: 'On-call: factory client state (circuit, latency, last error, active chaos report URL with the key redacted)',
      example: `curl localhost:3000/api/order/factory -H 'Authorization: Bearer tttttt'`,
      response: { url: 'http://localhost:3001', circuit: 'closed', consecutiveFailures: 0, recentLatencyMs: { p50: 12, p99: 40, samples: 20 }, lastError: null, activeReportUrl: null },
      before: [auth.requireAdmin],
      handle: () => factoryStatus(ctx),
    },
    {
      method: 'POST',
      path: '/factory/report',
      auth: 'admin',
      description: "On-call: end the factory's chaos without handling the API key: calls the report URL of the chaos on now (the newest stored since the last resolution, never one the factory already answered), only on the factory's https host. 200 resolved or no_chaos; 502 when the factory refuses (e.g. 400 Problem unresolved: a stale URL); 404 when no URL is pending",
      example: `curl -X POST localhost:3000/api/order/factory/report -H 'Authorization: Bearer tttttt'`,
      response: { outcome: 'resolved', message: 'chaos resolved: Problem resolved. Pizza is back on the menu!', factoryStatus: 200, factoryMessage: 'Problem resolved. Pizza is back on the menu!', orderId: 12, reportUrl: 'https://pizza-factory.cs329.click/api/support/[REDACTED]/report/<code>' },
      before: [auth.requireAdmin],
      handle: () => resolveActiveChaos(ctx),
    },
  ]);
}

function idempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || !/^[\w.:-]{1,200}$/.test(header)) throw badRequest('invalid Idempotency-Key header: 1 to 200 characters of letters, digits, _ . : -');
  return header;
}
