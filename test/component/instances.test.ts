import { bearer, buildAdmin, buildTestApp, buildUser, unique, type TestApp, type TestUser } from '../helpers/app';

/** Two app instances over one database, as behind a load balancer: sessions and roles live in the database. */
describe('two instances over one database', () => {
  let one: TestApp;
  let two: TestApp;
  let admin: TestUser;
  beforeAll(async () => {
    one = await buildTestApp();
    two = await buildTestApp({ databaseUrl: one.databaseUrl, simulator: one.simulator });
    admin = await buildAdmin(one);
  });
  afterAll(async () => {
    await two?.close();
    await one?.close();
  });

  const me = (t: TestApp, token: string) => t.http.get('/api/user/me').set('Authorization', `Bearer ${token}`);

  test('when a user registers on one instance, then the token works on the other', async () => {
    const email = `${unique('multi')}@test.jwt`;

    const registered = await one.http.post('/api/auth').send({ name: 'multi', email, password: 'secret-1' });

    expect(registered.status).toBe(200);
    const onTwo = await me(two, registered.body.token);
    expect(onTwo.status).toBe(200);
    expect(onTwo.body).toEqual(registered.body.user);
  });

  test('when a user logs in on one instance, then the other accepts the token', async () => {
    const user = await buildUser(one);

    const login = await two.http.put('/api/auth').send({ email: user.email, password: user.password });

    expect(login.status).toBe(200);
    expect((await me(one, login.body.token)).body.id).toBe(user.id);
  });

  test('when a user logs out on one instance, then the token is refused on both', async () => {
    const user = await buildUser(one);
    expect((await me(two, user.token)).status).toBe(200);

    const logout = await one.http.delete('/api/auth').set('Authorization', bearer(user));

    expect(logout.status).toBe(200);
    expect((await me(one, user.token)).status).toBe(401);
    expect((await me(two, user.token)).status).toBe(401);
  });

  test('when a user is deleted through one instance, then the other refuses their token', async () => {
    const user = await buildUser(one);
    expect((await me(two, user.token)).status).toBe(200);

    const deleted = await one.http.delete(`/api/user/${user.id}`).set('Authorization', bearer(admin));

    expect(deleted.status).toBe(200);
    expect((await me(two, user.token)).status).toBe(401);
    expect((await two.http.put('/api/auth').send({ email: user.email, password: user.password })).status).toBe(401);
  });

  test('when a user changes their password on one instance, then their old token is refused on the other', async () => {
    const user = await buildUser(one);

    const changed = await two.http.put(`/api/user/${user.id}`).set('Authorization', bearer(user)).send({ password: 'changed-password' });

    expect(changed.status).toBe(200);
    expect((await me(one, user.token)).status).toBe(401);
    expect((await me(one, changed.body.token)).status).toBe(200);
  });

  test('when a franchise is created on one instance, then the franchisee role is seen on the other at the next request', async () => {
    const franchisee = await buildUser(one);
    const name = unique('multi');
    expect((await me(two, franchisee.token)).body.roles).toEqual([{ role: 'diner' }]);

    const created = await one.http.post('/api/franchise').set('Authorization', bearer(admin)).send({ name, admins: [{ email: franchisee.email }] });

    expect(created.status).toBe(200);
    expect((await me(two, franchisee.token)).body.roles).toEqual([{ role: 'diner' }, { role: 'franchisee', objectId: created.body.id }]);
    const store = await two.http.post(`/api/franchise/${created.body.id}/store`).set('Authorization', bearer(franchisee)).send({ name: 'on two' });
    expect(store.status).toBe(200);
    const listed = await one.http.get('/api/franchise').query({ name });
    expect(listed.body.franchises[0].stores).toEqual([{ id: store.body.id, name: 'on two' }]);
  });

  test('when a franchise is deleted on one instance, then its franchisee loses the role on the other at once', async () => {
    const franchisee = await buildUser(one);
    const created = await one.http.post('/api/franchise').set('Authorization', bearer(admin)).send({ name: unique('gone'), admins: [{ email: franchisee.email }] });

    const deleted = await two.http.delete(`/api/franchise/${created.body.id}`).set('Authorization', bearer(admin));

    expect(deleted.status).toBe(200);
    expect((await me(one, franchisee.token)).body.roles).toEqual([{ role: 'diner' }]);
    const store = await one.http.post(`/api/franchise/${created.body.id}/store`).set('Authorization', bearer(franchisee)).send({ name: 'too late' });
    expect(store.status).toBe(403);
  });

  test('when an admin is demoted in the database, then neither instance lets the old token act as admin', async () => {
    const formerAdmin = await buildAdmin(one);
    expect((await two.http.get('/api/user').set('Authorization', bearer(formerAdmin))).status).toBe(200);

    await one.ctx.db.deleteFrom('user_roles').where('user_id', '=', formerAdmin.id).where('role', '=', 'admin').execute();

    expect((await one.http.get('/api/user').set('Authorization', bearer(formerAdmin))).status).toBe(403);
    expect((await two.http.get('/api/user').set('Authorization', bearer(formerAdmin))).status).toBe(403);
  });
});
