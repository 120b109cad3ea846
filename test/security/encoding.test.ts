import { randomBytes } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import { bearer, buildAdmin, buildTestApp, unique, type TestApp } from '../helpers/app';
import { currentBackend } from '../helpers/database';

// Text in any script must round-trip on both backends. MariaDB before 11.6 creates databases in latin1
// by default (Debian's 10.11 does), where a 4-byte character (an emoji) or most non-Latin text made
// every insert fail with a 500. The test database here is deliberately created with that default.

async function latin1Database(): Promise<{ url: string; drop(): Promise<void> }> {
  const server = new URL(process.env.TEST_MYSQL_URL!);
  const connect = () =>
    createConnection({ host: server.hostname, port: Number(server.port || 3306), user: decodeURIComponent(server.username), password: decodeURIComponent(server.password) });
  const name = `jp_latin1_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = await connect();
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET latin1 COLLATE latin1_swedish_ci`);
  await admin.end();
  const url = new URL(server.toString());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const conn = await connect();
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await conn.end();
    },
  };
}

const TEXTS = ['pizza 🍕', '中文披萨', 'Ñandú', 'пицца', 'بيتزا', '👩‍🍳 chef', 'a\u0301 combining', 'x'.repeat(99) + '🍕'];

describe('text in any script on a database whose default charset is not utf8mb4', () => {
  let t: TestApp;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    if (currentBackend() === 'mysql') {
      const db = await latin1Database();
      drop = db.drop;
      t = await buildTestApp({ databaseUrl: db.url });
    } else {
      t = await buildTestApp();
    }
  });
  afterAll(async () => {
    await t?.close();
    await drop?.();
  });

  test.each(TEXTS)('when %s is used as a user, franchise, store and menu name, then it is stored and returned unchanged', async (text) => {
    const registered = await t.http.post('/api/auth').send({ name: text, email: `${unique()}@test.jwt`, password: 'pw-encoding' });
    expect(registered.status).toBe(200);
    const me = await t.http.get('/api/user/me').set('Authorization', `Bearer ${registered.body.token}`);
    expect(me.body.name).toBe(text);

    const admin = await buildAdmin(t);
    const franchise = await t.http.post('/api/franchise').set('Authorization', bearer(admin)).send({ name: `${text.slice(0, 60)} ${unique()}`, admins: [] });
    expect(franchise.status).toBe(200);
    const store = await t.http.post(`/api/franchise/${franchise.body.id}/store`).set('Authorization', bearer(admin)).send({ name: text });
    expect([store.status, store.body.name]).toEqual([200, text]);
    const menu = await t.http.put('/api/order/menu').set('Authorization', bearer(admin)).send({ title: text, description: text, image: 'pizza.png', price: 0.001 });
    expect(menu.status).toBe(200);
    const item = menu.body[menu.body.length - 1];
    expect([item.title, item.description]).toEqual([text, text]);

    const order = await t.http
      .post('/api/order')
      .set('Authorization', `Bearer ${registered.body.token}`)
      .send({ franchiseId: franchise.body.id, storeId: store.body.id, items: [{ menuId: item.id }] });
    expect(order.status).toBe(200);
    expect(order.body.order.items[0].description).toBe(text);
  });
});
