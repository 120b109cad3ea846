import { bearer, buildFranchise, buildTestApp, buildUser, FACTORY_ADMIN_KEY, metricValue, type TestApp } from '../helpers/app';

async function chaos(t: TestApp, type: string) {
  await fetch(`${t.simulator.url}/api/chaos/${type}`, { method: 'PUT', headers: { Authorization: `Bearer ${FACTORY_ADMIN_KEY}`, 'Content-Type': 'application/json' }, body: '{}' });
}

describe('metrics move with what happens', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ factoryTimeoutMs: 3000, env: { LOGIN_MAX_FAILURES_PER_ACCOUNT: '2' } });
  });
  afterAll(() => t.close());

  test('when the service starts, then every label set alerts divide by exists at 0', async () => {
    const text = (await t.http.get('/metrics')).text;
    for (const reason of ['factory_error', 'timeout', 'circuit_open', 'invalid_jwt']) expect(text).toContain(`pizza_purchases_total{outcome="failure",reason="${reason}"}`);
    expect(text).toContain('pizza_purchases_total{outcome="success",reason="none"}');
    expect(text).toContain('auth_attempts_total{action="login",outcome="failure"}');
    expect(text).toContain('http_suspicious_requests_total{category="dotenv"}');
    expect(text).toContain('rate_limited_requests_total{limiter="login"}');
  });

  test('when purchases succeed and fail for each reason, then the purchase counters, revenue and factory latency move', async () => {
    const franchise = await buildFranchise(t);
    const diner = await buildUser(t);
    const send = () => t.http.post('/api/order').set('Authorization', bearer(diner)).send({ franchiseId: franchise.id, storeId: franchise.store.id, items: [{ menuId: 1 }, { menuId: 2 }] });

    expect((await send()).status).toBe(200);
    expect(await metricValue(t, 'pizza_purchases_total', { outcome: 'success' })).toBe(1);
    expect(await metricValue(t, 'pizzas_sold_total')).toBe(2);
    expect(await metricValue(t, 'pizza_revenue_btc_total')).toBeCloseTo(0.008, 10);
    expect(await metricValue(t, 'pizza_factory_request_duration_seconds_count', { outcome: 'fulfilled' })).toBe(1);

    for (const [type, reason] of [['fail', 'factory_error'], ['badjwt', 'invalid_jwt'], ['throttle', 'timeout']]) {
      await chaos(t, type);
      const res = await send();
      expect(res.body.reason).toBe(reason);
      expect(await metricValue(t, 'pizza_purchases_total', { outcome: 'failure', reason })).toBe(1);
      expect(await metricValue(t, 'pizza_factory_request_duration_seconds_count', { outcome: reason })).toBe(1);
    }
    expect(await metricValue(t, 'pizza_revenue_btc_total')).toBeCloseTo(0.008, 10);
    expect(await metricValue(t, 'pizza_orders_pending')).toBe(0);
    t.simulator.simulator.chaos.end();
  });

  test('when users log in well and badly, then auth attempts count both, and a locked account counts a rate limit', async () => {
    const user = await buildUser(t);
    expect((await t.http.put('/api/auth').send({ email: user.email, password: user.password })).status).toBe(200);
    expect((await t.http.put('/api/auth').send({ email: user.email, password: 'wrong' })).status).toBe(401);
    expect((await t.http.put('/api/auth').send({ email: user.email, password: 'wrong' })).status).toBe(401);
    const limited = await t.http.put('/api/auth').send({ email: user.email, password: user.password });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(await metricValue(t, 'auth_attempts_total', { action: 'login', outcome: 'success' })).toBe(1);
    expect(await metricValue(t, 'auth_attempts_total', { action: 'login', outcome: 'failure' })).toBe(2);
    expect(await metricValue(t, 'rate_limited_requests_total', { limiter: 'login' })).toBe(1);
    expect(t.logs().some((l) => l.type === 'security' && l.event === 'rate_limit')).toBe(true);
  });

  test('when a scanner probes /prod/.env and /wp-login.php, then 404 JSON, counted by category, logged as security', async () => {
    const res = await t.http.get('/prod/.env');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ message: 'unknown endpoint' });
    await t.http.get('/wp-login.php');
    expect(await metricValue(t, 'http_suspicious_requests_total', { category: 'dotenv' })).toBe(1);
    expect(await metricValue(t, 'http_suspicious_requests_total', { category: 'wordpress' })).toBe(1);
    expect(t.logs().find((l) => l.type === 'security' && l.event === 'probe')).toMatchObject({ category: 'dotenv', path: '/prod/.env' });
  });

  test('when requests hit routes with ids, then the route label is the template, and unknown paths are "unmatched"', async () => {
    const user = await buildUser(t);
    await t.http.get(`/api/franchise/${user.id}`).set('Authorization', bearer(user));
    await t.http.get('/no/such/path/12345');
    const text = (await t.http.get('/metrics')).text;
    expect(text).toContain('http_requests_total{method="GET",route="/api/franchise/:userId",status_code="200"}');
    expect(text).toContain('route="unmatched"');
    expect(text).not.toContain('12345');
    expect(text).not.toContain(`/api/franchise/${user.id}"`);
    const line = t.logs().find((l) => l.type === 'http' && l.path === '/no/such/path/12345');
    expect(line).toMatchObject({ method: 'GET', route: 'unmatched', status: 404, reqId: expect.any(String), latencyMs: expect.any(Number), authorized: false });
  });

  test('when a signed-in diner reads their profile and their order history, then the access lines say authorized, with full paths', async () => {
    const user = await buildUser(t);
    await t.http.get('/api/user/me').set('Authorization', bearer(user));
    // The history checks the session in its own statement (auth.readOwn), not through requireUser.
    await t.http.get('/api/order?page=1').set('Authorization', bearer(user));
    await t.http.get('/api/order?page=1');

    const lines = t.logs().filter((l) => l.type === 'http' && (l.route === '/api/user/me' || l.route === '/api/order'));
    expect(lines.slice(-3).map((l) => [l.route, l.path, l.status, l.authorized])).toEqual([
      ['/api/user/me', '/api/user/me', 200, true],
      ['/api/order', '/api/order', 200, true],
      ['/api/order', '/api/order', 401, false],
    ]);
  });

  test('when a request fails inside a router (401 before the handler, 400 from validation), then its route label is still the route', async () => {
    const user = await buildUser(t);
    await t.http.post('/api/order').send({});
    await t.http.post('/api/order').set('Authorization', bearer(user)).send({ franchiseId: 'x' });
    await t.http.put(`/api/user/${user.id}`).set('Authorization', bearer(user)).send({ email: 'not an email' });

    const text = (await t.http.get('/metrics')).text;
    expect(text).toContain('http_requests_total{method="POST",route="/api/order",status_code="401"}');
    expect(text).toContain('http_requests_total{method="POST",route="/api/order",status_code="400"}');
    expect(text).toContain('http_requests_total{method="PUT",route="/api/user/:userId",status_code="400"}');
    expect(text).not.toMatch(/route="\/",status_code="40/);
  });

  test('when METRICS_TOKEN is set, then /metrics needs it', async () => {
    const secured = await buildTestApp({ env: { METRICS_TOKEN: 'metrics-token-1234' } });
    try {
      expect((await secured.http.get('/metrics')).status).toBe(401);
      expect((await secured.http.get('/metrics').set('Authorization', 'Bearer metrics-token-1234')).status).toBe(200);
    } finally {
      await secured.close();
    }
  });
});
