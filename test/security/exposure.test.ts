import { randomUUID } from 'node:crypto';
import { bearer, buildAdmin, buildFranchise, buildTestApp, buildUser, unique, type TestApp } from '../helpers/app';
import { rowCounts, snapshotRows } from './support';

// Issue 25's smaller findings and the log amplification, on both backends: what the log keeps of a
// request, Idempotency-Key reuse with another body, the password rule, control characters in stored
// names, and Cache-Control on answers that carry a token or are for a signed-in caller.

/** The access-log bound: about 1–2 KB per line in total. */
const LINE_BOUND = 2048;
const EMAIL_IN_CLEAR = /[A-Za-z0-9._%+-]{2,}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+/;

describe('what the log keeps of a request', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(() => t.close());

  test('when ten anonymous ~1 MB logins are sent, then the log grows by a few KB, not 10 MB, and each line stays under 2 KB', async () => {
    const before = Buffer.byteLength(t.rawLogs());
    for (let i = 0; i < 10; i++) {
      const body = JSON.stringify({ email: `big-${i}-${unique()}@test.jwt`, password: 'wrong-password', padding: 'x'.repeat(1_000_000) });
      expect((await t.http.put('/api/auth').set('Content-Type', 'application/json').send(body)).status).toBe(401);
    }
    const grown = Buffer.byteLength(t.rawLogs()) - before;
    expect(grown).toBeLessThan(10 * LINE_BOUND);
    for (const line of t.rawLogs().split('\n')) expect(Buffer.byteLength(line)).toBeLessThan(LINE_BOUND);
    expect(t.rawLogs()).not.toContain('xxxxxxxxxx');
  });

  test('when a body is refused before validation (too large, not JSON, malformed), then its line has only its size and type', async () => {
    const marker = `refused-${unique()}`;
    expect((await t.http.post('/api/auth').set('Content-Type', 'application/json').send(JSON.stringify({ name: marker.repeat(80_000) }))).status).toBe(413);
    expect((await t.http.post('/api/auth').set('Content-Type', 'text/plain').send(marker)).status).toBe(415);
    expect((await t.http.post('/api/auth').set('Content-Type', 'application/json').send(`{"name":"${marker}",`)).status).toBe(400);
    expect((await t.http.post('/api/auth').send({ name: marker, email: 'not-an-email', password: 'long-enough' })).status).toBe(400);
    const lines = t.logs().filter((l) => l.type === 'http' && l.route !== undefined).slice(-4);
    expect(lines.map((l) => l.status)).toEqual([413, 415, 400, 400]);
    for (const line of lines) {
      expect(line.reqBody).toBeUndefined();
      expect(line.reqBytes).toBeGreaterThan(0);
      expect(typeof line.reqType).toBe('string');
    }
    expect(t.rawLogs()).not.toContain(marker);
  });

  test('when users register, log in, fail, change their email, are named franchise admins and are searched, then no log line holds an email in clear', async () => {
    const email = `clear.text-${unique()}@example.com`;
    const registered = await t.http.post('/api/auth').send({ name: 'Pat', email, password: 'pat-password', extra: email });
    expect(registered.status).toBe(200);
    expect((await t.http.put('/api/auth').send({ email, password: 'pat-password' })).status).toBe(200);
    expect((await t.http.put('/api/auth').send({ email, password: 'wrong-password' })).status).toBe(401);
    const moved = `moved-${unique()}@example.com`;
    expect((await t.http.put(`/api/user/${registered.body.user.id}`).set('Authorization', bearer(registered.body)).send({ email: moved })).status).toBe(200);
    const admin = await buildAdmin(t);
    expect((await t.http.post('/api/franchise').set('Authorization', bearer(admin)).send({ name: unique('f'), admins: [{ email: moved }] })).status).toBe(200);
    expect((await t.http.post('/api/franchise').set('Authorization', bearer(admin)).send({ name: unique('f'), admins: [{ email: `nobody-${unique()}@example.com` }] })).status).toBe(404);
    await t.http.get(`/api/user?name=${encodeURIComponent(email)}`).set('Authorization', bearer(admin));

    for (const line of t.rawLogs().split('\n')) expect(line).not.toMatch(EMAIL_IN_CLEAR);
    // Still useful to on-call: the masked form tells accounts apart.
    expect(t.rawLogs()).toContain('c***@example.com');
  });
});

describe('Idempotency-Key reused with another body', () => {
  test('when a diner reuses a key for another order, then 422 and nothing is written; the same body still replays the first answer', async () => {
    const t = await buildTestApp();
    try {
      const diner = await buildUser(t);
      const franchise = await buildFranchise(t);
      const key = randomUUID();
      const order = (menuIds: number[]) => ({ franchiseId: franchise.id, storeId: franchise.store.id, items: menuIds.map((menuId) => ({ menuId })) });
      const first = await t.http.post('/api/order').set('Authorization', bearer(diner)).set('Idempotency-Key', key).send(order([1]));
      expect(first.status).toBe(200);
      const snapshot = await snapshotRows(t);
      const reused = await t.http.post('/api/order').set('Authorization', bearer(diner)).set('Idempotency-Key', key).send(order([2, 3]));
      expect(reused.status).toBe(422);
      expect(reused.body).toEqual({ message: expect.stringContaining('Idempotency-Key') });
      expect(await snapshotRows(t)).toEqual(snapshot);
      const replay = await t.http.post('/api/order').set('Authorization', bearer(diner)).set('Idempotency-Key', key).send(order([1]));
      expect([replay.status, replay.body]).toEqual([200, first.body]);
    } finally {
      await t.close();
    }
  });
});

