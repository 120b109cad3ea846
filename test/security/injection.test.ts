import { bearer, buildTestApp, unique, type TestApp } from '../helpers/app';
import {
  baseRequests,
  buildWorld,
  countAll,
  expectJson,
  internalsIn,
  leafPaths,
  NO_LOGIN_LIMITS,
  routeCatalogue,
  routeKey,
  send,
  urlOf,
  withValue,
  type BaseRequest,
  type CatalogueRoute,
  type FieldPath,
  type World,
} from './support';

// SQL injection (OWASP A03), table-driven over the route catalogue: every string field, id field,
// path parameter and query parameter of every route gets each payload in turn.

const PAYLOADS = [
  "' OR '1'='1",
  "' OR 1=1 --",
  "admin'--",
  "') OR ('1'='1",
  "'; DROP TABLE users; --",
  '1; DELETE FROM orders',
  '" OR ""="',
  "1 UNION SELECT password_hash, email, 1, 1 FROM users --",
  "' UNION SELECT sqlite_version(), 1 --",
  "1' AND SLEEP(2) AND '1'='1",
  "%' OR name LIKE '%",
  "\\'; SELECT 1; -- \\",
  "x'or'1'--@jwt.com",
  "' || (SELECT group_concat(email) FROM users) || '",
  '\u0000\' OR 1=1',
  '-1',
  '0x7fffffff',
  '1e309',
];

/** Routes with inputs; a test below fails when the catalogue grows a route with inputs that is not listed. */
const ATTACKED = [
  'POST /api/auth', 'PUT /api/auth', 'PUT /api/user/:userId', 'GET /api/user', 'DELETE /api/user/:userId', 'PUT /api/order/menu', 'GET /api/order',
  'POST /api/order', 'POST /api/order/:orderId/retry', 'GET /api/order/failures', 'GET /api/franchise', 'GET /api/franchise/:userId',
  'POST /api/franchise', 'DELETE /api/franchise/:franchiseId', 'POST /api/franchise/:franchiseId/store', 'DELETE /api/franchise/:franchiseId/store/:storeId',
];

interface Slot {
  kind: 'body' | 'path' | 'query';
  name: string;
  field?: FieldPath;
}

function slotsOf(route: CatalogueRoute, base: BaseRequest): Slot[] {
  const slots: Slot[] = [];
  for (const name of route.pathParams) slots.push({ kind: 'path', name });
  for (const name of route.queryParams) slots.push({ kind: 'query', name });
  if (route.bodySchema || base.body !== undefined) {
    for (const field of leafPaths(route.bodySchema, base.body)) slots.push({ kind: 'body', name: field.join('.'), field });
  }
  return slots;
}

/** Unique columns get fresh values, so an accepted payload in another field really reaches the insert. */
function freshen(key: string, body: unknown, slot: Slot): unknown {
  if (key === 'POST /api/auth' && slot.name !== 'email') return withValue(body, ['email'], `${unique()}@test.jwt`);
  if (key === 'POST /api/franchise' && slot.name !== 'name') return withValue(body, ['name'], unique('franchise'));
  return body;
}

