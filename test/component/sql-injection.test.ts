import { sql } from 'kysely';
import type supertest from 'supertest';
import { bearer, buildAdmin, buildFranchise, buildTestApp, buildUser, unique, type TestApp, type TestUser } from '../helpers/app';

/** Classic payloads; text fields must store them as plain text and filters must match them literally. */
const PAYLOADS = [
  "' OR '1'='1",
  '"; DROP TABLE users; --',
  '1; DELETE FROM orders',
  "%' --",
  "admin'--",
  "') OR ('a'='a",
  "1' UNION SELECT password_hash FROM users --",
  "\\'; DROP TABLE franchises; --",
  '’ OR ‘1’=‘1',
  '＇ OR ＇1＇=＇1',
];
/** Payloads that are still valid email addresses, so they reach the database. */
/** New passwords need 8+ characters: a shorter payload is padded (its SQL stays at the front). */
const asPassword = (payload: string) => payload.padEnd(8, '-');
const emailPayloads = () => [`o'${unique()}'--@test.jwt`, `x'or'1'-'1${unique()}@test.jwt`, `${unique()}'+union+select@test.jwt`];
/** Filters compare like the database collation does: MySQL's utf8mb4_unicode_ci ignores case and full-width forms. */
const collated = (text: string) => text.normalize('NFKC').toLowerCase();

const TABLES = ['users', 'user_roles', 'sessions', 'franchises', 'stores', 'orders', 'order_items', 'menu_items'] as const;
type Counts = Record<(typeof TABLES)[number], number>;

function expectNo5xxNoToken(res: supertest.Response) {
  expect(res.status).toBeLessThan(500);
  expect(res.body.token).toBeUndefined();
}