describe('password rule (NIST SP 800-63B: 8 characters or more; bcrypt: 72 bytes at most)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(() => t.close());

  test.each([
    ['1 character', 'a'],
    ['7 characters', 'abcdefg'],
    ['7 characters of astral emoji (14 UTF-16 units)', '🍕🍕🍕🍕🍕🍕🍕'],
    ['73 bytes', 'p'.repeat(73)],
    ['37 two-byte characters (74 bytes)', 'é'.repeat(37)],
  ])('when a password of %s is set at registration or in an update, then 400 naming the rule and nothing changes', async (_name, password) => {
    const before = await rowCounts(t);
    const registered = await t.http.post('/api/auth').send({ name: 'short', email: `${unique()}@test.jwt`, password });
    expect(registered.status).toBe(400);
    expect(registered.body.message).toMatch(/^invalid password: must be (at least 8 characters|at most 72 bytes)/);
    expect(await rowCounts(t)).toEqual(before);

    const user = await buildUser(t);
    const snapshot = await snapshotRows(t);
    const updated = await t.http.put(`/api/user/${user.id}`).set('Authorization', bearer(user)).send({ password });
    expect(updated.status).toBe(400);
    expect(updated.body.message).toMatch(/^invalid password: must be (at least 8 characters|at most 72 bytes)/);
    expect(await snapshotRows(t)).toEqual(snapshot);
    expect((await t.http.put('/api/auth').send({ email: user.email, password: user.password })).status).toBe(200);
  });

  test('when a password of exactly 8 characters or 72 bytes is set, then it is accepted and logs in', async () => {
    for (const password of ['abcdefgh', 'é'.repeat(36)]) {
      const email = `${unique()}@test.jwt`;
      expect((await t.http.post('/api/auth').send({ name: 'ok', email, password })).status).toBe(200);
      expect((await t.http.put('/api/auth').send({ email, password })).status).toBe(200);
    }
  });

  test('when an account made before the rule has a short password (the seeded demo users), then it still logs in', async () => {
    const old = await buildUser(t, { password: 'admin' });
    expect((await t.http.put('/api/auth').send({ email: old.email, password: 'admin' })).status).toBe(200);
  });
});

describe('control characters and bidirectional overrides in stored names', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(() => t.close());

  const UNSAFE = [
    ['NUL', 'pizza\u0000admin'],
    ['a newline', 'pizza\nadmin'],
    ['an escape (ANSI)', 'pizza\u001b[31m'],
    ['DEL', 'pizza\u007f'],
    ['a C1 control', 'pizza\u0085'],
    ['RIGHT-TO-LEFT OVERRIDE', 'pizza\u202egnp.exe'],
    ['LEFT-TO-RIGHT EMBEDDING', '\u202apizza'],
    ['FIRST STRONG ISOLATE', 'pizza\u2068x\u2069'],
  ];

  test.each(UNSAFE)('when a name holds %s, then every place that stores a name answers 400 naming the field and nothing changes', async (_what, text) => {
    const admin = await buildAdmin(t);
    const user = await buildUser(t);
    const franchise = await buildFranchise(t, { admin });
    const snapshot = await snapshotRows(t);
    const refusals = [
      await t.http.post('/api/auth').send({ name: text, email: `${unique()}@test.jwt`, password: 'long-enough' }),
      await t.http.put(`/api/user/${user.id}`).set('Authorization', bearer(user)).send({ name: text }),
      await t.http.post('/api/franchise').set('Authorization', bearer(admin)).send({ name: text, admins: [] }),
      await t.http.post(`/api/franchise/${franchise.id}/store`).set('Authorization', bearer(admin)).send({ name: text }),
    ];
    for (const res of refusals) {
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ message: 'invalid name: must not contain control characters or bidirectional overrides' });
    }
    const menu = await t.http.put('/api/order/menu').set('Authorization', bearer(admin)).send({ title: text, description: 'd', image: 'pizza1.png', price: 0.001 });
    expect(menu.status).toBe(400);
    expect(menu.body).toEqual({ message: 'invalid title: must not contain control characters or bidirectional overrides' });
    expect(await snapshotRows(t)).toEqual(snapshot);
  });

  test('when names use ordinary text of any script, emoji and joiners, then they are still accepted', async () => {
    for (const name of ['pizza 🍕', '中文披萨', 'بيتزا', '👩‍🍳 chef', 'a\u0301 combining', 'tab-free name']) {
      expect((await t.http.post('/api/auth').send({ name, email: `${unique()}@test.jwt`, password: 'long-enough' })).status).toBe(200);
    }
  });
});

describe('Cache-Control on answers with a token or for a signed-in caller', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(() => t.close());

  test('when a token is issued or a signed-in caller is answered (success or refusal), then Cache-Control is no-store; the public menu may be cached', async () => {
    const email = `${unique()}@test.jwt`;
    const registered = await t.http.post('/api/auth').send({ name: 'cache', email, password: 'long-enough' });
    const loggedIn = await t.http.put('/api/auth').send({ email, password: 'long-enough' });
    const me = await t.http.get('/api/user/me').set('Authorization', bearer(loggedIn.body));
    const updated = await t.http.put(`/api/user/${registered.body.user.id}`).set('Authorization', bearer(loggedIn.body)).send({ name: 'cached?' });
    const orders = await t.http.get('/api/order').set('Authorization', bearer(updated.body));
    const forbidden = await t.http.get('/api/user').set('Authorization', bearer(updated.body));
    for (const res of [registered, loggedIn, me, updated, orders, forbidden]) {
      expect(res.status).toBeLessThan(500);
      expect(res.headers['cache-control']).toBe('no-store');
    }
    expect(forbidden.status).toBe(403);
    expect((await t.http.get('/api/order/menu')).headers['cache-control']).toBeUndefined();
  });
});
