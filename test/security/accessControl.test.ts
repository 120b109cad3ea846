import { bearer, buildTestApp, buildUser, unique, type TestApp } from '../helpers/app';
import {
  buildWorld,
  expectJson,
  expectNoInternals,
  failedOrder,
  fulfilledOrder,
  ROLES,
  routeCatalogue,
  routeKey,
  send,
  snapshotRows,
  tokenOf,
  type Role,
  type World,
} from './support';

// Broken access control (OWASP A01): every route of the catalogue that changes state or names an object
// by id, called by each kind of caller. The target object always belongs to "this franchise" / the diner,
// so the pairs cover anonymous, self, a stranger, a franchisee of another franchise, the owner and an admin.

interface Cell {
  path: string;
  body?: unknown;
}
interface MatrixRow {
  expected: Record<Role, number>;
  /** A successful call removes the target, so the next role needs a fresh cast. */
  consumesTarget?: boolean;
  request(t: TestApp, world: World): Promise<Cell> | Cell;
}

const statuses = (anonymous: number, diner: number, otherFranchisee: number, ownFranchisee: number, admin: number): Record<Role, number> => ({
  anonymous,
  diner,
  otherFranchisee,
  ownFranchisee,
  admin,
});
const everyone = (status: number) => statuses(status, status, status, status, status);
const menuItem = () => ({ title: unique('pizza'), description: 'test', image: 'pizza9.png', price: 0.0001 });
const orderBody = (w: World) => ({ franchiseId: w.franchise.id, storeId: w.franchise.store.id, items: [{ menuId: 1 }] });

const MATRIX: Record<string, MatrixRow> = {
  'POST /api/auth': { expected: everyone(200), request: () => ({ path: '/api/auth', body: { name: 'new diner', email: `${unique()}@test.jwt`, password: 'pw-new-diner' } }) },
  'PUT /api/auth': { expected: everyone(200), request: (_t, w) => ({ path: '/api/auth', body: { email: w.diner.email, password: w.diner.password } }) },
  'DELETE /api/auth': { expected: statuses(401, 200, 200, 200, 200), request: () => ({ path: '/api/auth' }) },
  'GET /api/user/me': { expected: statuses(401, 200, 200, 200, 200), request: () => ({ path: '/api/user/me' }) },
  'PUT /api/user/:userId': { expected: statuses(401, 200, 403, 403, 200), request: (_t, w) => ({ path: `/api/user/${w.diner.id}`, body: { name: 'renamed' } }) },
  'GET /api/user': { expected: statuses(401, 403, 403, 403, 200), request: () => ({ path: '/api/user?page=1&limit=10&name=*' }) },
  'DELETE /api/user/:userId': { expected: statuses(401, 403, 403, 403, 200), request: (_t, w) => ({ path: `/api/user/${w.diner.id}` }) },
  'GET /api/order/menu': { expected: everyone(200), request: () => ({ path: '/api/order/menu' }) },
  'PUT /api/order/menu': { expected: statuses(401, 403, 403, 403, 200), request: () => ({ path: '/api/order/menu', body: menuItem() }) },
  'GET /api/order': { expected: statuses(401, 200, 200, 200, 200), request: () => ({ path: '/api/order?page=1' }) },
  'POST /api/order': { expected: statuses(401, 200, 200, 200, 200), request: (_t, w) => ({ path: '/api/order', body: orderBody(w) }) },
  // Someone else's order is reported missing (404), so order ids cannot be probed.
  'POST /api/order/:orderId/retry': {
    expected: statuses(401, 200, 404, 404, 200),
    request: async (t, w) => ({ path: `/api/order/${await failedOrder(t, w)}/retry` }),
  },
  'GET /api/order/failures': { expected: statuses(401, 403, 403, 403, 200), request: () => ({ path: '/api/order/failures?limit=20' }) },
  'GET /api/order/factory': { expected: statuses(401, 403, 403, 403, 200), request: () => ({ path: '/api/order/factory' }) },
  'POST /api/order/factory/report': {
    expected: statuses(401, 403, 403, 403, 200),
    request: async (t, w) => {
      await failedOrder(t, w);
      return { path: '/api/order/factory/report' };
    },
  },
  'GET /api/franchise': { expected: everyone(200), request: () => ({ path: '/api/franchise?page=0&limit=10&name=*' }) },
  'GET /api/franchise/:userId': { expected: statuses(401, 403, 403, 200, 200), request: (_t, w) => ({ path: `/api/franchise/${w.ownFranchisee.id}` }) },
  'POST /api/franchise': {
    expected: statuses(401, 403, 403, 403, 200),
    request: (_t, w) => ({ path: '/api/franchise', body: { name: unique('franchise'), admins: [{ email: w.diner.email }] } }),
  },
  'DELETE /api/franchise/:franchiseId': { expected: statuses(401, 403, 403, 403, 200), request: (_t, w) => ({ path: `/api/franchise/${w.franchise.id}` }) },
  'POST /api/franchise/:franchiseId/store': {
    expected: statuses(401, 403, 403, 200, 200),
    request: (_t, w) => ({ path: `/api/franchise/${w.franchise.id}/store`, body: { name: unique('store') } }),
  },
  'DELETE /api/franchise/:franchiseId/store/:storeId': {
    expected: statuses(401, 403, 403, 200, 200),
    consumesTarget: true,
    request: (_t, w) => ({ path: `/api/franchise/${w.franchise.id}/store/${w.franchise.store.id}` }),
  },
};