describe('SQL injection', () => {
  let t: TestApp;
  let admin: TestUser;
  beforeAll(async () => {
    // High login limits: this suite fails many logins from one IP on purpose and wants a 401 each time, not a 429.
    t = await buildTestApp({ env: { LOGIN_MAX_FAILURES_PER_IP: '100000', LOGIN_MAX_FAILURES_PER_ACCOUNT: '100000' } });
    admin = await buildAdmin(t);
    const franchise = await buildFranchise(t, { admin });
    const diner = await buildUser(t);
    const order = await t.http.post('/api/order').set('Authorization', bearer(diner)).send({ franchiseId: franchise.id, storeId: franchise.store.id, items: [{ menuId: 1 }] });
    if (order.status !== 200) throw new Error(`order failed: ${order.status}`);
  });
  afterAll(() => t.close());

  /** Row counts of every table in one query. */
  async function counts(): Promise<Counts> {
    const columns = TABLES.map((table) => sql`(select count(*) from ${sql.table(table)}) as ${sql.ref(table)}`);
    const { rows } = await sql<Record<string, number | string>>`select ${sql.join(columns)}`.execute(t.ctx.db);
    return Object.fromEntries(TABLES.map((table) => [table, Number(rows[0][table])])) as Counts;
  }

  /** Nothing deleted or dropped: every table still answers and no count went down. */
  async function expectIntact(before: Counts, grew: Partial<Counts> = {}) {
    const after = await counts();
    for (const table of TABLES) expect({ table, count: after[table] }).toEqual({ table, count: before[table] + (grew[table] ?? 0) });
  }

  describe('register and login', () => {
    test.each(PAYLOADS)('when %p is registered as a name and password, then it is stored literally and only that password logs in', async (payload) => {
      const before = await counts();
      const email = `${unique('inj')}@test.jwt`;

      const res = await t.http.post('/api/auth').send({ name: payload, email, password: asPassword(payload) });

      expect(res.status).toBe(200);
      expect(res.body.user).toEqual({ id: expect.any(Number), name: payload, email, roles: [{ role: 'diner' }] });
      expect((await t.http.get('/api/user/me').set('Authorization', bearer(res.body))).body.name).toBe(payload);
      expect((await t.http.put('/api/auth').send({ email, password: asPassword(payload) })).status).toBe(200);
      const wrong = await t.http.put('/api/auth').send({ email, password: "' OR '1'='1' --" });
      expect(wrong.status).toBe(401);
      expect(wrong.body.token).toBeUndefined();
      await expectIntact(before, { users: 1, user_roles: 1, sessions: 2 });
    });

    test.each(PAYLOADS)('when %p is used as an email, then 400, or (when it is still a valid address) it is stored literally', async (payload) => {
      const before = await counts();

      for (const email of [payload, `a@jwt.com${payload}`]) {
        const registered = await t.http.post('/api/auth').send({ name: 'n', email, password: 'secret-1' });
        expectNo5xxNoToken(registered);
        expect(registered.status).toBe(400);
      }
      await expectIntact(before);
      const local = `${payload}${unique()}@test.jwt`;
      const registered = await t.http.post('/api/auth').send({ name: 'n', email: local, password: 'secret-1' });
      expect([200, 400]).toContain(registered.status);
      if (registered.status === 200) {
        expect(registered.body.user.email).toBe(local.toLowerCase());
        expect((await t.http.put('/api/auth').send({ email: local, password: 'secret-1' })).body.user.id).toBe(registered.body.user.id);
      }
    });

    test.each(emailPayloads().map((e) => [e]))('when a valid email with quotes (%s) registers, then it round-trips and logs in literally', async (email) => {
      const res = await t.http.post('/api/auth').send({ name: 'quoted', email, password: 'secret-1' });

      expect(res.status).toBe(200);
      expect(res.body.user.email).toBe(email.toLowerCase());
      expect((await t.http.put('/api/auth').send({ email, password: 'secret-1' })).body.user.id).toBe(res.body.user.id);
    });

    test.each(PAYLOADS)('when %p is sent as the password (or glued to the email) of a real account, then never a token', async (payload) => {
      const victim = await buildUser(t);
      const before = await counts();

      const asPassword = await t.http.put('/api/auth').send({ email: victim.email, password: payload });
      const asEmailSuffix = await t.http.put('/api/auth').send({ email: `${victim.email}${payload}`, password: 'anything' });
      const asEmail = await t.http.put('/api/auth').send({ email: payload, password: payload });

      expect(asPassword.status).toBe(401);
      for (const res of [asPassword, asEmailSuffix, asEmail]) expectNo5xxNoToken(res);
      await expectIntact(before);
    });

    test('when the password is an object (NoSQL-style operator), then 400 and never a token', async () => {
      const victim = await buildUser(t);

      const res = await t.http.put('/api/auth').send({ email: victim.email, password: { $ne: null } });

      expect(res.status).toBe(400);
      expect(res.body.token).toBeUndefined();
    });
  });

  describe('user update', () => {
    test.each(PAYLOADS)('when a user renames themselves to %p and sets it as password, then both round-trip literally', async (payload) => {
      const user = await buildUser(t);
      const bystander = await buildUser(t);
      const before = await counts();

      const res = await t.http.put(`/api/user/${user.id}`).set('Authorization', bearer(user)).send({ name: payload, password: asPassword(payload) });

      expect(res.status).toBe(200);
      expect(res.body.user).toEqual({ id: user.id, name: payload, email: user.email, roles: [{ role: 'diner' }] });
      expect((await t.http.put('/api/auth').send({ email: user.email, password: asPassword(payload) })).status).toBe(200);
      const other = await t.http.get('/api/user/me').set('Authorization', bearer(bystander));
      expect(other.body).toEqual({ id: bystander.id, name: bystander.name, email: bystander.email, roles: [{ role: 'diner' }] });
      // The old session ends and two new ones begin (the update's and the login's).
      await expectIntact(before, { sessions: 1 });
    });

    test.each(PAYLOADS)('when a user sets their email to %p, then 400, or (when it is still a valid address) only their row changes', async (payload) => {
      const user = await buildUser(t);
      const bystander = await buildUser(t);
      const email = `${payload}${unique()}@test.jwt`;

      const res = await t.http.put(`/api/user/${user.id}`).set('Authorization', bearer(user)).send({ email, name: 'changed' });

      expect([200, 400]).toContain(res.status);
      const stored = res.status === 200 ? { email: email.toLowerCase(), name: 'changed' } : { email: user.email, name: user.name };
      expect((await t.http.get('/api/user/me').set('Authorization', `Bearer ${res.body.token ?? user.token}`)).body).toEqual({ id: user.id, ...stored, roles: [{ role: 'diner' }] });
      expect((await t.http.get('/api/user/me').set('Authorization', bearer(bystander))).body.email).toBe(bystander.email);
    });

    test.each(emailPayloads().map((e) => [e]))('when a user sets a valid quoted email (%s), then only their row changes', async (email) => {
      const user = await buildUser(t);
      const bystander = await buildUser(t);

      const res = await t.http.put(`/api/user/${user.id}`).set('Authorization', bearer(user)).send({ email });

      expect(res.status).toBe(200);
      expect(res.body.user.email).toBe(email.toLowerCase());
      expect((await t.http.get('/api/user/me').set('Authorization', bearer(bystander))).body.email).toBe(bystander.email);
    });
  });

  describe('franchises, stores and menu', () => {
    test.each(PAYLOADS)('when a franchise and a store are named with %p, then the names round-trip and the filter matches them literally', async (payload) => {
      const franchisee = await buildUser(t);
      const name = `${unique('f')} ${payload}`;
      const before = await counts();

      const created = await t.http.post('/api/franchise').set('Authorization', bearer(admin)).send({ name, admins: [{ email: franchisee.email }] });
      const store = await t.http.post(`/api/franchise/${created.body.id}/store`).set('Authorization', bearer(franchisee)).send({ name: payload });

      expect(created.status).toBe(200);
      expect(created.body.name).toBe(name);
      expect(store.status).toBe(200);
      expect(store.body.name).toBe(payload);
      const listed = await t.http.get('/api/franchise').query({ name });
      expect(listed.body).toEqual({ franchises: [{ id: created.body.id, name, stores: [{ id: store.body.id, name: payload }] }], more: false });
      await expectIntact(before, { franchises: 1, stores: 1, user_roles: 1 });
    });

    test.each(PAYLOADS)('when %p is an admin email of a new franchise, then 4xx and no franchise is created', async (payload) => {
      const before = await counts();

      const res = await t.http.post('/api/franchise').set('Authorization', bearer(admin)).send({ name: unique('f'), admins: [{ email: payload }] });
      const quoted = await t.http.post('/api/franchise').set('Authorization', bearer(admin)).send({ name: unique('f'), admins: [{ email: emailPayloads()[0] }] });

      expect(res.status).toBe(400);
      expect(quoted.status).toBe(404);
      await expectIntact(before);
    });

    test.each(PAYLOADS)('when a menu item is made of %p, then it round-trips literally', async (payload) => {
      const title = `${unique('m')} ${payload}`;
      const before = await counts();

      const res = await t.http.put('/api/order/menu').set('Authorization', bearer(admin)).send({ title, description: payload, image: payload, price: 0.0001 });

      expect(res.status).toBe(200);
      expect(res.body.filter((item: { title: string }) => item.title === title)).toEqual([{ id: expect.any(Number), title, description: payload, image: payload, price: 0.0001 }]);
      await expectIntact(before, { menu_items: 1 });
    });
  });

  describe('name filters', () => {
    test.each(PAYLOADS)('when %p is the user name filter, then only literal matches come back', async (payload) => {
      const named = await buildUser(t, { name: `${unique('u')} ${payload}` });
      const before = await counts();

      const bare = await t.http.get('/api/user').query({ name: payload, limit: 100 }).set('Authorization', bearer(admin));
      const suffix = await t.http.get('/api/user').query({ name: `* ${payload}`, limit: 100 }).set('Authorization', bearer(admin));
      const exact = await t.http.get('/api/user').query({ name: named.name }).set('Authorization', bearer(admin));

      expect(bare.status).toBe(200);
      expect(bare.body.users.filter((u: { name: string }) => collated(u.name) !== collated(payload))).toEqual([]);
      expect(suffix.body.users.map((u: { id: number }) => u.id)).toContain(named.id);
      expect(suffix.body.users.length).toBeLessThan(before.users);
      expect(exact.body.users.map((u: { id: number }) => u.id)).toEqual([named.id]);
      await expectIntact(before);
    });

    test.each(PAYLOADS)('when %p is the franchise name filter, then only literal matches come back', async (payload) => {
      const before = await counts();

      const res = await t.http.get('/api/franchise').query({ name: payload, limit: 100 });
      const asAdmin = await t.http.get('/api/franchise').query({ name: `${payload}*`, limit: 100 }).set('Authorization', bearer(admin));

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ franchises: [], more: false });
      expect(asAdmin.status).toBe(200);
      expect(asAdmin.body).toEqual({ franchises: [], more: false });
      await expectIntact(before);
    });

    test.each([['page'], ['limit']])('when %s carries a payload, then 400', async (key) => {
      const res = await t.http.get('/api/franchise').query({ [key]: '1; DROP TABLE franchises' });

      expect(res.status).toBe(400);
      expect(res.body.message).toContain(key);
    });
  });
});
