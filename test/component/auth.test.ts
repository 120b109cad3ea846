import jwt from 'jsonwebtoken';
import { bearer, buildUser, buildTestApp, unique, type TestApp } from '../helpers/app';

const newEmail = () => `${unique('auth')}@test.jwt`;
async function countUsers(t: TestApp): Promise<number> {
  const row = await t.ctx.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('auth', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(() => t.close());

  describe('register', () => {
    test('when a visitor registers, then they get a diner account and a working token', async () => {
      const email = newEmail();

      const res = await t.http.post('/api/auth').send({ name: 'pizza fan', email, password: 'secret-1' });

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ user: { id: expect.any(Number), name: 'pizza fan', email, roles: [{ role: 'diner' }] }, token: expect.any(String) });
      const me = await t.http.get('/api/user/me').set('Authorization', bearer(res.body));
      expect(me.status).toBe(200);
      expect(me.body).toEqual(res.body.user);
    });

    test('when a visitor registers with roles in the body, then the roles are ignored and the account is a diner', async () => {
      const email = newEmail();

      const res = await t.http.post('/api/auth').send({ name: 'sneaky', email, password: 'secret-1', roles: [{ role: 'admin' }] });

      expect(res.status).toBe(200);
      expect(res.body.user.roles).toEqual([{ role: 'diner' }]);
      const me = await t.http.get('/api/user/me').set('Authorization', bearer(res.body));
      expect(me.body.roles).toEqual([{ role: 'diner' }]);
      const adminOnly = await t.http.get('/api/user').set('Authorization', bearer(res.body));
      expect(adminOnly.status).toBe(403);
    });

    test.each([
      ['name', (email: string) => ({ email, password: 'secret-1' })],
      ['email', () => ({ name: 'n', password: 'secret-1' })],
      ['password', (email: string) => ({ name: 'n', email })],
      ['name', (email: string) => ({ name: '', email, password: 'secret-1' })],
      ['name', (email: string) => ({ name: 42, email, password: 'secret-1' })],
      ['email', () => ({ name: 'n', email: 'not-an-email', password: 'secret-1' })],
      ['password', (email: string) => ({ name: 'n', email, password: '' })],
      ['password', (email: string) => ({ name: 'n', email, password: 'x'.repeat(73) })],
    ])('when the %s is missing or invalid, then registration answers 400 naming it and creates nothing', async (field, body) => {
      const email = newEmail();
      const usersBefore = await countUsers(t);

      const res = await t.http.post('/api/auth').send(body(email));

      expect(res.status).toBe(400);
      expect(res.body).toEqual({ message: expect.stringContaining(field) });
      expect(await countUsers(t)).toBe(usersBefore);
    });

    test('when an email is registered again in another letter case, then the second registration answers 409', async () => {
      const local = unique('dup');
      const first = await t.http.post('/api/auth').send({ name: 'first', email: `A${local}@X.com`, password: 'secret-1' });

      const second = await t.http.post('/api/auth').send({ name: 'second', email: `a${local}@x.com`, password: 'secret-2' });

      expect(first.status).toBe(200);
      expect(second.status).toBe(409);
      expect(second.body).toEqual({ message: expect.any(String) });
      const login = await t.http.put('/api/auth').send({ email: `a${local}@x.com`, password: 'secret-1' });
      expect(login.status).toBe(200);
      expect(login.body.user.name).toBe('first');
    });

    test('when a visitor registers with an upper-case email, then it is stored lower-case and login works in any case', async () => {
      const local = unique('case');

      const res = await t.http.post('/api/auth').send({ name: 'caps', email: `${local.toUpperCase()}@Test.JWT`, password: 'secret-1' });

      expect(res.status).toBe(200);
      expect(res.body.user.email).toBe(`${local.toLowerCase()}@test.jwt`);
      const row = await t.ctx.db.selectFrom('users').select('email').where('id', '=', res.body.user.id).executeTakeFirstOrThrow();
      expect(row.email).toBe(`${local.toLowerCase()}@test.jwt`);
      const login = await t.http.put('/api/auth').send({ email: `${local.toUpperCase()}@TEST.jwt`, password: 'secret-1' });
      expect(login.status).toBe(200);
      expect(login.body.user.id).toBe(res.body.user.id);
    });
  });

  describe('login', () => {
    test('when a user logs in with the right password, then they get themselves and a working token', async () => {
      const user = await buildUser(t);

      const res = await t.http.put('/api/auth').send({ email: user.email, password: user.password });

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ user: { id: user.id, name: user.name, email: user.email, roles: [{ role: 'diner' }] }, token: expect.any(String) });
      const me = await t.http.get('/api/user/me').set('Authorization', bearer(res.body));
      expect(me.body.id).toBe(user.id);
    });

    test('when the password is wrong, then 401 with the same message as for an unknown email', async () => {
      const user = await buildUser(t);

      const wrongPassword = await t.http.put('/api/auth').send({ email: user.email, password: `${user.password}x` });
      const unknownEmail = await t.http.put('/api/auth').send({ email: newEmail(), password: user.password });

      expect(wrongPassword.status).toBe(401);
      expect(unknownEmail.status).toBe(401);
      expect(wrongPassword.body).toEqual({ message: expect.any(String) });
      expect(unknownEmail.body).toEqual(wrongPassword.body);
    });

    test.each([
      ['missing', {}],
      ['empty', { password: '' }],
      ['null', { password: null }],
      ['a number', { password: 12345 }],
    ])('when the password is %s, then 400 naming the password and never a token', async (_label, extra) => {
      const user = await buildUser(t);

      const res = await t.http.put('/api/auth').send({ email: user.email, ...extra });

      expect(res.status).toBe(400);
      expect(res.body.message).toContain('password');
      expect(res.body.token).toBeUndefined();
    });

    test('when the email is missing, then 400 naming the email', async () => {
      const res = await t.http.put('/api/auth').send({ password: 'whatever' });

      expect(res.status).toBe(400);
      expect(res.body.message).toContain('email');
    });
  });

  describe('logout', () => {
    test('when a user logs out, then 200 and that token is refused afterwards', async () => {
      const user = await buildUser(t);

      const res = await t.http.delete('/api/auth').set('Authorization', bearer(user));

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ message: 'logout successful' });
      const me = await t.http.get('/api/user/me').set('Authorization', bearer(user));
      expect(me.status).toBe(401);
      expect(me.body).toEqual({ message: 'unauthorized' });
      // The order history checks the session in its own statement (auth.readOwn), not in requireUser.
      const history = await t.http.get('/api/order?page=1').set('Authorization', bearer(user));
      expect(history.status).toBe(401);
      expect(history.body).toEqual({ message: 'unauthorized' });
      const again = await t.http.delete('/api/auth').set('Authorization', bearer(user));
      expect(again.status).toBe(401);
    });

    test('when a user logs out of one session, then their other session keeps working', async () => {
      const user = await buildUser(t);
      const other = await t.http.put('/api/auth').send({ email: user.email, password: user.password });

      await t.http.delete('/api/auth').set('Authorization', bearer(user));

      const me = await t.http.get('/api/user/me').set('Authorization', bearer(other.body));
      expect(me.status).toBe(200);
      expect(me.body.id).toBe(user.id);
    });

    test('when logout is called without a token, then 401', async () => {
      const res = await t.http.delete('/api/auth');

      expect(res.status).toBe(401);
      expect(res.body).toEqual({ message: 'unauthorized' });
    });
  });

  describe('tokens', () => {
    const claimsOf = (token: string) => jwt.decode(token) as { sub: string; sid: string; iat: number; exp: number };

    async function expectRefused(token: string) {
      const me = await t.http.get('/api/user/me').set('Authorization', `Bearer ${token}`);
      expect(me.status).toBe(401);
      expect(me.body).toEqual({ message: 'unauthorized' });
      const history = await t.http.get('/api/order?page=1').set('Authorization', `Bearer ${token}`);
      expect(history.status).toBe(401);
      expect(history.body).toEqual({ message: 'unauthorized' });
      const logout = await t.http.delete('/api/auth').set('Authorization', `Bearer ${token}`);
      expect(logout.status).toBe(401);
    }

    test('when a token is signed with another secret, then it is refused', async () => {
      const user = await buildUser(t);
      const { sid } = claimsOf(user.token);

      const forged = jwt.sign({ sid }, 'another-secret-that-is-long-enough-for-hs256-xyz', { algorithm: 'HS256', subject: String(user.id), expiresIn: 3600 });

      await expectRefused(forged);
      expect((await t.http.get('/api/user/me').set('Authorization', bearer(user))).status).toBe(200);
    });

    test('when a token uses alg none, then it is refused', async () => {
      const user = await buildUser(t);
      const claims = claimsOf(user.token);

      const unsigned = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`;

      await expectRefused(unsigned);
    });

    test('when the payload of a real token is changed to name another user, then it is refused', async () => {
      const attacker = await buildUser(t);
      const victim = await buildUser(t);
      const [header, , signature] = attacker.token.split('.');

      const tampered = `${header}.${b64url({ ...claimsOf(attacker.token), sub: String(victim.id) })}.${signature}`;

      await expectRefused(tampered);
    });

    test('when a correctly signed token names another user than its session, then it is refused', async () => {
      const attacker = await buildUser(t);
      const victim = await buildUser(t);

      const resigned = jwt.sign({ sid: claimsOf(attacker.token).sid }, t.config.jwt.secret, { algorithm: 'HS256', subject: String(victim.id), expiresIn: 3600 });

      await expectRefused(resigned);
    });

    test('when a token has expired, then it is refused even though its session exists', async () => {
      const user = await buildUser(t);
      const past = Math.floor(Date.now() / 1000) - 3600;

      const expired = jwt.sign({ sid: claimsOf(user.token).sid, sub: String(user.id), iat: past - 60, exp: past }, t.config.jwt.secret, { algorithm: 'HS256' });

      await expectRefused(expired);
      const fresh = jwt.sign({ sid: claimsOf(user.token).sid }, t.config.jwt.secret, { algorithm: 'HS256', subject: String(user.id), expiresIn: 3600 });
      expect((await t.http.get('/api/user/me').set('Authorization', `Bearer ${fresh}`)).status).toBe(200);
    });

    test('when a token is signed with HS512 by the same secret, then it is refused (HS256 only)', async () => {
      const user = await buildUser(t);

      const otherAlgorithm = jwt.sign({ sid: claimsOf(user.token).sid }, t.config.jwt.secret, { algorithm: 'HS512', subject: String(user.id), expiresIn: 3600 });

      await expectRefused(otherAlgorithm);
    });

    test.each([['garbage'], ['a.b.c'], ['eyJhbGciOiJIUzI1NiJ9..'], ['']])('when the bearer token is %p, then it is refused', async (token) => {
      await expectRefused(token);
    });

    test('when the Authorization header is not a bearer scheme, then it is refused', async () => {
      const user = await buildUser(t);

      const res = await t.http.get('/api/user/me').set('Authorization', `Basic ${user.token}`);

      expect(res.status).toBe(401);
    });
  });
});

describe('auth: login rate limiting', () => {
  let t: TestApp;
  // Each test logs in from its own client IP (X-Forwarded-For behind one trusted proxy), so the per-IP counters stay apart.
  let ipCounter = 0;
  const newIp = () => {
    ipCounter += 1;
    return `10.${process.pid % 250}.${Math.floor(ipCounter / 250)}.${ipCounter % 250}`;
  };
  beforeAll(async () => {
    t = await buildTestApp({ env: { LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_MAX_FAILURES_PER_IP: '5', TRUST_PROXY: '1' } });
  });
  afterAll(() => t.close());

  const login = (ip: string, email: string, password: string) => t.http.put('/api/auth').set('X-Forwarded-For', ip).send({ email, password });

  test('when an account has 3 failed logins from one address, then the right password from that address answers 429 with Retry-After and no token, and from another address logs in', async () => {
    const user = await buildUser(t);
    const ip = newIp();
    for (let i = 0; i < 3; i++) expect((await login(ip, user.email, 'wrong')).status).toBe(401);

    const res = await login(ip, user.email, user.password);

    expect(res.status).toBe(429);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toEqual({ message: expect.any(String) });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    // The owner elsewhere is not locked out by someone else's guesses.
    const owner = await login(newIp(), user.email, user.password);
    expect(owner.status).toBe(200);
    expect(owner.body.token).toEqual(expect.any(String));
  });

  test('when an account is blocked from some addresses, then other accounts still log in', async () => {
    const locked = await buildUser(t);
    const other = await buildUser(t);
    const ip = newIp();
    for (let i = 0; i < 3; i++) await login(newIp(), locked.email, 'wrong');

    const res = await login(ip, other.email, other.password);

    expect(res.status).toBe(200);
    expect(res.body.token).toEqual(expect.any(String));
  });

  test('when a login succeeds, then the account failure count starts again', async () => {
    const user = await buildUser(t);
    const ip = newIp();
    await login(ip, user.email, 'wrong');
    await login(ip, user.email, 'wrong');
    expect((await login(ip, user.email, user.password)).status).toBe(200);
    const ip2 = newIp();

    const third = await login(ip2, user.email, 'wrong');
    const fourth = await login(ip2, user.email, 'wrong');
    const success = await login(ip2, user.email, user.password);

    expect(third.status).toBe(401);
    expect(fourth.status).toBe(401);
    expect(success.status).toBe(200);
  });

  test('when 10 wrong passwords for one account arrive at once from one address, then at most 3 are checked and the rest get 429; from 10 addresses, none locks the owner out', async () => {
    const user = await buildUser(t);
    const ip = newIp();

    const results = await Promise.all(Array.from({ length: 10 }, () => login(ip, user.email, 'wrong')));

    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429, 429, 429, 429, 429]);
    expect((await login(ip, user.email, user.password)).status).toBe(429);

    const spread = await Promise.all(Array.from({ length: 10 }, () => login(newIp(), user.email, 'wrong')));
    expect(spread.map((r) => r.status)).toEqual(Array(10).fill(401));
    expect((await login(newIp(), user.email, user.password)).status).toBe(200);
  });

  test('when 10 wrong logins from one IP arrive at once, then at most 5 are checked and the rest get 429', async () => {
    const ip = newIp();

    const results = await Promise.all(Array.from({ length: 10 }, () => login(ip, `${unique('burst')}@test.jwt`, 'wrong')));

    expect(results.map((r) => r.status).sort()).toEqual([401, 401, 401, 401, 401, 429, 429, 429, 429, 429]);
  });

  test('when one IP logs in successfully many times, then successes do not count toward its limit', async () => {
    const ip = newIp();
    const user = await buildUser(t);

    for (let i = 0; i < 6; i++) expect((await login(ip, user.email, user.password)).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await login(ip, user.email, 'wrong')).status).toBe(401);

    expect((await login(ip, user.email, user.password)).status).toBe(200);
  });

  test('when one IP fails 5 logins across accounts, then that IP gets 429 while other IPs log in', async () => {
    const ip = newIp();
    const victim = await buildUser(t);
    for (let i = 0; i < 5; i++) expect((await login(ip, `${unique('nobody')}@test.jwt`, 'wrong')).status).toBe(401);

    const blocked = await login(ip, victim.email, victim.password);
    const elsewhere = await login(newIp(), victim.email, victim.password);

    expect(blocked.status).toBe(429);
    expect(blocked.body).toEqual({ message: expect.any(String) });
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(elsewhere.status).toBe(200);
  });
});
