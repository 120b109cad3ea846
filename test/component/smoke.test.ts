import { bearer, buildFranchise, buildTestApp, buildUser, type TestApp } from '../helpers/app';

describe('smoke: a diner orders a pizza', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(() => t.close());

  test('when a diner orders from a store, then the order is fulfilled with a verifiable JWT', async () => {
    const franchise = await buildFranchise(t);
    const diner = await buildUser(t);
    const res = await t.http.post('/api/order').set('Authorization', bearer(diner)).send({ franchiseId: franchise.id, storeId: String(franchise.store.id), items: [{ menuId: 1, description: 'x', price: 99 }] });
    expect(res.status).toBe(200);
    expect(res.body.order.items).toEqual([{ id: expect.any(Number), menuId: 1, description: 'Veggie', price: 0.0038 }]);
    const verify = await fetch(`${t.simulator.url}/api/order/verify`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ jwt: res.body.jwt }) });
    expect(verify.status).toBe(200);
  });
});
