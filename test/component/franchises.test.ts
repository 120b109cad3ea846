import { bearer, buildAdmin, buildFranchise, buildTestApp, buildUser, unique, type TestApp, type TestUser } from '../helpers/app';

interface FranchiseBody { id: number; name: string; admins?: unknown[]; stores: { id: number; name: string; totalRevenue?: number }[] }

describe('franchises', () => {
  let t: TestApp;
  let admin: TestUser;
  beforeAll(async () => {
    t = await buildTestApp();
    admin = await buildAdmin(t);
  });
  afterAll(() => t.close());

  const list = (query: Record<string, string | number>, user?: TestUser) => {
    const req = t.http.get('/api/franchise').query(query);
    return user ? req.set('Authorization', bearer(user)) : req;
  };
  const createFranchise = (body: object, user: TestUser = admin) => t.http.post('/api/franchise').set('Authorization', bearer(user)).send(body);
  const franchisesOf = (userId: number, user: TestUser) => t.http.get(`/api/franchise/${userId}`).set('Authorization', bearer(user));
  const me = (user: TestUser) => t.http.get('/api/user/me').set('Authorization', bearer(user));
  const franchiseRows = (name: string) => t.ctx.db.selectFrom('franchises').select('id').where('name', '=', name).execute();

  describe('GET /api/franchise', () => {
    test('when anyone pages through franchises, then pages are 0-based with a right more flag', async () => {
      const prefix = unique('page');
      const a = await buildFranchise(t, { admin, name: `${prefix}-a` });
      const b = await buildFranchise(t, { admin, name: `${prefix}-b` });
      const c = await buildFranchise(t, { admin, name: `${prefix}-c` });

      const first = await list({ page: 0, limit: 2, name: `${prefix}*` });
      const second = await list({ page: 1, limit: 2, name: `${prefix}*` });

      expect(first.status).toBe(200);
      expect(first.body).toEqual({
        franchises: [a, b].map((f) => ({ id: f.id, name: f.name, stores: [{ id: f.store.id, name: f.store.name }] })),
        more: true,
      });
      expect(second.body).toEqual({ franchises: [{ id: c.id, name: c.name, stores: [{ id: c.store.id, name: c.store.name }] }], more: false });
    });

    test('when no page is given, then the first page is served', async () => {
      const prefix = unique('nopage');
      const f = await buildFranchise(t, { admin, name: `${prefix}-a` });

      const res = await list({ name: `${prefix}*` });

      expect(res.body.franchises.map((x: FranchiseBody) => x.id)).toEqual([f.id]);
    });

    test('when the name filter is *text*, then franchises containing the text match', async () => {
      const text = unique('mid');
      const inside = await buildFranchise(t, { admin, name: `left-${text}-right` });
      const atStart = await buildFranchise(t, { admin, name: `${text}-right` });
      await buildFranchise(t, { admin, name: `left-${text.slice(0, -1)}` });

      const res = await list({ name: `*${text}*`, limit: 100 });

      expect(res.body.franchises.map((f: FranchiseBody) => f.id)).toEqual([inside.id, atStart.id]);
    });

    test('when the name filter contains % or _, then they match literally', async () => {
      const prefix = unique('lit');
      const percent = await buildFranchise(t, { admin, name: `${prefix}50%off` });
      await buildFranchise(t, { admin, name: `${prefix}50xoff` });
      const underscore = await buildFranchise(t, { admin, name: `${prefix}a_b` });
      await buildFranchise(t, { admin, name: `${prefix}azb` });

      const byPercent = await list({ name: `*${prefix}50%*`, limit: 100 });
      const byUnderscore = await list({ name: `${prefix}a_b` });

      expect(byPercent.body.franchises.map((f: FranchiseBody) => f.id)).toEqual([percent.id]);
      expect(byUnderscore.body.franchises.map((f: FranchiseBody) => f.id)).toEqual([underscore.id]);
    });

    test('when an anonymous visitor or a diner lists, then no admins and no revenue are shown', async () => {
      const f = await buildFranchise(t, { admin });
      const diner = await buildUser(t);

      const anonymous = await list({ name: f.name });
      const asDiner = await list({ name: f.name }, diner);
      const asFranchisee = await list({ name: f.name }, f.franchisee);

      const expected = { franchises: [{ id: f.id, name: f.name, stores: [{ id: f.store.id, name: f.store.name }] }], more: false };
      expect(anonymous.body).toEqual(expected);
      expect(asDiner.body).toEqual(expected);
      expect(asFranchisee.body).toEqual(expected);
      expect(anonymous.text).not.toContain(f.franchisee.email);
    });

    test('when an admin lists, then admins {id, name, email} and store revenue are shown', async () => {
      const f = await buildFranchise(t, { admin });

      const res = await list({ name: f.name }, admin);

      expect(res.body).toEqual({
        franchises: [
          {
            id: f.id,
            name: f.name,
            admins: [{ id: f.franchisee.id, name: f.franchisee.name, email: f.franchisee.email }],
            stores: [{ id: f.store.id, name: f.store.name, totalRevenue: 0 }],
          },
        ],
        more: false,
      });
    });

    test('when an admin lists franchises with several admins and stores, or none, then each has its own, in id order, and a page counts franchises', async () => {
      const prefix = unique('detail');
      const [ann, bob, cat] = [await buildUser(t), await buildUser(t), await buildUser(t)];
      const create = async (suffix: string, admins: TestUser[], stores: string[]) => {
        const res = await createFranchise({ name: `${prefix}-${suffix}`, admins: admins.map((a) => ({ email: a.email })) });
        expect(res.status).toBe(200);
        const created: { id: number; name: string }[] = [];
        for (const name of stores) created.push((await t.http.post(`/api/franchise/${res.body.id}/store`).set('Authorization', bearer(admin)).send({ name })).body);
        return { id: res.body.id as number, name: `${prefix}-${suffix}`, stores: created.map((s) => ({ id: s.id, name: s.name, totalRevenue: 0 })) };
      };
      // Admins given out of id order; stores of the first franchise outnumber its admins and vice versa.
      const a = await create('a', [cat, ann], ['north', 'south', 'east']);
      const b = await create('b', [bob, ann, cat], ['only']);
      const c = await create('c', [], []);
      const d = await create('d', [bob], []);
      const view = (u: TestUser) => ({ id: u.id, name: u.name, email: u.email });

      const first = await list({ name: `${prefix}*`, limit: 2 }, admin);
      const second = await list({ name: `${prefix}*`, limit: 2, page: 1 }, admin);

      expect(first.body).toEqual({
        franchises: [
          { id: a.id, name: a.name, admins: [ann, cat].map(view), stores: a.stores },
          { id: b.id, name: b.name, admins: [ann, bob, cat].map(view), stores: b.stores },
        ],
        more: true,
      });
      expect(second.body).toEqual({
        franchises: [
          { id: c.id, name: c.name, admins: [], stores: [] },
          { id: d.id, name: d.name, admins: [view(bob)], stores: [] },
        ],
        more: false,
      });
      const anonymous = await list({ name: `${prefix}*`, limit: 2 });
      expect(anonymous.body.franchises[0]).toEqual({ id: a.id, name: a.name, stores: a.stores.map(({ id, name }) => ({ id, name })) });
    });

    test('when an admin lists with a stale token, then it is served as anonymous', async () => {
      const f = await buildFranchise(t);
      await t.http.delete('/api/auth').set('Authorization', bearer(f.admin));

      const res = await list({ name: f.name }, f.admin);

      expect(res.status).toBe(200);
      expect(res.body.franchises[0].admins).toBeUndefined();
    });

    test.each([
      ['page -1', { page: -1 }, 'page'],
      ['limit 0', { limit: 0 }, 'limit'],
      ['limit 101', { limit: 101 }, 'limit'],
    ])('when the query has %s, then 400', async (_label, query, field) => {
      const res = await list(query);

      expect(res.status).toBe(400);
      expect(res.body.message).toContain(field);
    });
  });

  describe('GET /api/franchise/:userId', () => {
    test('when a franchisee lists their own franchises, then admins and store revenue are included', async () => {
      const f = await buildFranchise(t, { admin });

      const res = await franchisesOf(f.franchisee.id, f.franchisee);

      expect(res.status).toBe(200);
      expect(res.body).toEqual([
        {
          id: f.id,
          name: f.name,
          admins: [{ id: f.franchisee.id, name: f.franchisee.name, email: f.franchisee.email }],
          stores: [{ id: f.store.id, name: f.store.name, totalRevenue: 0 }],
        },
      ]);
    });

    test('when a user with no franchise lists theirs, then []', async () => {
      const diner = await buildUser(t);

      const res = await franchisesOf(diner.id, diner);

      expect(res.status).toBe(200);
      expect(res.body).toEqual([]);
    });

    test("when a diner lists another user's franchises, then 403; an admin may", async () => {
      const f = await buildFranchise(t, { admin });
      const diner = await buildUser(t);

      const asDiner = await franchisesOf(f.franchisee.id, diner);
      const asAdmin = await franchisesOf(f.franchisee.id, admin);

      expect(asDiner.status).toBe(403);
      expect(asDiner.body).toEqual({ message: expect.any(String) });
      expect(asAdmin.status).toBe(200);
      expect(asAdmin.body.map((x: FranchiseBody) => x.id)).toEqual([f.id]);
    });

    test('when nobody is logged in, then 401; when the id is not numeric, then 400', async () => {
      const anonymous = await t.http.get('/api/franchise/1');
      const garbage = await franchisesOf('x' as unknown as number, admin);

      expect(anonymous.status).toBe(401);
      expect(garbage.status).toBe(400);
    });
  });

  describe('POST /api/franchise', () => {
    test('when an admin creates a franchise, then the franchisee sees it and holds the franchisee role', async () => {
      const franchisee = await buildUser(t);
      const name = unique('new');

      const res = await createFranchise({ name, admins: [{ email: franchisee.email }] });

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: expect.any(Number), name, admins: [{ email: franchisee.email, id: franchisee.id, name: franchisee.name }] });
      const mine = await franchisesOf(franchisee.id, franchisee);
      expect(mine.body).toEqual([{ id: res.body.id, name, admins: [{ id: franchisee.id, name: franchisee.name, email: franchisee.email }], stores: [] }]);
      expect((await me(franchisee)).body.roles).toEqual([{ role: 'diner' }, { role: 'franchisee', objectId: res.body.id }]);
    });

    test('when the admin email is given in another case, then the account is still found', async () => {
      const franchisee = await buildUser(t);

      const res = await createFranchise({ name: unique('case'), admins: [{ email: franchisee.email.toUpperCase() }] });

      expect(res.status).toBe(200);
      expect(res.body.admins).toEqual([{ email: franchisee.email, id: franchisee.id, name: franchisee.name }]);
    });

    test('when an admin email is unknown, then 404 and no franchise is created, nobody gets a role', async () => {
      const franchisee = await buildUser(t);
      const name = unique('ghost');

      const res = await createFranchise({ name, admins: [{ email: franchisee.email }, { email: `${unique('nobody')}@test.jwt` }] });

      expect(res.status).toBe(404);
      expect(res.body).toEqual({ message: expect.any(String) });
      expect((await list({ name })).body.franchises).toEqual([]);
      expect(await franchiseRows(name)).toEqual([]);
      expect((await me(franchisee)).body.roles).toEqual([{ role: 'diner' }]);
    });

    test('when the name is taken, then 409 and the new admin gets no role', async () => {
      const existing = await buildFranchise(t, { admin });
      const franchisee = await buildUser(t);

      const res = await createFranchise({ name: existing.name, admins: [{ email: franchisee.email }] });

      expect(res.status).toBe(409);
      expect(res.body).toEqual({ message: expect.any(String) });
      expect(await franchiseRows(existing.name)).toHaveLength(1);
      expect((await me(franchisee)).body.roles).toEqual([{ role: 'diner' }]);
    });

    test('when nobody is logged in, then 401; when a diner or franchisee creates, then 403; nothing is created', async () => {
      const diner = await buildUser(t);
      const f = await buildFranchise(t, { admin });
      const name = unique('denied');

      const anonymous = await t.http.post('/api/franchise').send({ name, admins: [] });
      const asDiner = await createFranchise({ name, admins: [{ email: diner.email }] }, diner);
      const asFranchisee = await createFranchise({ name, admins: [] }, f.franchisee);

      expect(anonymous.status).toBe(401);
      expect(asDiner.status).toBe(403);
      expect(asFranchisee.status).toBe(403);
      expect(await franchiseRows(name)).toEqual([]);
    });

    test.each([
      ['no name', { admins: [] }, 'name'],
      ['an empty name', { name: '', admins: [] }, 'name'],
      ['an invalid admin email', { name: 'n', admins: [{ email: 'nope' }] }, 'email'],
      ['admins not a list', { name: 'n', admins: 'a@jwt.com' }, 'admins'],
    ])('when the body has %s, then 400 naming the field', async (_label, body, field) => {
      const res = await createFranchise(body);

      expect(res.status).toBe(400);
      expect(res.body.message).toContain(field);
    });
  });

  describe('DELETE /api/franchise/:franchiseId', () => {
    test('when an admin deletes a franchise, then it is gone and its franchisee loses the role', async () => {
      const f = await buildFranchise(t, { admin });

      const res = await t.http.delete(`/api/franchise/${f.id}`).set('Authorization', bearer(admin));

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ message: 'franchise deleted' });
      expect((await list({ name: f.name }, admin)).body.franchises).toEqual([]);
      expect((await me(f.franchisee)).body.roles).toEqual([{ role: 'diner' }]);
      expect((await franchisesOf(f.franchisee.id, f.franchisee)).body).toEqual([]);
      const store = await t.http.post(`/api/franchise/${f.id}/store`).set('Authorization', bearer(f.franchisee)).send({ name: 'after' });
      expect(store.status).toBe(403);
    });

    test('when nobody is logged in, then 401; when a diner or its franchisee deletes, then 403; the franchise stays', async () => {
      const f = await buildFranchise(t, { admin });
      const diner = await buildUser(t);

      const anonymous = await t.http.delete(`/api/franchise/${f.id}`);
      const asDiner = await t.http.delete(`/api/franchise/${f.id}`).set('Authorization', bearer(diner));
      const asFranchisee = await t.http.delete(`/api/franchise/${f.id}`).set('Authorization', bearer(f.franchisee));

      expect(anonymous.status).toBe(401);
      expect(anonymous.body).toEqual({ message: 'unauthorized' });
      expect(asDiner.status).toBe(403);
      expect(asFranchisee.status).toBe(403);
      expect((await list({ name: f.name })).body.franchises.map((x: FranchiseBody) => x.id)).toEqual([f.id]);
    });

    test('when the franchise is unknown, then 404', async () => {
      const res = await t.http.delete('/api/franchise/2000000000').set('Authorization', bearer(admin));

      expect(res.status).toBe(404);
      expect(res.body).toEqual({ message: expect.any(String) });
    });
  });

  describe('stores', () => {
    const createStore = (franchiseId: number, name: string, user: TestUser) => t.http.post(`/api/franchise/${franchiseId}/store`).set('Authorization', bearer(user)).send({ name });
    const deleteStore = (franchiseId: number, storeId: number, user: TestUser) => t.http.delete(`/api/franchise/${franchiseId}/store/${storeId}`).set('Authorization', bearer(user));
    const storesOf = async (franchiseName: string) => (await list({ name: franchiseName })).body.franchises[0].stores.map((s: { id: number }) => s.id);

    test('when the franchisee creates a store, then it is returned with zero revenue and listed', async () => {
      const f = await buildFranchise(t, { admin });
      const name = unique('store');

      const res = await createStore(f.id, name, f.franchisee);

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: expect.any(Number), franchiseId: f.id, name, totalRevenue: 0 });
      expect(await storesOf(f.name)).toEqual([f.store.id, res.body.id]);
    });

    test('when a franchisee of another franchise or a diner creates a store, then 403 and nothing is created', async () => {
      const f = await buildFranchise(t, { admin });
      const other = await buildFranchise(t, { admin });
      const diner = await buildUser(t);

      const asOther = await createStore(f.id, unique('store'), other.franchisee);
      const asDiner = await createStore(f.id, unique('store'), diner);
      const anonymous = await t.http.post(`/api/franchise/${f.id}/store`).send({ name: 'anon' });

      expect(asOther.status).toBe(403);
      expect(asDiner.status).toBe(403);
      expect(anonymous.status).toBe(401);
      expect(await storesOf(f.name)).toEqual([f.store.id]);
    });

    test('when an admin creates a store in an unknown franchise, then 404', async () => {
      const res = await createStore(2000000000, unique('store'), admin);

      expect(res.status).toBe(404);
      expect(res.body).toEqual({ message: expect.any(String) });
    });

    test('when the store name is missing, then 400 naming it', async () => {
      const f = await buildFranchise(t, { admin });

      const res = await t.http.post(`/api/franchise/${f.id}/store`).set('Authorization', bearer(f.franchisee)).send({});

      expect(res.status).toBe(400);
      expect(res.body.message).toContain('name');
    });

    test('when the franchisee or an admin deletes a store, then it is gone', async () => {
      const f = await buildFranchise(t, { admin });
      const second = await createStore(f.id, unique('store'), admin);

      const byOwner = await deleteStore(f.id, f.store.id, f.franchisee);
      const byAdmin = await deleteStore(f.id, second.body.id, admin);

      expect(byOwner.status).toBe(200);
      expect(byOwner.body).toEqual({ message: 'store deleted' });
      expect(byAdmin.status).toBe(200);
      expect(await storesOf(f.name)).toEqual([]);
    });

    test('when a store is deleted through another franchise, then 404 and the store stays', async () => {
      const f = await buildFranchise(t, { admin });
      const other = await buildFranchise(t, { admin });

      const asAdmin = await deleteStore(other.id, f.store.id, admin);
      const asOtherOwner = await deleteStore(other.id, f.store.id, other.franchisee);

      expect(asAdmin.status).toBe(404);
      expect(asOtherOwner.status).toBe(404);
      expect(await storesOf(f.name)).toEqual([f.store.id]);
    });

    test('when a diner or another franchisee deletes a store, then 403 and the store stays', async () => {
      const f = await buildFranchise(t, { admin });
      const other = await buildFranchise(t, { admin });
      const diner = await buildUser(t);

      const asDiner = await deleteStore(f.id, f.store.id, diner);
      const asOther = await deleteStore(f.id, f.store.id, other.franchisee);

      expect(asDiner.status).toBe(403);
      expect(asOther.status).toBe(403);
      expect(await storesOf(f.name)).toEqual([f.store.id]);
    });
  });

  describe('revenue', () => {
    test('when a diner orders two pizzas, then the store revenue is the exact price sum', async () => {
      const f = await buildFranchise(t, { admin });
      const diner = await buildUser(t);
      const menu = (await t.http.get('/api/order/menu')).body as { id: number; title: string }[];
      const menuId = (title: string) => menu.find((m) => m.title === title)!.id;

      const order = await t.http
        .post('/api/order')
        .set('Authorization', bearer(diner))
        .send({ franchiseId: f.id, storeId: String(f.store.id), items: [{ menuId: menuId('Veggie') }, { menuId: menuId('Pepperoni') }] });

      expect(order.status).toBe(200);
      const asAdmin = await list({ name: f.name }, admin);
      expect(asAdmin.body.franchises[0].stores).toEqual([{ id: f.store.id, name: f.store.name, totalRevenue: 0.008 }]);
      const asOwner = await franchisesOf(f.franchisee.id, f.franchisee);
      expect(asOwner.body[0].stores[0].totalRevenue).toBe(0.008);
    });

    test('when many small orders add up, then the revenue has no floating point drift', async () => {
      const f = await buildFranchise(t, { admin });
      const diner = await buildUser(t);
      const menu = (await t.http.get('/api/order/menu')).body as { id: number; title: string }[];
      const crusty = menu.find((m) => m.title === 'Crusty')!.id;
      const margarita = menu.find((m) => m.title === 'Margarita')!.id;

      for (let i = 0; i < 3; i++) {
        const res = await t.http.post('/api/order').set('Authorization', bearer(diner)).send({ franchiseId: f.id, storeId: f.store.id, items: [{ menuId: crusty }, { menuId: margarita }] });
        expect(res.status).toBe(200);
      }

      const asAdmin = await list({ name: f.name }, admin);
      expect(asAdmin.body.franchises[0].stores[0].totalRevenue).toBe(0.021);
    });
  });
});
