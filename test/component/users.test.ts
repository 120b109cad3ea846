import { bearer, buildAdmin, buildFranchise, buildTestApp, buildUser, unique, type TestApp, type TestUser } from '../helpers/app';

/** Every key anywhere in a response body, so a password or hash cannot hide in a nested object. */
function allKeys(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(allKeys);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [k, ...allKeys(v)]);
  return [];
}
const expectNoSecrets = (body: unknown) => expect(allKeys(body).filter((k) => /pass|hash|salt/i.test(k))).toEqual([]);

describe('users', () => {
  let t: TestApp;
  let admin: TestUser;
  beforeAll(async () => {
    t = await buildTestApp();
    admin = await buildAdmin(t);
  });
  afterAll(() => t.close());

  const login = (email: string, password: string) => t.http.put('/api/auth').send({ email, password });
  const me = (token: string) => t.http.get('/api/user/me').set('Authorization', `Bearer ${token}`);

  describe('GET /api/user/me', () => {
    test('when a user asks who they are, then exactly {id, name, email, roles} comes back', async () => {
      const user = await buildUser(t);

      const res = await me(user.token);

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: user.id, name: user.name, email: user.email, roles: [{ role: 'diner' }] });
      expectNoSecrets(res.body);
    });

    test('when a franchisee asks who they are, then the franchisee role carries the franchise id', async () => {
      const franchise = await buildFranchise(t);

      const res = await me(franchise.franchisee.token);

      expect(res.body.roles).toEqual([{ role: 'diner' }, { role: 'franchisee', objectId: franchise.id }]);
    });

    test('when nobody is logged in, then 401', async () => {
      const res = await t.http.get('/api/user/me');

      expect(res.status).toBe(401);
      expect(res.body).toEqual({ message: 'unauthorized' });
    });
  });

  describe('PUT /api/user/:userId', () => {
    test('when a user changes their name and email, then the updated user and a working token come back', async () => {
      const user = await buildUser(t);
      const email = `${unique('new')}@test.jwt`;

      const res = await t.http.put(`/api/user/${user.id}`).set('Authorization', bearer(user)).send({ name: 'renamed', email });

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ user: { id: user.id, name: 'renamed', email, roles: [{ role: 'diner' }] }, token: expect.any(String) });
      expectNoSecrets(res.body);
      const after = await me(res.body.token);
      expect(after.body).toEqual(res.body.user);
      expect((await login(email, user.password)).status).toBe(200);
      expect((await login(user.email, user.password)).status).toBe(401);
    });

    test('when a user changes their password, then old tokens stop working and only the new password logs in', async () => {
      const user = await buildUser(t);
      const otherSession = (await login(user.email, user.password)).body.token as string;

      const res = await t.http.put(`/api/user/${user.id}`).set('Authorization', bearer(user)).send({ password: 'brand-new-password' });

      expect(res.status).toBe(200);
      expect(res.body.user).toEqual({ id: user.id, name: user.name, email: user.email, roles: [{ role: 'diner' }] });
      expect((await me(res.body.token)).status).toBe(200);
      expect((await me(user.token)).status).toBe(401);
      expect((await me(otherSession)).status).toBe(401);
      expect((await login(user.email, user.password)).status).toBe(401);
      expect((await login(user.email, 'brand-new-password')).status).toBe(200);
    });

    test('when a user sends roles in an update, then the roles are not changed', async () => {
      const user = await buildUser(t);

      const res = await t.http.put(`/api/user/${user.id}`).set('Authorization', bearer(user)).send({ name: 'still a diner', roles: [{ role: 'admin' }] });

      expect(res.status).toBe(200);
      expect(res.body.user.roles).toEqual([{ role: 'diner' }]);
      expect((await me(res.body.token)).body.roles).toEqual([{ role: 'diner' }]);
    });

    test('when a diner updates another user, then 403 and the other user is unchanged', async () => {
      const diner = await buildUser(t);
      const victim = await buildUser(t);

      const res = await t.http.put(`/api/user/${victim.id}`).set('Authorization', bearer(diner)).send({ name: 'pwned', password: 'pwned-password' });

      expect(res.status).toBe(403);
      expect(res.body).toEqual({ message: expect.any(String) });
      expect((await me(victim.token)).body.name).toBe(victim.name);
      expect((await login(victim.email, victim.password)).status).toBe(200);
    });

    test('when an admin updates another user, then the user changes and the admin keeps their own identity', async () => {
      const user = await buildUser(t);

      const res = await t.http.put(`/api/user/${user.id}`).set('Authorization', bearer(admin)).send({ name: 'set by admin', password: 'admin-chosen-password' });

      expect(res.status).toBe(200);
      expect(res.body.user).toEqual({ id: user.id, name: 'set by admin', email: user.email, roles: [{ role: 'diner' }] });
      expect((await me(res.body.token)).body.id).toBe(admin.id);
      expect((await me(user.token)).status).toBe(401);
      expect((await login(user.email, 'admin-chosen-password')).body.user.name).toBe('set by admin');
    });

    test.each([['the same case'], ['another case']])("when a user changes their email to another user's (%s), then 409, nothing changes and no token of the other user", async (variant) => {
      const attacker = await buildUser(t);
      const victim = await buildUser(t);
      const takenEmail = variant === 'the same case' ? victim.email : victim.email.toUpperCase();

      const res = await t.http.put(`/api/user/${attacker.id}`).set('Authorization', bearer(attacker)).send({ email: takenEmail, name: 'new name', password: 'new-password' });

      expect(res.status).toBe(409);
      expect(res.body).toEqual({ message: expect.any(String) });
      expect((await me(attacker.token)).body).toEqual({ id: attacker.id, name: attacker.name, email: attacker.email, roles: [{ role: 'diner' }] });
      expect((await me(victim.token)).body.email).toBe(victim.email);
      expect((await login(attacker.email, attacker.password)).status).toBe(200);
      expect((await login(victim.email, victim.password)).body.user.id).toBe(victim.id);
    });

    test('when a user keeps their own email in another case, then the update succeeds', async () => {
      const user = await buildUser(t);

      const res = await t.http.put(`/api/user/${user.id}`).set('Authorization', bearer(user)).send({ email: user.email.toUpperCase() });

      expect(res.status).toBe(200);
      expect(res.body.user.email).toBe(user.email);
    });

    test.each([['abc'], ['1.5'], ['-1'], ['0'], ['2147483648'], ['99999999999']])('when the user id is %p, then 400 naming it', async (userId) => {
      const res = await t.http.put(`/api/user/${userId}`).set('Authorization', bearer(admin)).send({ name: 'x' });

      expect(res.status).toBe(400);
      expect(res.body.message).toContain('userId');
    });

    test('when an admin updates an unknown user, then 404', async () => {
      const res = await t.http.put('/api/user/2000000000').set('Authorization', bearer(admin)).send({ name: 'ghost' });

      expect(res.status).toBe(404);
      expect(res.body).toEqual({ message: expect.any(String) });
    });

    test('when the new email is invalid, then 400 naming the email and nothing changes', async () => {
      const user = await buildUser(t);

      const res = await t.http.put(`/api/user/${user.id}`).set('Authorization', bearer(user)).send({ email: 'nope' });

      expect(res.status).toBe(400);
      expect(res.body.message).toContain('email');
      expect((await me(user.token)).body.email).toBe(user.email);
    });

    test('when nobody is logged in, then 401', async () => {
      const user = await buildUser(t);

      const res = await t.http.put(`/api/user/${user.id}`).send({ name: 'anon' });

      expect(res.status).toBe(401);
    });
  });

  describe('GET /api/user', () => {
    const list = (query: Record<string, string | number>, user: TestUser = admin) => t.http.get('/api/user').query(query).set('Authorization', bearer(user));

    async function namedUsers(names: string[]): Promise<TestUser[]> {
      const users: TestUser[] = [];
      for (const name of names) users.push(await buildUser(t, { name }));
      return users;
    }

    test('when nobody is logged in, then 401; when a diner asks, then 403', async () => {
      const diner = await buildUser(t);

      const anonymous = await t.http.get('/api/user');
      const asDiner = await list({}, diner);

      expect(anonymous.status).toBe(401);
      expect(asDiner.status).toBe(403);
      expect(asDiner.body).toEqual({ message: expect.any(String) });
    });

    test('when an admin pages with limit 2, then pages are 1-based and more is right', async () => {
      const prefix = unique('page');
      const users = await namedUsers([`${prefix} a`, `${prefix} b`, `${prefix} c`]);

      const first = await list({ page: 1, limit: 2, name: `${prefix}*` });
      const second = await list({ page: 2, limit: 2, name: `${prefix}*` });
      const third = await list({ page: 3, limit: 2, name: `${prefix}*` });

      expect(first.status).toBe(200);
      expect(first.body).toEqual({ users: users.slice(0, 2).map((u) => ({ id: u.id, name: u.name, email: u.email, roles: [{ role: 'diner' }] })), more: true });
      expect(second.body).toEqual({ users: [{ id: users[2].id, name: users[2].name, email: users[2].email, roles: [{ role: 'diner' }] }], more: false });
      expect(third.body).toEqual({ users: [], more: false });
      expectNoSecrets(first.body);
    });

    test('when an exact page boundary is reached, then more is false', async () => {
      const prefix = unique('edge');
      await namedUsers([`${prefix} a`, `${prefix} b`]);

      const res = await list({ page: 1, limit: 2, name: `${prefix}*` });

      expect(res.body.users).toHaveLength(2);
      expect(res.body.more).toBe(false);
    });

    test('when the name filter is *, then every user is listed', async () => {
      const user = await buildUser(t);
      const seen: number[] = [];

      for (let page = 1; ; page++) {
        const res = await list({ page, limit: 100, name: '*' });
        expect(res.status).toBe(200);
        seen.push(...res.body.users.map((u: { id: number }) => u.id));
        if (!res.body.more) break;
      }

      const rows = await t.ctx.db.selectFrom('users').select('id').orderBy('id').execute();
      expect(seen).toEqual(rows.map((r) => Number(r.id)));
      expect(seen).toContain(user.id);
      expect(seen).toContain(admin.id);
    });

    test('when the name filter ends with *, then it is a prefix filter', async () => {
      const prefix = unique('jo');
      const [jo, john] = await namedUsers([`${prefix}Jo`, `${prefix}John`, `x${prefix}Jo`, `${prefix}Anna`]);

      const res = await list({ name: `${prefix}Jo*`, limit: 100 });

      expect(res.body.users.map((u: { id: number }) => u.id)).toEqual([jo.id, john.id]);
    });

    test('when the name filter has no *, then only the exact name matches', async () => {
      const prefix = unique('exact');
      const [exact] = await namedUsers([`${prefix}Jo`, `${prefix}John`]);

      const res = await list({ name: `${prefix}Jo`, limit: 100 });

      expect(res.body.users.map((u: { id: number }) => u.id)).toEqual([exact.id]);
    });

    test.each([['%'], ['_'], ['!']])('when a name contains %p, then the filter matches it literally', async (char) => {
      const prefix = unique('lit');
      const [literal] = await namedUsers([`${prefix}a${char}b`, `${prefix}axb`, `${prefix}a${char}${char}b`, `${prefix}ab`]);

      const exact = await list({ name: `${prefix}a${char}b`, limit: 100 });
      const prefixed = await list({ name: `${prefix}a${char}*`, limit: 100 });

      expect(exact.status).toBe(200);
      expect(exact.body.users.map((u: { name: string }) => u.name)).toEqual([literal.name]);
      expect(prefixed.body.users.map((u: { name: string }) => u.name)).toEqual([`${prefix}a${char}b`, `${prefix}a${char}${char}b`]);
    });

    test.each([
      ['limit above 100', { limit: 101 }, 'limit'],
      ['page 0', { page: 0 }, 'page'],
      ['a negative page', { page: -1 }, 'page'],
      ['a non-numeric page', { page: 'two' }, 'page'],
      ['limit 0', { limit: 0 }, 'limit'],
    ])('when the query has %s, then 400 naming it', async (_label, query, field) => {
      const res = await list(query);

      expect(res.status).toBe(400);
      expect(res.body.message).toContain(field);
    });

    test.each([['name=a&name=b', 'name'], ['page=1&page=2', 'page'], ['limit=1.5', 'limit']])('when the query string is %s, then 400 naming the parameter', async (queryString, field) => {
      const res = await t.http.get(`/api/user?${queryString}`).set('Authorization', bearer(admin));

      expect(res.status).toBe(400);
      expect(res.body.message).toContain(field);
    });
  });

  describe('DELETE /api/user/:userId', () => {
    test('when an admin deletes a user, then their tokens are refused, they cannot log in, and their orders remain without a diner', async () => {
      const franchise = await buildFranchise(t);
      const user = await buildUser(t);
      const order = await t.http.post('/api/order').set('Authorization', bearer(user)).send({ franchiseId: franchise.id, storeId: franchise.store.id, items: [{ menuId: 1 }] });
      expect(order.status).toBe(200);

      const res = await t.http.delete(`/api/user/${user.id}`).set('Authorization', bearer(admin));

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ message: 'user deleted' });
      expect((await me(user.token)).status).toBe(401);
      expect((await login(user.email, user.password)).status).toBe(401);
      const listed = await t.http.get('/api/user').query({ name: user.name }).set('Authorization', bearer(admin));
      expect(listed.body.users).toEqual([]);
      const row = await t.ctx.db.selectFrom('orders').select(['id', 'diner_id', 'status']).where('id', '=', order.body.order.id).executeTakeFirst();
      expect(row).toEqual({ id: order.body.order.id, diner_id: null, status: 'fulfilled' });
    });

    test('when a deleted email registers again, then it is a new diner account', async () => {
      const user = await buildUser(t, { roles: [{ role: 'admin' }] });
      await t.http.delete(`/api/user/${user.id}`).set('Authorization', bearer(admin));

      const res = await t.http.post('/api/auth').send({ name: 'again', email: user.email, password: 'again-password' });

      expect(res.status).toBe(200);
      expect(res.body.user.id).not.toBe(user.id);
      expect(res.body.user.roles).toEqual([{ role: 'diner' }]);
    });

    test('when nobody is logged in, then 401; when a diner deletes, then 403 and the user remains', async () => {
      const diner = await buildUser(t);
      const victim = await buildUser(t);

      const anonymous = await t.http.delete(`/api/user/${victim.id}`);
      const asDiner = await t.http.delete(`/api/user/${victim.id}`).set('Authorization', bearer(diner));

      expect(anonymous.status).toBe(401);
      expect(asDiner.status).toBe(403);
      expect((await me(victim.token)).status).toBe(200);
    });

    test('when the user is unknown, then 404; when the id is not numeric, then 400', async () => {
      const unknown = await t.http.delete('/api/user/2000000000').set('Authorization', bearer(admin));
      const garbage = await t.http.delete('/api/user/12abc').set('Authorization', bearer(admin));

      expect(unknown.status).toBe(404);
      expect(unknown.body).toEqual({ message: expect.any(String) });
      expect(garbage.status).toBe(400);
    });
  });
});
