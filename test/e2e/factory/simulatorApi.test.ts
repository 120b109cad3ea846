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

  test('when the vendor key is missing or wrong, then an order is refused with 401 JSON; the Bearer prefix is optional', async () => {
    const missing = await request(simulator.app).post('/api/order').send(buildOrderRequest());
    const wrong = await order(buildOrderRequest(), 'wrong');
    const bare = await request(simulator.app).post('/api/order').set('Authorization', apiKey).send(buildOrderRequest());
    const lowerCase = await request(simulator.app).post('/api/order').set('Authorization', `bearer ${apiKey}`).send(buildOrderRequest());

    expect([missing.status, missing.body]).toEqual([401, { message: 'invalid authentication' }]);
    expect([wrong.status, wrong.body]).toEqual([401, { message: 'invalid authentication' }]);
    expect(missing.headers['www-authenticate']).toBeUndefined();
    expect([bare.status, lowerCase.status]).toEqual([200, 200]);
  });

  test('when the body is incomplete or malformed, then the answers are production\'s: 400 without diner or order, 500 without items or with bad JSON', async () => {
    const valid = buildOrderRequest();

    const noDiner = await order({ order: valid.order });
    const noOrder = await order({ diner: valid.diner });
    const noItems = await order({ diner: valid.diner, order: { id: valid.order.id } });
    const badJson = await request(simulator.app).post('/api/order').set('content-type', 'application/json').send('{"diner":');
    // Production validates nothing else: a price that is not a number still makes a pizza.
    const badPrice = await order({ ...valid, order: { ...valid.order, items: [{ menuId: 1, description: 'Veggie', price: 'free' }] } });

    expect([noDiner.status, noDiner.body]).toEqual([400, { message: 'Missing required parameters' }]);
    expect([noOrder.status, noOrder.body]).toEqual([400, { message: 'Missing required parameters' }]);
    expect([noItems.status, noItems.body]).toEqual([500, { message: "Cannot read properties of undefined (reading 'length')" }]);
    // Malformed JSON is answered before authentication, with JSON.parse's own text and no CORS headers.
    expect(badJson.status).toBe(500);
    expect(badJson.body.message).toBe(jsonParseMessage('{"diner":'));
    expect(badJson.headers['access-control-allow-origin']).toBeUndefined();
    expect(badPrice.status).toBe(200);
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

    expect([tooMany.status, tooMany.body]).toEqual([503, { message: 'Unable to satisfy pizza order. The oven is full.' }]);
    expect(elapsedMs).toBeGreaterThanOrEqual(45);
    expect([none.status, none.body]).toEqual([503, { message: 'Unable to satisfy pizza order. The oven is full.' }]);
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

  test('when the JWKS is requested, then it lists the keys as production does: kty, kid, n, e only', async () => {
    const response = await request(simulator.app).get('/.well-known/jwks.json');

    expect(response.status).toBe(200);
    expect(response.body.keys).toEqual([{ kty: 'RSA', kid: expect.any(String), n: expect.any(String), e: 'AQAB' }]);
    expect(Object.keys(response.body.keys[0])).toEqual(['kty', 'kid', 'n', 'e']);
  });

  test('when the keys are rotated (extension), then pizzas signed before and after both verify and both keys are published', async () => {
    const before = await order(buildOrderRequest());
    const newKid = simulator.rotateKeys();
    const after = await order(buildOrderRequest());
    const jwks = await request(simulator.app).get('/.well-known/jwks.json');
    const kidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid;

    expect(jwks.body.keys.map((key: { kid: string }) => key.kid)).toEqual([newKid, kidOf(before.body.jwt)]);
    expect(kidOf(after.body.jwt)).toBe(newKid);
    for (const token of [before.body.jwt, after.body.jwt]) {
      expect((await request(simulator.app).post('/api/order/verify').send({ jwt: token })).body.message).toBe('valid');
    }
  });

  test('when the docs, health or an unknown path are requested, then each answers JSON and the docs hold no secrets', async () => {
    const docs = await request(simulator.app).get('/api/docs');
    const health = await request(simulator.app).get('/healthz');
    const unknown = await request(simulator.app).get('/prod/.env');

    expect(docs.status).toBe(200);
    expect(docs.body.message).toBe('welcome to JWT Pizza Factory');
    expect(docs.body.endpoints).toContainEqual(expect.objectContaining({ method: 'PUT', path: '/api/chaos/:type', simulatorExtension: true }));
    expect(docs.body.endpoints).toContainEqual(expect.objectContaining({ method: 'PUT', path: '/api/vendor/chaos/:type' }));
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

    // publicUrl (extension) replaces production's https://<Host hostname> base.
    expect([failed.status, failed.body]).toEqual([500, { message: 'chaos monkey', reportUrl: `http://factory.test/api/support/${apiKey}/report/${fixCode}` }]);
    const wrongKey = await request(simulator.app).get(`/api/support/wrong/report/${fixCode}`);
    const wrongCode = await request(simulator.app).get(`/api/support/${apiKey}/report/not-the-code`);
    const post = await request(simulator.app).post(reportUrl.pathname);
    expect([wrongKey.status, wrongKey.body]).toEqual([200, { message: 'No chaos currently executing' }]);
    expect([wrongCode.status, wrongCode.body]).toEqual([400, { message: 'Problem unresolved' }]);
    expect([post.status, post.body]).toEqual([404, { message: 'unknown endpoint' }]);
    expect(simulator.chaos.current()).not.toBeNull();

    const resolved = await request(simulator.app).get(reportUrl.pathname);
    const again = await request(simulator.app).get(reportUrl.pathname);

    expect([resolved.status, resolved.body]).toEqual([200, { message: 'Problem resolved. Pizza is back on the menu!' }]);
    expect([again.status, again.body]).toEqual([200, { message: 'No chaos currently executing' }]);
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
    expect([stale.status, stale.body]).toEqual([400, { message: 'Problem unresolved' }]);
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

  test('when chaos badjwt strikes, then every order gets the same string that is no JWS, and the factory itself calls it invalid', async () => {
    await admin(request(simulator.app).put('/api/chaos/badjwt'));

    const first = await order(buildOrderRequest());
    const second = await order(buildOrderRequest());
    const verified = await request(simulator.app).post('/api/order/verify').send({ jwt: first.body.jwt });
    const [header] = (first.body.jwt as string).split('.');

    expect(first.status).toBe(200);
    expect(first.body.reportUrl).toMatch(/\/api\/support\/.+\/report\//);
    expect(second.body.jwt).toBe(first.body.jwt);
    expect(() => JSON.parse(Buffer.from(header!, 'base64url').toString())).toThrow();
    expect([verified.status, verified.body]).toEqual([403, { message: 'invalid' }]);
  });

  test('when the vendor initiates chaos, then it starts at a random minute of the next day, 15:00-20:59 UTC, and orders are normal until then', async () => {
    const clock = { now: Date.parse('2026-12-04T22:47:01.421Z') };
    const dice = { roll: 0 };
    simulator = createFactorySimulator({ apiKey, adminKey, now: () => clock.now, random: () => dice.roll });
    const vendorPut = (type: string) => request(simulator.app).put(`/api/vendor/chaos/${type}`).set('Authorization', `Bearer ${apiKey}`);

    const earliest = await vendorPut('fail');
    const earliestStart = simulator.chaos.current()!.startsAt;
    dice.roll = 0.9999;
    await vendorPut('fail');
    const latestStart = simulator.chaos.current()!.startsAt;
    const pending = await order(buildOrderRequest());
    clock.now = latestStart;
    const started = await order(buildOrderRequest());

    expect([earliest.status, earliest.body]).toEqual([200, { message: 'Chaos initiated' }]);
    expect(new Date(earliestStart).toISOString()).toBe('2026-12-05T15:00:00.000Z');
    expect(new Date(latestStart).toISOString()).toBe('2026-12-05T20:59:00.000Z');
    expect(pending.status).toBe(200);
    expect(pending.body.reportUrl).toBeUndefined();
    expect(started.status).toBe(500);
  });

  test('when the vendor API is called without the vendor key, then it answers 401 before looking at the chaos type', async () => {
    const noKey = await request(simulator.app).put('/api/vendor/chaos/explode');
    const adminKeyUsed = await request(simulator.app).put('/api/vendor/chaos/fail').set('Authorization', `Bearer ${adminKey}`);
    const vendor = await request(simulator.app).get('/api/vendor');

    for (const response of [noKey, adminKeyUsed, vendor]) expect([response.status, response.body]).toEqual([401, { message: 'invalid authentication' }]);
    expect(simulator.chaos.current()).toBeNull();
  });

  describe('CORS (the browser verifies pizzas directly)', () => {
    test('when any origin sends a preflight to /api/order/verify, then its origin is echoed with credentials, as production does', async () => {
      const response = await request(simulator.app)
        .options('/api/order/verify')
        .set('Origin', 'http://localhost:5173')
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'content-type,authorization');

      expect(response.status).toBe(204);
      expect(response.headers['access-control-allow-origin']).toBe('http://localhost:5173');
      expect(response.headers['access-control-allow-credentials']).toBe('true');
      expect(response.headers['access-control-allow-headers']).toBe('Content-Type, Authorization');
      expect(response.headers['access-control-allow-methods']).toBe('GET, POST, PUT, DELETE');
      expect(response.headers.vary).toContain('Origin');
    });

    test('when a request has no Origin, then CORS allows any origin', async () => {
      const response = await request(simulator.app).get('/.well-known/jwks.json');

      expect(response.headers['access-control-allow-origin']).toBe('*');
      expect(response.headers['access-control-allow-credentials']).toBe('true');
    });

    test('when an origin list is configured (extension), then only those origins are allowed and other preflights are refused', async () => {
      simulator = createFactorySimulator({ apiKey, adminKey, corsOrigins: (origin) => origin === 'https://pizza.example' });

      const allowed = await request(simulator.app).post('/api/order/verify').set('Origin', 'https://pizza.example').send({ jwt: 'x' });
      const local = await request(simulator.app).options('/api/order/verify').set('Origin', 'http://localhost:5173');
      const actual = await request(simulator.app).post('/api/order/verify').set('Origin', 'https://evil.example').send({ jwt: 'x' });

      expect(allowed.headers['access-control-allow-origin']).toBe('https://pizza.example');
      expect([local.status, local.body]).toEqual([403, { message: 'origin not allowed' }]);
      expect(local.headers['access-control-allow-origin']).toBeUndefined();
      expect(actual.headers['access-control-allow-origin']).toBeUndefined();
    });
  });
});

function jsonParseMessage(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${text} parsed`);
}

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
