import { bearer, buildAdmin, buildTestApp, buildUser, unique, type TestApp } from '../helpers/app';
import { buildWorld, failedOrder, NO_LOGIN_LIMITS, snapshotRows, type World } from './support';

// Mass assignment, account takeover and user enumeration (OWASP A01/A04/A07).

describe('mass assignment: fields the caller must not set are ignored', () => {
  let t: TestApp;
  let w: World;
  beforeAll(async () => {
    t = await buildTestApp();
    w = await buildWorld(t);
  });
  afterAll(() => t.close());

  const rolesInDb = async (userId: number) =>
    (await t.ctx.db.selectFrom('user_roles').select(['role', 'object_id']).where('user_id', '=', userId).execute()).map((r) => ({ role: r.role, objectId: r.object_id }));

  test('when a registration carries roles, id and a password hash, then the account is a plain diner with a new id', async () => {
    const email = `${unique()}@test.jwt`;
    const res = await t.http.post('/api/auth').send({
      name: 'mallory',
      email,
      password: 'pw-mass-assign',
      id: 424242,
      roles: [{ role: 'admin' }, { role: 'franchisee', objectId: w.franchise.id }],
      role: 'admin',
      isAdmin: true,
      password_hash: '$2b$04$abcdefghijklmnopqrstuuN3Xn1qfJYlV8oG3KpWvGQ3.7Zl9xG2i',
    });
    expect(res.status).toBe(200);
    expect(res.body.user.roles).toEqual([{ role: 'diner' }]);
    expect(res.body.user.id).not.toBe(424242);
    expect(await rolesInDb(res.body.user.id)).toEqual([{ role: 'diner', objectId: null }]);
    expect((await t.http.get('/api/user?page=1').set('Authorization', `Bearer ${res.body.token}`)).status).toBe(403);
    expect((await t.http.put('/api/auth').send({ email, password: 'pw-mass-assign' })).status).toBe(200);
  });

  test('when a user update carries roles and another id, then only name/email/password of the path user change', async () => {
    const user = await buildUser(t);
    const res = await t.http
      .put(`/api/user/${user.id}`)
      .set('Authorization', bearer(user))
      .send({ name: 'still a diner', id: w.admin.id, roles: [{ role: 'admin' }], userId: w.admin.id, created_at: 0 });
    expect(res.status).toBe(200);
    expect(res.body.user).toEqual({ id: user.id, name: 'still a diner', email: user.email, roles: [{ role: 'diner' }] });
    expect(await rolesInDb(user.id)).toEqual([{ role: 'diner', objectId: null }]);
    const adminRow = await t.ctx.db.selectFrom('users').select(['name', 'email']).where('id', '=', w.admin.id).executeTakeFirstOrThrow();
    expect(adminRow).toEqual({ name: w.admin.name, email: w.admin.email });
  });

  test('when an order carries its own prices, descriptions, status, jwt, diner and total, then the menu and the server decide all of them', async () => {
    const diner = await buildUser(t);
    const res = await t.http
      .post('/api/order')
      .set('Authorization', bearer(diner))
      .send({
        franchiseId: w.franchise.id,
        storeId: String(w.franchise.store.id),
        items: [
          { menuId: 1, description: 'free pizza', price: 0 },
          { menuId: 5, description: 'Veggie', price: -1, id: 1 },
        ],
        id: 1,
        status: 'fulfilled',
        jwt: 'forged.jwt.value',
        dinerId: w.admin.id,
        total: 0,
        date: '2000-01-01T00:00:00.000Z',
      });
    expect(res.status).toBe(200);
    expect(res.body.order.items.map((i: { menuId: number; description: string; price: number }) => [i.menuId, i.description, i.price])).toEqual([
      [1, 'Veggie', 0.0038],
      [5, 'Charred Leopard', 0.0099],
    ]);
    expect(res.body.jwt).not.toBe('forged.jwt.value');
    expect(res.body.order.date).not.toBe('2000-01-01T00:00:00.000Z');
    const row = await t.ctx.db.selectFrom('orders').select(['diner_id', 'total_units', 'status']).where('id', '=', res.body.order.id).executeTakeFirstOrThrow();
    expect([Number(row.diner_id), Number(row.total_units), row.status]).toEqual([diner.id, 1_370_000, 'fulfilled']);
    const adminOrders = await t.http.get('/api/order').set('Authorization', bearer(w.admin));
    expect(adminOrders.body.orders.map((o: { id: number }) => o.id)).not.toContain(res.body.order.id);
  });

  test('when an order claims status "fulfilled" but the factory fails it, then it is failed and earns no revenue', async () => {
    const world = await buildWorld(t);
    await failedOrder(t, world);
    const franchises = await t.http.get(`/api/franchise/${world.ownFranchisee.id}`).set('Authorization', bearer(world.ownFranchisee));
    expect(franchises.body[0].stores[0].totalRevenue).toBe(0);
  });

  test('when an order names a store of another franchise, then it is refused and nothing is written', async () => {
    const before = await snapshotRows(t);
    const res = await t.http
      .post('/api/order')
      .set('Authorization', bearer(w.diner))
      .send({ franchiseId: w.franchise.id, storeId: w.otherFranchise.store.id, items: [{ menuId: 1 }] });
    expect(res.status).toBe(404);
    expect(await snapshotRows(t)).toEqual(before);
  });

  test('when a menu item is added with an id, a status and raw price units, then a new item is appended and item 1 is untouched', async () => {
    const before = await t.ctx.db.selectFrom('menu_items').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
    const res = await t.http
      .put('/api/order/menu')
      .set('Authorization', bearer(w.admin))
      .send({ id: 1, title: 'Student', description: 'carbs', image: 'pizza9.png', price: 0.0001, status: 'disabled', price_units: 1, active: false });
    expect(res.status).toBe(200);
    const added = res.body[res.body.length - 1];
    expect(added).toEqual({ id: expect.any(Number), title: 'Student', image: 'pizza9.png', price: 0.0001, description: 'carbs' });
    expect(added.id).not.toBe(1);
    expect(await t.ctx.db.selectFrom('menu_items').selectAll().where('id', '=', 1).executeTakeFirstOrThrow()).toEqual(before);
  });

  test('when a franchise is created with an id, stores and admin roles, then only the name and franchisee grants are used', async () => {
    const res = await t.http
      .post('/api/franchise')
      .set('Authorization', bearer(w.admin))
      .send({ id: w.franchise.id, name: unique('franchise'), stores: [{ id: 1, name: 'x', totalRevenue: 99 }], admins: [{ email: w.diner.email, id: w.admin.id, role: 'admin' }] });
    expect(res.status).toBe(200);
    expect(res.body.id).not.toBe(w.franchise.id);
    expect(res.body.admins).toEqual([{ email: w.diner.email, id: w.diner.id, name: w.diner.name }]);
    const stores = await t.ctx.db.selectFrom('stores').select('id').where('franchise_id', '=', res.body.id).execute();
    expect(stores).toEqual([]);
    expect(await rolesInDb(w.diner.id)).not.toContainEqual({ role: 'admin', objectId: null });
  });

  test("when a store is created with another franchise's id and a revenue in the body, then the path franchise gets it with revenue 0", async () => {
    const res = await t.http
      .post(`/api/franchise/${w.franchise.id}/store`)
      .set('Authorization', bearer(w.ownFranchisee))
      .send({ name: unique('store'), franchiseId: w.otherFranchise.id, id: w.otherFranchise.store.id, totalRevenue: 1000 });
    expect(res.status).toBe(200);
    expect(res.body.franchiseId).toBe(w.franchise.id);
    expect(res.body.totalRevenue).toBe(0);
    expect(res.body.id).not.toBe(w.otherFranchise.store.id);
    const row = await t.ctx.db.selectFrom('stores').select('franchise_id').where('id', '=', res.body.id).executeTakeFirstOrThrow();
    expect(Number(row.franchise_id)).toBe(w.franchise.id);
  });
});

