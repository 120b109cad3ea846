import { createHmac, createPublicKey, generateKeyPairSync, createSign } from 'node:crypto';
import { bearer, buildAdmin, buildTestApp, buildUser, type TestApp, type TestUser } from '../helpers/app';
import { fulfilledOrder, buildWorld } from './support';

// Token attacks (OWASP A07 / A02): the service accepts only HS256 tokens signed with its secret, naming
// a live session of the user in `sub`. Every forged token is built by hand so no library guard hides a flaw.

const b64url = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const decodePart = (token: string, index: 0 | 1) => JSON.parse(Buffer.from(token.split('.')[index], 'base64url').toString('utf8'));

function hmacToken(header: object, payload: object, secret: string | Buffer, algorithm = 'sha256'): string {
  const signingInput = `${b64url(header)}.${b64url(payload)}`;
  return `${signingInput}.${createHmac(algorithm, secret).update(signingInput).digest('base64url')}`;
}

describe('JWT attacks on the bearer token', () => {
  let t: TestApp;
  let admin: TestUser;
  let secret: string;
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    t = await buildTestApp();
    admin = await buildAdmin(t);
    secret = t.config.jwt.secret;
  });
  afterAll(() => t.close());

  async function expectRefused(token: string) {
    const me = await t.http.get('/api/user/me').set('Authorization', `Bearer ${token}`);
    expect([me.status, me.body]).toEqual([401, { message: 'unauthorized' }]);
    const adminOnly = await t.http.get('/api/user?page=1').set('Authorization', `Bearer ${token}`);
    expect(adminOnly.status).toBe(401);
  }

  test('when a genuine token is used, then it works (the control for every attack below)', async () => {
    const me = await t.http.get('/api/user/me').set('Authorization', bearer(admin));
    expect(me.status).toBe(200);
    expect(decodePart(admin.token, 0)).toEqual({ alg: 'HS256', typ: 'JWT' });
  });

  test('when the token says alg "none" (any casing, with or without a signature), then 401', async () => {
    const payload = decodePart(admin.token, 1);
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      await expectRefused(`${b64url({ alg, typ: 'JWT' })}.${b64url(payload)}.`);
      await expectRefused(`${b64url({ alg, typ: 'JWT' })}.${b64url(payload)}.${admin.token.split('.')[2]}`);
    }
  });

  test("when a token is HS256-signed with the factory's public key PEM as the secret (RS/HS confusion), then 401", async () => {
    const jwk = t.simulator.simulator.jwks().keys[0];
    const pem = createPublicKey({ key: jwk as any, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
    const payload = decodePart(admin.token, 1);
    await expectRefused(hmacToken({ alg: 'HS256', typ: 'JWT' }, payload, pem));
    await expectRefused(hmacToken({ alg: 'HS256', typ: 'JWT', kid: jwk.kid }, payload, pem));
    await expectRefused(hmacToken({ alg: 'HS256', typ: 'JWT' }, payload, JSON.stringify(jwk)));
  });

  test('when the token is RS256-signed by an attacker key, or is a genuine pizza JWT of the factory, then 401', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const payload = decodePart(admin.token, 1);
    const input = `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url(payload)}`;
    await expectRefused(`${input}.${createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url')}`);
    const world = await buildWorld(t);
    const pizza = await fulfilledOrder(t, world);
    await expectRefused(pizza.jwt);
  });

  test('when the payload is tampered (sub changed to the admin, exp pushed out) and the signature kept, then 401', async () => {
    const diner = await buildUser(t);
    const [header, , signature] = diner.token.split('.');
    const payload = decodePart(diner.token, 1);
    await expectRefused(`${header}.${b64url({ ...payload, sub: String(admin.id) })}.${signature}`);
    await expectRefused(`${header}.${b64url({ ...payload, exp: payload.exp + 86400 * 365 })}.${signature}`);
    await expectRefused(`${header}.${b64url({ ...payload, roles: [{ role: 'admin' }] })}.${signature}`);
  });

  test("when a correctly signed token names the admin but carries a diner's session, then 401 (sub and session must agree)", async () => {
    const diner = await buildUser(t);
    const dinerClaims = decodePart(diner.token, 1);
    await expectRefused(hmacToken({ alg: 'HS256', typ: 'JWT' }, { ...dinerClaims, sub: String(admin.id) }, secret));
  });

  test('when a correctly signed token is expired, then 401 even though its session is still live', async () => {
    const claims = decodePart(admin.token, 1);
    await expectRefused(hmacToken({ alg: 'HS256', typ: 'JWT' }, { ...claims, iat: now() - 7200, exp: now() - 3600 }, secret));
    // and the real token still works: only the expired copy is refused
    expect((await t.http.get('/api/user/me').set('Authorization', bearer(admin))).status).toBe(200);
  });

  test('when a token is signed with a wrong secret, or with our secret but HS512 / HS384, then 401', async () => {
    const claims = decodePart(admin.token, 1);
    await expectRefused(hmacToken({ alg: 'HS256', typ: 'JWT' }, claims, 'not-the-secret-but-just-as-long-0123456789abcdef'));
    await expectRefused(hmacToken({ alg: 'HS256', typ: 'JWT' }, claims, ''));
    await expectRefused(hmacToken({ alg: 'HS512', typ: 'JWT' }, claims, secret, 'sha512'));
    await expectRefused(hmacToken({ alg: 'HS384', typ: 'JWT' }, claims, secret, 'sha384'));
  });

  test('when a well-signed token names a session that does not exist, then 401', async () => {
    const claims = decodePart(admin.token, 1);
    await expectRefused(hmacToken({ alg: 'HS256', typ: 'JWT' }, { ...claims, sid: '00000000-0000-4000-8000-000000000000' }, secret));
    await expectRefused(hmacToken({ alg: 'HS256', typ: 'JWT' }, { ...claims, sid: "' OR '1'='1" }, secret));
    await expectRefused(hmacToken({ alg: 'HS256', typ: 'JWT' }, { sub: String(admin.id), exp: now() + 60 }, secret));
  });

  test('when the user logs out, then that token stops working and their other sessions keep working', async () => {
    const user = await buildUser(t);
    const other = await t.http.put('/api/auth').send({ email: user.email, password: user.password });
    expect((await t.http.delete('/api/auth').set('Authorization', bearer(user))).status).toBe(200);
    await expectRefused(user.token);
    expect((await t.http.delete('/api/auth').set('Authorization', bearer(user))).status).toBe(401);
    expect((await t.http.get('/api/user/me').set('Authorization', `Bearer ${other.body.token}`)).status).toBe(200);
  });

  test('when the user is deleted, then every token of theirs stops working, and a new account reusing the email does not revive them', async () => {
    const user = await buildUser(t);
    const second = await t.http.put('/api/auth').send({ email: user.email, password: user.password });
    expect((await t.http.delete(`/api/user/${user.id}`).set('Authorization', bearer(admin))).status).toBe(200);
    await expectRefused(user.token);
    await expectRefused(second.body.token);
    const reborn = await t.http.post('/api/auth').send({ name: 'reborn', email: user.email, password: 'pw-reborn' });
    expect(reborn.status).toBe(200);
    expect(reborn.body.user.id).not.toBe(user.id);
    await expectRefused(user.token);
  });

  test('when the session row is deleted behind the token (another instance logged it out), then 401', async () => {
    const user = await buildUser(t);
    const { sid } = decodePart(user.token, 1);
    await t.ctx.db.deleteFrom('sessions').where('id', '=', sid).execute();
    await expectRefused(user.token);
  });

  test('when a password is changed, then the other sessions of that user end and the caller gets a fresh token', async () => {
    const user = await buildUser(t);
    const other = await t.http.put('/api/auth').send({ email: user.email, password: user.password });
    const changed = await t.http.put(`/api/user/${user.id}`).set('Authorization', bearer(user)).send({ password: 'a-new-password' });
    expect(changed.status).toBe(200);
    await expectRefused(other.body.token);
    await expectRefused(user.token);
    expect((await t.http.get('/api/user/me').set('Authorization', `Bearer ${changed.body.token}`)).status).toBe(200);
  });

  test('when the token arrives anywhere but the Authorization header, or in a malformed header, then it is ignored', async () => {
    const cases: [string, (r: any) => any][] = [
      ['query', (r) => r.query({ token: admin.token })],
      ['cookie', (r) => r.set('Cookie', `token=${admin.token}`)],
      ['no scheme', (r) => r.set('Authorization', admin.token)],
      ['basic scheme', (r) => r.set('Authorization', `Basic ${admin.token}`)],
      ['two tokens', (r) => r.set('Authorization', `Bearer ${admin.token} ${admin.token}`)],
      ['garbage', (r) => r.set('Authorization', 'Bearer a.b.c')],
      ['huge', (r) => r.set('Authorization', `Bearer ${'a'.repeat(6000)}`)],
    ];
    for (const [name, apply] of cases) {
      const res = await apply(t.http.get('/api/user/me'));
      expect([name, res.status]).toEqual([name, 401]);
    }
  });

  test('when an invalid token is sent to a public page, then it is served anonymously (no admin detail, no error)', async () => {
    const forged = hmacToken({ alg: 'HS256', typ: 'JWT' }, decodePart(admin.token, 1), 'wrong-secret-wrong-secret-wrong-secret');
    const res = await t.http.get('/api/franchise?page=0&limit=10&name=*').set('Authorization', `Bearer ${forged}`);
    expect(res.status).toBe(200);
    expect(res.text).not.toMatch(/"admins"|"totalRevenue"/);
  });
});