describe('broken access control: the role matrix over the route catalogue', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(() => t.close());

  test('when the catalogue is read from /api/openapi.json, then every mutating or :id route has a row in the matrix and every row is served', async () => {
    const catalogue = await routeCatalogue(t);
    const mustBeCovered = catalogue.filter((r) => r.method !== 'GET' || r.pathParams.length > 0).map(routeKey);
    expect(mustBeCovered.filter((key) => !(key in MATRIX))).toEqual([]);
    const served = new Set(catalogue.map(routeKey));
    expect(Object.keys(MATRIX).filter((key) => !served.has(key))).toEqual([]);
  });

  test.each(Object.keys(MATRIX))('when each role calls %s, then it gets the expected status and a refused call changes no row', async (key) => {
    const row = MATRIX[key];
    const [method] = key.split(' ');
    const observed: Record<string, number> = {};
    // A refused call is proven to change nothing, so the next role can reuse the same cast; a call that
    // removed the target hands the next role a fresh one.
    let world = await buildWorld(t);
    for (const role of ROLES) {
      const cell = await row.request(t, world);
      const before = await snapshotRows(t);
      const res = await send(t, method, cell.path, { token: tokenOf(world, role), body: cell.body });
      observed[role] = res.status;
      expectJson(res);
      expectNoInternals(res);
      if (res.status >= 400) {
        expect(typeof res.body.message).toBe('string');
        expect(await snapshotRows(t)).toEqual(before);
      } else if (row.consumesTarget) {
        world = await buildWorld(t);
      }
    }
    expect(observed).toEqual(row.expected);
  });
});