describe('account takeover through email changes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ env: NO_LOGIN_LIMITS });
  });
  afterAll(() => t.close());

  test("when a user changes their email to someone else's (any casing or padding), then 409, no token of the victim, and nothing changes", async () => {
    const attacker = await buildUser(t);
    const victim = await buildUser(t);
    const before = await snapshotRows(t);
    for (const email of [victim.email, victim.email.toUpperCase(), `  ${victim.email}  `, victim.email.replace(/^(.)/, (c) => c.toUpperCase())]) {
      const res = await t.http.put(`/api/user/${attacker.id}`).set('Authorization', bearer(attacker)).send({ email, password: 'taken-over' });
      expect([res.status, res.body]).toEqual([409, { message: 'email already registered' }]);
    }
    expect(await snapshotRows(t)).toEqual(before);
    const login = await t.http.put('/api/auth').send({ email: victim.email, password: victim.password });
    expect(login.status).toBe(200);
    expect((await t.http.put('/api/auth').send({ email: victim.email, password: 'taken-over' })).status).toBe(401);
  });

  test("when an admin moves one user's email onto another's, then 409 as well", async () => {
    const admin = await buildAdmin(t);
    const a = await buildUser(t);
    const b = await buildUser(t);
    const res = await t.http.put(`/api/user/${a.id}`).set('Authorization', bearer(admin)).send({ email: b.email });
    expect(res.status).toBe(409);
  });

  test('when someone registers an existing email in another casing or with spaces, then 409 and the owner keeps the account', async () => {
    const owner = await buildUser(t);
    for (const email of [owner.email.toUpperCase(), ` ${owner.email} `]) {
      const res = await t.http.post('/api/auth').send({ name: 'twin', email, password: 'other-password' });
      expect([res.status, res.body.token]).toEqual([409, undefined]);
    }
    expect((await t.http.put('/api/auth').send({ email: owner.email, password: owner.password })).status).toBe(200);
  });

  test('when a login sends no password, an empty one, null or a non-string, then 400 and no token (the reference service let these in)', async () => {
    const user = await buildUser(t);
    for (const body of [{ email: user.email }, { email: user.email, password: '' }, { email: user.email, password: null }, { email: user.email, password: 0 }, { email: user.email, password: [] }, { email: user.email, password: { $ne: 1 } }]) {
      const res = await t.http.put('/api/auth').send(body);
      expect([res.status, res.body.token]).toEqual([400, undefined]);
    }
  });

  test('when a password longer than 72 bytes is set, then it is refused rather than silently truncated by bcrypt', async () => {
    const res = await t.http.post('/api/auth').send({ name: 'long', email: `${unique()}@test.jwt`, password: 'p'.repeat(73) });
    expect(res.status).toBe(400);
    const multibyte = await t.http.post('/api/auth').send({ name: 'long', email: `${unique()}@test.jwt`, password: 'é'.repeat(37) });
    expect(multibyte.status).toBe(400);
  });
});

