import { bearer, buildAdmin, buildTestApp, buildUser, unique, type TestApp, type TestUser } from '../helpers/app';

const CLASSIC_MENU = [
  { title: 'Veggie', description: 'A garden of delight', image: 'pizza1.png', price: 0.0038 },
  { title: 'Pepperoni', description: 'Spicy treat', image: 'pizza2.png', price: 0.0042 },
  { title: 'Margarita', description: 'Essential classic', image: 'pizza3.png', price: 0.0042 },
  { title: 'Crusty', description: 'A dry mouthed favorite', image: 'pizza4.png', price: 0.0028 },
  { title: 'Charred Leopard', description: 'For those with a darker side', image: 'pizza5.png', price: 0.0099 },
];

describe('menu', () => {
  let t: TestApp;
  let admin: TestUser;
  beforeAll(async () => {
    t = await buildTestApp();
    admin = await buildAdmin(t);
  });
  afterAll(() => t.close());

  const getMenu = () => t.http.get('/api/order/menu');
  const addItem = (item: Record<string, unknown>, user: TestUser = admin) => t.http.put('/api/order/menu').set('Authorization', bearer(user)).send(item);
  const newItem = (overrides: Record<string, unknown> = {}) => ({ title: unique('pizza'), description: 'test pie', image: 'pizza9.png', price: 0.0001, ...overrides });

  test('when anyone reads the menu, then the classic menu comes back with exact prices as JSON numbers', async () => {
    const res = await getMenu();

    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body.slice(0, 5)).toEqual(CLASSIC_MENU.map((item) => ({ id: expect.any(Number), ...item })));
    expect(res.text).toContain('"price":0.0038');
    expect(res.text).toContain('"price":0.0099');
    for (const item of res.body) expect(Object.keys(item).sort()).toEqual(['description', 'id', 'image', 'price', 'title']);
  });

  test('when an admin adds an item, then the whole menu comes back with it and the next read shows it', async () => {
    const before = await getMenu();
    const item = newItem({ price: 0.00012345 });

    const res = await addItem(item);

    expect(res.status).toBe(200);
    expect(res.body).toEqual([...before.body, { id: expect.any(Number), ...item }]);
    const after = await getMenu();
    expect(after.body).toEqual(res.body);
  });

  test('when an admin adds an item without a description, then it is stored with an empty description', async () => {
    const { description: _omitted, ...item } = newItem();

    const res = await addItem(item);

    expect(res.status).toBe(200);
    expect(res.body.find((i: { title: string }) => i.title === item.title)).toEqual({ id: expect.any(Number), ...item, description: '' });
  });

  test.each([[0.00000001], [1000], [142.5054501], [999.99999999], [12.34567891]])('when an admin adds a price of %p BTC (at most 8 decimals), then it is stored exactly', async (price) => {
    const item = newItem({ price });

    const res = await addItem(item);

    expect(res.status).toBe(200);
    expect(res.body.find((i: { title: string }) => i.title === item.title).price).toBe(price);
    const row = await t.ctx.db.selectFrom('menu_items').select('price_units').where('title', '=', item.title).executeTakeFirstOrThrow();
    expect(Number(row.price_units)).toBe(Math.round(price * 1e8));
  });

  test('when a diner adds an item, then 403; when nobody is logged in, then 401; the menu is unchanged', async () => {
    const diner = await buildUser(t);
    const item = newItem();

    const asDiner = await addItem(item, diner);
    const anonymous = await t.http.put('/api/order/menu').send(item);

    expect(asDiner.status).toBe(403);
    expect(anonymous.status).toBe(401);
    expect((await getMenu()).body.map((i: { title: string }) => i.title)).not.toContain(item.title);
  });

  test.each([
    ['a negative price', { price: -0.001 }, 'price'],
    ['a zero price', { price: 0 }, 'price'],
    ['a price as a string', { price: '0.001' }, 'price'],
    ['a price with 9 decimals', { price: 0.123456789 }, 'price'],
    ['a price below one unit', { price: 0.000000001 }, 'price'],
    ['a price above 1000', { price: 1000.00000001 }, 'price'],
    ['no price', { price: undefined }, 'price'],
    ['no title', { title: undefined }, 'title'],
    ['an empty title', { title: '  ' }, 'title'],
    ['a title over 100 characters', { title: 'x'.repeat(101) }, 'title'],
    ['no image', { image: undefined }, 'image'],
  ])('when an admin adds an item with %s, then 400 naming the field and the menu is unchanged', async (_label, overrides, field) => {
    const item = newItem(overrides);
    const before = await getMenu();

    const res = await addItem(item);

    expect(res.status).toBe(400);
    expect(res.body).toEqual({ message: expect.stringContaining(field) });
    expect((await getMenu()).body).toEqual(before.body);
  });
});