describe('broken access control: objects of someone else (IDOR) and stale privileges', () => {
  let t: TestApp;
  let w: World;
  beforeAll(async () => {
    t = await buildTestApp();
    w = await buildWorld(t);
  });
  afterAll(() => t.close());

  test("when a franchisee deletes another franchise's store through their own franchise id, then 404 and the store survives", async () => {
    const before = await snapshotRows(t);
    const res = await t.http.delete(`/api/franchise/${w.otherFranchise.id}/store/${w.franchise.store.id}`).set('Authorization', bearer(w.otherFranchisee));
    expect(res.status).toBe(404);
    expect(await snapshotRows(t)).toEqual(before);
  });

  test("when a diner retries another diner's order, then the answer is the same as for an order that does not exist", async () => {
    const orderId = await failedOrder(t, w);
    const stranger = await buildUser(t);
    const theirs = await t.http.post(`/api/order/${orderId}/retry`).set('Authorization', bearer(stranger));
    const missing = await t.http.post('/api/order/2147483647/retry').set('Authorization', bearer(stranger));
    expect([theirs.status, theirs.body]).toEqual([missing.status, missing.body]);
    expect(theirs.status).toBe(404);
    const order = await t.ctx.db.selectFrom('orders').select(['status', 'attempts']).where('id', '=', orderId).executeTakeFirstOrThrow();
    expect(order).toEqual({ status: 'failed', attempts: 1 });
  });

  test('when a user updates or lists another user, then 403 whether that user exists or not (no existence oracle)', async () => {
    const diner = await buildUser(t);
    for (const path of [`/api/user/${w.admin.id}`, '/api/user/2147483647']) {
      const res = await t.http.put(path).set('Authorization', bearer(diner)).send({ name: 'x' });
      expect([res.status, res.body.message]).toEqual([403, 'you may only update your own account']);
    }
    for (const path of [`/api/franchise/${w.ownFranchisee.id}`, '/api/franchise/2147483647']) {
      expect((await t.http.get(path).set('Authorization', bearer(diner))).status).toBe(403);
    }
  });

  test('when a diner lists orders, then only their own appear, whatever page or query they send', async () => {
    const diner = await buildUser(t);
    const mine = await fulfilledOrder(t, w, diner);
    await fulfilledOrder(t, w, w.otherFranchisee);
    const res = await t.http.get('/api/order?page=1&dinerId=' + w.otherFranchisee.id).set('Authorization', bearer(diner));
    expect(res.status).toBe(200);
    expect(res.body.dinerId).toBe(diner.id);
    expect(res.body.orders.map((o: { id: number }) => o.id)).toEqual([mine.order.id]);
  });

  test('when a franchise is deleted, then its franchisee loses the rights at once (roles come from the database, not the token)', async () => {
    const world = await buildWorld(t);
    expect((await t.http.delete(`/api/franchise/${world.franchise.id}`).set('Authorization', bearer(world.admin))).status).toBe(200);
    const store = await t.http.post(`/api/franchise/${world.franchise.id}/store`).set('Authorization', bearer(world.ownFranchisee)).send({ name: 'ghost' });
    expect(store.status).toBe(403);
    const me = await t.http.get('/api/user/me').set('Authorization', bearer(world.ownFranchisee));
    expect(me.body.roles).not.toContainEqual(expect.objectContaining({ role: 'franchisee', objectId: world.franchise.id }));
  });

  test('when a non-admin lists franchises, then no franchisee emails and no revenue are shown; an admin sees both', async () => {
    for (const token of [undefined, w.diner.token, w.ownFranchisee.token]) {
      const res = await send(t, 'GET', '/api/franchise?page=0&limit=100&name=*', { token });
      expect(res.status).toBe(200);
      expect(res.text).not.toMatch(/"admins"|"totalRevenue"|@test\.jwt/);
    }
    const admin = await send(t, 'GET', '/api/franchise?page=0&limit=100&name=*', { token: w.admin.token });
    expect(admin.text).toMatch(/"admins"/);
    expect(admin.text).toMatch(/"totalRevenue"/);
  });

  test('when a non-admin calls the on-call views, then nothing of the factory (URL with key, failures) is shown', async () => {
    await failedOrder(t, w);
    for (const path of ['/api/order/failures', '/api/order/factory']) {
      for (const token of [undefined, w.diner.token, w.ownFranchisee.token]) {
        const res = await send(t, 'GET', path, { token });
        expect([401, 403]).toContain(res.status);
        expect(res.text).not.toMatch(/reportUrl|api\/support|chaos/);
      }
    }
  });
});
