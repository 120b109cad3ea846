import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createFactorySimulator, type FactorySimulator } from '../../../src/factory/simulator';
import { buildOrderRequest, createLogCapture, startTestFactory } from './support';

describe('factory simulator HTTP API', () => {
  const apiKey = `vendor-key-${randomUUID()}`;
  const adminKey = `admin-key-${randomUUID()}`;
  let simulator: FactorySimulator;
  let logs: ReturnType<typeof createLogCapture>;

  beforeEach(() => {
    logs = createLogCapture();
    simulator = createFactorySimulator({ apiKey, adminKey, oven: { fullDelayMs: 50 }, publicUrl: () => 'http://factory.test', logger: logs.logger });
  });
  afterEach(() => simulator.dispose());

  const order = (body: unknown, key = apiKey) => request(simulator.app).post('/api/order').set('Authorization', `Bearer ${key}`).send(body as object);
  const admin = (test: request.Test, key = adminKey) => test.set('Authorization', `Bearer ${key}`);

  test('when the vendor key is missing or wrong, then an order is refused with 401 JSON', async () => {
    const missing = await request(simulator.app).post('/api/order').send(buildOrderRequest());
    const wrong = await order(buildOrderRequest(), 'wrong');

    expect([missing.status, missing.body]).toEqual([401, { message: 'unauthorized' }]);
    expect([wrong.status, wrong.body]).toEqual([401, { message: 'unauthorized' }]);
  });

  test('when the body is invalid, then 400 names the bad field', async () => {
    const valid = buildOrderRequest();

    const badPrice = await order({ ...valid, order: { ...valid.order, items: [{ menuId: 1, description: 'Veggie', price: 'free' }] } });
    const noDiner = await order({ order: valid.order });
    const badJson = await request(simulator.app).post('/api/order').set('Authorization', `Bearer ${apiKey}`).set('content-type', 'application/json').send('{"diner":');

    expect(badPrice.status).toBe(400);
    expect(badPrice.body.message).toMatch(/^invalid order\.items\.0\.price:/);
    expect(noDiner.status).toBe(400);
    expect(noDiner.body.message).toMatch(/^invalid diner:/);
    expect([badJson.status, badJson.body]).toEqual([400, { message: 'invalid JSON body' }]);
  });

  test('when an order has ids as numeric strings, then the pizza echoes them as sent', async () => {
    const valid = buildOrderRequest();
    const response = await order({ ...valid, order: { ...valid.order, storeId: '2' } });

    expect(response.status).toBe(200);
    const verified = await request(simulator.app).post('/api/order/verify').send({ jwt: response.body.jwt });
    expect(verified.body).toMatchObject({ message: 'valid', payload: { order: { storeId: '2' } } });
  });

  test('when an order has no items or more than 20, then after the oven delay the answer is 503 "The oven is full"', async () => {
    const item = { menuId: 1, description: 'Veggie', price: 0.0038 };
    const startedAt = performance.now();

    const tooMany = await order(buildOrderRequest({ items: Array.from({ length: 21 }, () => item) }));
    const elapsedMs = performance.now() - startedAt;
    const none = await order(buildOrderRequest({ items: [] }));
    const twenty = await order(buildOrderRequest({ items: Array.from({ length: 20 }, () => item) }));

    expect([tooMany.status, tooMany.body]).toEqual([503, { message: 'The oven is full' }]);
    expect(elapsedMs).toBeGreaterThanOrEqual(45);
    expect([none.status, none.body]).toEqual([503, { message: 'The oven is full' }]);
    expect(twenty.status).toBe(200);
  });

  test('when a JWT is verified, then a real pizza is valid and anything else is 403 invalid', async () => {
    const { body } = await order(buildOrderRequest());
    const [header, payload, signature] = (body.jwt as string).split('.');
    const tampered = `${header}.${payload}.${signature!.slice(0, -4)}AAAA`;

    const valid = await request(simulator.app).post('/api/order/verify').send({ jwt: body.jwt });
    const invalid = await request(simulator.app).post('/api/order/verify').send({ jwt: tampered });
    const missing = await request(simulator.app).post('/api/order/verify').send({});

    expect(valid.status).toBe(200);
    expect(valid.body.message).toBe('valid');
    expect([invalid.status, invalid.body]).toEqual([403, { message: 'invalid' }]);
    expect([missing.status, missing.body]).toEqual([403, { message: 'invalid' }]);
  });

  test('when the JWKS is requested, then it lists RS256 signing keys with kids and no private parts', async () => {
    const response = await request(simulator.app).get('/.well-known/jwks.json');

    expect(response.status).toBe(200);
    expect(response.body.keys).toEqual([{ kty: 'RSA', n: expect.any(String), e: 'AQAB', kid: expect.any(String), alg: 'RS256', use: 'sig' }]);
  });

  test('when the docs, health or an unknown path are requested, then each answers JSON and the docs hold no secrets', async () => {
    const docs = await request(simulator.app).get('/api/docs');
    const health = await request(simulator.app).get('/healthz');
    const unknown = await request(simulator.app).get('/prod/.env');

    expect(docs.status).toBe(200);
    expect(docs.body.endpoints).toContainEqual(expect.objectContaining({ method: 'PUT', path: '/api/chaos/:type' }));
    expect(JSON.stringify(docs.body)).not.toContain(apiKey);
    expect(JSON.stringify(docs.body)).not.toContain(adminKey);
    expect([health.status, health.body]).toEqual([200, { status: 'ok' }]);
    expect([unknown.status, unknown.body]).toEqual([404, { message: 'unknown endpoint' }]);
  });

  test('when chaos endpoints are called without the admin key, then they answer 401 and change nothing', async () => {
    const responses = await Promise.all([
      admin(request(simulator.app).put('/api/chaos/fail'), apiKey),
      request(simulator.app).put('/api/chaos/fail'),
      admin(request(simulator.app).get('/api/chaos'), 'nope'),
      admin(request(simulator.app).delete('/api/chaos'), apiKey),
    ]);

    expect(responses.map((response) => [response.status, response.body])).toEqual(Array(4).fill([401, { message: 'unauthorized' }]));
    expect(simulator.chaos.current()).toBeNull();
  });

  test('when the admin sets, shows and ends chaos, then the answers describe it and bad settings are refused', async () => {
    const set = await admin(request(simulator.app).put('/api/chaos/throttle')).send({ ratio: 0.25, delayMs: 100, burstMs: 1000, gapMs: 500 });
    const shown = await admin(request(simulator.app).get('/api/chaos'));
    const unknownType = await admin(request(simulator.app).put('/api/chaos/explode'));
    const badRatio = await admin(request(simulator.app).put('/api/chaos/fail')).send({ ratio: 2 });
    const halfBurst = await admin(request(simulator.app).put('/api/chaos/fail')).send({ burstMs: 1000 });

    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ message: 'chaos throttle activated', chaos: { type: 'throttle', ratio: 0.25, delayMs: 100, burstMs: 1000, gapMs: 500, activeNow: true, fixCode: expect.any(String) } });
    expect(shown.body.chaos).toEqual(set.body.chaos);
    expect(unknownType.status).toBe(400);
    expect(unknownType.body.message).toMatch(/unknown chaos type/);
    expect(badRatio.status).toBe(400);
    expect(badRatio.body.message).toMatch(/^invalid ratio:/);
    expect(halfBurst.status).toBe(400);
    expect(halfBurst.body.message).toMatch(/burstMs and gapMs go together/);
    expect(simulator.chaos.current()?.type).toBe('throttle');

    const ended = await admin(request(simulator.app).delete('/api/chaos'));
    const endedAgain = await admin(request(simulator.app).put('/api/chaos/none'));
    expect(ended.body).toEqual({ message: 'Chaos resolved', chaos: null });
    expect(endedAgain.body).toEqual({ message: 'No chaos active', chaos: null });
    expect((await admin(request(simulator.app).get('/api/chaos'))).body).toEqual({ chaos: null });
  });

  test('when chaos fail strikes, then the report URL ends it only with the right key and fix code, and the logs never show the key', async () => {
    await admin(request(simulator.app).put('/api/chaos/fail'));
    const failed = await order(buildOrderRequest());
    const reportUrl = new URL(failed.body.reportUrl as string);
    const fixCode = simulator.chaos.current()!.fixCode;

    expect([failed.status, failed.body]).toEqual([500, { message: 'chaos monkey', reportUrl: `http://factory.test/api/support/${apiKey}/report/${fixCode}` }]);
    const wrongKey = await request(simulator.app).get(`/api/support/wrong/report/${fixCode}`);
    const wrongCode = await request(simulator.app).get(`/api/support/${apiKey}/report/not-the-code`);
    expect([wrongKey.status, wrongKey.body]).toEqual([401, { message: 'unauthorized' }]);
    expect(wrongCode.status).toBe(404);
    expect(wrongCode.body).toEqual({ message: 'unknown report' });
    expect(simulator.chaos.current()).not.toBeNull();

    const resolved = await request(simulator.app).get(reportUrl.pathname);
    const again = await request(simulator.app).get(reportUrl.pathname);

    expect([resolved.status, resolved.body]).toEqual([200, { message: 'Chaos resolved' }]);
    expect([again.status, again.body]).toEqual([200, { message: 'No chaos active' }]);
    expect((await order(buildOrderRequest())).status).toBe(200);
    expect(logs.lines().map((line) => line.event)).toEqual(expect.arrayContaining(['activated', 'strike', 'resolved']));
    expect(logs.text()).not.toContain(apiKey);
    expect(logs.text()).not.toContain(adminKey);
  });

  test('when chaos is activated again, then it gets a new fix code and the old report URL no longer ends it', async () => {
    const first = simulator.chaos.activate('fail');
    const second = simulator.chaos.activate('badjwt');

    const stale = await request(simulator.app).get(`/api/support/${apiKey}/report/${first.fixCode}`);

    expect(second.fixCode).not.toBe(first.fixCode);
    expect(stale.status).toBe(404);
  });

  test('when chaos starts later, then orders before the start are served normally', async () => {
    let now = 1_000_000;
    simulator = createFactorySimulator({ apiKey, adminKey, now: () => now });
    await admin(request(simulator.app).put('/api/chaos/fail')).send({ startInMs: 60_000 });

    const before = await order(buildOrderRequest());
    now += 60_000;
    const after = await order(buildOrderRequest());

    expect(before.status).toBe(200);
    expect(before.body.reportUrl).toBeUndefined();
    expect(after.status).toBe(500);
  });

  test('when chaos badjwt strikes, then the JWT has the current kid but the factory itself calls it invalid', async () => {
    await admin(request(simulator.app).put('/api/chaos/badjwt'));

    const response = await order(buildOrderRequest());
    const verified = await request(simulator.app).post('/api/order/verify').send({ jwt: response.body.jwt });
    const kid = JSON.parse(Buffer.from((response.body.jwt as string).split('.')[0]!, 'base64url').toString()).kid;

    expect(response.status).toBe(200);
    expect(response.body.reportUrl).toMatch(/\/api\/support\/.+\/report\//);
    expect(kid).toBe(simulator.jwks().keys[0]!.kid);
    expect([verified.status, verified.body]).toEqual([403, { message: 'invalid' }]);
  });

  describe('CORS (the browser verifies pizzas directly)', () => {
    test('when an allowed origin sends a preflight to /api/order/verify, then its origin is echoed with credentials', async () => {
      const response = await request(simulator.app)
        .options('/api/order/verify')
        .set('Origin', 'http://localhost:5173')
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'content-type,authorization');

      expect(response.status).toBe(204);
      expect(response.headers['access-control-allow-origin']).toBe('http://localhost:5173');
      expect(response.headers['access-control-allow-credentials']).toBe('true');
      expect(response.headers['access-control-allow-headers']).toBe('Content-Type, Authorization');
      expect(response.headers['access-control-allow-methods']).toContain('POST');
      expect(response.headers.vary).toContain('Origin');
    });

    test('when an unlisted origin sends a preflight, then it is refused without CORS headers', async () => {
      const response = await request(simulator.app).options('/api/order/verify').set('Origin', 'https://evil.example').set('Access-Control-Request-Method', 'POST');
      const actual = await request(simulator.app).post('/api/order/verify').set('Origin', 'https://evil.example').send({ jwt: 'x' });

      expect([response.status, response.body]).toEqual([403, { message: 'origin not allowed' }]);
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
      expect(actual.headers['access-control-allow-origin']).toBeUndefined();
    });

    test('when a custom origin list is configured, then only those origins are allowed', async () => {
      simulator = createFactorySimulator({ apiKey, adminKey, corsOrigins: (origin) => origin === 'https://pizza.example' });

      const allowed = await request(simulator.app).post('/api/order/verify').set('Origin', 'https://pizza.example').send({ jwt: 'x' });
      const local = await request(simulator.app).options('/api/order/verify').set('Origin', 'http://localhost:5173');

      expect(allowed.headers['access-control-allow-origin']).toBe('https://pizza.example');
      expect(local.status).toBe(403);
    });
  });
});

describe('factory simulator server', () => {
  test('when it is closed with a throttled order pending, then it closes promptly', async () => {
    const factory = await startTestFactory({ throttleDelayMs: 20_000 });
    await factory.admin('PUT', '/api/chaos/throttle');
    const pending = fetch(`${factory.url}/api/order`, {
      method: 'POST',
      headers: { authorization: `Bearer ${factory.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(buildOrderRequest()),
    }).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 100));

    const startedAt = performance.now();
    await factory.close();

    expect(performance.now() - startedAt).toBeLessThan(1000);
    expect(String(await pending)).toMatch(/fetch failed/);
    expect(factory.simulator.stats().orderRequests).toBe(1);
  });
});