describe('SQL injection in every field, id and query parameter', () => {
  let t: TestApp;
  let w: World;
  let catalogue: CatalogueRoute[];
  let bases: Record<string, BaseRequest>;
  const tried: Record<string, number> = {};

  beforeAll(async () => {
    t = await buildTestApp({ env: NO_LOGIN_LIMITS });
    w = await buildWorld(t);
    catalogue = await routeCatalogue(t);
    bases = await baseRequests(t, w);
  });
  afterAll(async () => {
    const total = Object.values(tried).reduce((a, b) => a + b, 0);
    // Figures for docs/reliability.md.
    if (process.env.FUZZ_REPORT) console.info(`injection: ${total} requests over ${Object.keys(tried).length} routes`);
    await t.close();
  });

  test('when the catalogue is read, then every route has a valid base request to attack from', () => {
    expect(catalogue.map(routeKey).filter((key) => !bases[key])).toEqual([]);
  });

  test('when the catalogue is read, then every route that takes any input is in the attacked list', () => {
    const withInputs = catalogue.filter((r) => r.pathParams.length || r.queryParams.length || r.bodySchema).map(routeKey);
    expect(withInputs.filter((key) => !ATTACKED.includes(key))).toEqual([]);
  });

  test.each(ATTACKED)('when %s gets injection payloads in each input, then never a 5xx, never SQL or a stack in the body, and a refused request changes no row count', async (key) => {
    const route = catalogue.find((r) => routeKey(r) === key)!;
    expect(route).toBeDefined();
    const base = bases[key];
    const slots = slotsOf(route, base);
    expect(slots.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const slot of slots) {
      for (const payload of PAYLOADS) {
        const params = slot.kind === 'path' ? { ...base.params, [slot.name]: payload } : base.params;
        const query = slot.kind === 'query' ? { ...base.query, [slot.name]: payload } : base.query;
        const body = slot.kind === 'body' ? freshen(key, withValue(base.body, slot.field!, payload), slot) : base.body;
        const before = await countAll(t);
        const res = await send(t, route.method, urlOf(route.path, params as Record<string, string>, query), { token: base.token, body });
        tried[key] = (tried[key] ?? 0) + 1;
        const where = `${key} ${slot.kind}:${slot.name} = ${JSON.stringify(payload)} → ${res.status}`;
        if (res.status >= 500) problems.push(`${where}: ${res.text.slice(0, 200)}`);
        // A success may show payloads stored by earlier requests (the menu), an error only echoes this one.
        const leak = internalsIn(res, res.status < 400 ? PAYLOADS : [payload]);
        if (leak) problems.push(`${where}: ${leak}`);
        expectJson(res);
        if (res.status >= 400) {
          const after = await countAll(t);
          if (JSON.stringify(after) !== JSON.stringify(before)) problems.push(`${where}: rows changed ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
        }
      }
    }
    expect(problems).toEqual([]);
    // The schema is intact and nothing was wiped.
    const counts = await countAll(t);
    expect(counts.users).toBeGreaterThanOrEqual(4);
    expect(counts.menu_items).toBeGreaterThanOrEqual(5);
  });

  test('when a name full of SQL is registered, then it is stored and returned literally and the account works', async () => {
    const name = "Robert'); DROP TABLE users; --";
    const email = `x'or'1'--${unique()}@jwt.com`;
    const registered = await t.http.post('/api/auth').send({ name, email, password: "' OR '1'='1" });
    expect(registered.status).toBe(200);
    expect(registered.body.user).toEqual(expect.objectContaining({ name, email }));
    const me = await t.http.get('/api/user/me').set('Authorization', `Bearer ${registered.body.token}`);
    expect(me.body.name).toBe(name);
    const login = await t.http.put('/api/auth').send({ email, password: "' OR '1'='1" });
    expect(login.status).toBe(200);
    expect(login.body.user.id).toBe(registered.body.user.id);
  });

  test('when a login email carries a tautology, then no account is matched', async () => {
    for (const email of ["' OR '1'='1", "x' OR '1'='1'--@jwt.com", `${w.diner.email}' --`, `${w.diner.email}'--`]) {
      const res = await t.http.put('/api/auth').send({ email, password: 'anything' });
      expect([400, 401]).toContain(res.status);
      expect(res.body.token).toBeUndefined();
    }
  });

  test('when a name filter holds SQL LIKE wildcards, then they match literally, and * stays the only wildcard', async () => {
    const all = await t.http.get('/api/user?page=1&limit=100&name=*').set('Authorization', bearer(w.admin));
    expect(all.body.users.length).toBeGreaterThan(3);
    for (const pattern of ['%', '_', '%25', "%' OR '1'='1", '!%']) {
      const users = await t.http.get(`/api/user?page=1&limit=100&name=${encodeURIComponent(pattern)}`).set('Authorization', bearer(w.admin));
      expect(users.status).toBe(200);
      for (const user of users.body.users) expect(user.name).toContain(pattern.replace(/\*/g, ''));
      const franchises = await t.http.get(`/api/franchise?page=0&limit=100&name=${encodeURIComponent(pattern)}`);
      expect(franchises.status).toBe(200);
      for (const franchise of franchises.body.franchises) expect(franchise.name).toContain(pattern);
    }
  });

  test('when an order names a menu item through SQL, then the order is refused and no order row appears', async () => {
    const before = await countAll(t);
    for (const menuId of ['1 OR 1=1', '1; DROP TABLE orders', '1)', "1' --", [1], { $gt: 0 }]) {
      const res = await t.http
        .post('/api/order')
        .set('Authorization', bearer(w.diner))
        .send({ franchiseId: w.franchise.id, storeId: w.franchise.store.id, items: [{ menuId }] });
      expect(res.status).toBe(400);
    }
    expect(await countAll(t)).toEqual(before);
  });
});