describe('user enumeration through login', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Real bcrypt cost, so a skipped compare would show as a 50x difference, far beyond noise.
    t = await buildTestApp({ env: { ...NO_LOGIN_LIMITS, BCRYPT_ROUNDS: '10' } });
  });
  afterAll(() => t.close());

  test('when the email is unknown or the password wrong, then status and body are identical', async () => {
    const user = await buildUser(t);
    const unknown = await t.http.put('/api/auth').send({ email: `nobody-${unique()}@test.jwt`, password: 'whatever' });
    const wrong = await t.http.put('/api/auth').send({ email: user.email, password: 'whatever' });
    expect([unknown.status, unknown.body]).toEqual([401, { message: 'invalid email or password' }]);
    expect([wrong.status, wrong.body]).toEqual([unknown.status, unknown.body]);
    expect(Object.keys(wrong.headers).sort()).toEqual(Object.keys(unknown.headers).sort());
  });

  test('when 10 unknown-email and 10 wrong-password logins are timed, then their means are within a factor of 3 (both run bcrypt)', async () => {
    const email = `${unique()}@test.jwt`;
    expect((await t.http.post('/api/auth').send({ name: 'timed', email, password: 'right-password' })).status).toBe(200);
    const time = async (body: object) => {
      const started = performance.now();
      const res = await t.http.put('/api/auth').send(body);
      expect(res.status).toBe(401);
      return performance.now() - started;
    };
    await time({ email, password: 'warm-up' });
    await time({ email: `warm-${unique()}@test.jwt`, password: 'warm-up' });
    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let i = 0; i < 10; i++) {
      unknown.push(await time({ email: `nobody-${unique()}@test.jwt`, password: `guess-${i}` }));
      wrong.push(await time({ email, password: `guess-${i}` }));
    }
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const ratio = mean(unknown) / mean(wrong);
    expect(ratio).toBeGreaterThan(1 / 3);
    expect(ratio).toBeLessThan(3);
  });
});
