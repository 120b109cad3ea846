import { createPublicKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { createFactoryClient, type LateFactoryAnswer } from '../../../src/factory/client';
import type { FactoryClient } from '../../../src/factory/types';
import { buildOrderRequest, closedPort, createLogCapture, expectDinerSafe, manualClock, startTestFactory, type TestFactory } from './support';

describe('factory client against the simulator', () => {
  let factory: TestFactory;
  let client: FactoryClient;
  let logs: ReturnType<typeof createLogCapture>;

  beforeEach(async () => {
    factory = await startTestFactory();
    logs = createLogCapture();
    client = createFactoryClient({ url: factory.url, apiKey: factory.apiKey, timeoutMs: 2000, logger: logs.logger });
  });

  afterEach(async () => {
    await client.close();
    await factory.close();
  });

  test('when the factory is healthy, then the pizza is fulfilled with a JWT that verifies at the factory and against the JWKS', async () => {
    const request = buildOrderRequest();

    const outcome = await client.createPizza(request);

    if (outcome.kind !== 'fulfilled') throw new Error(`expected fulfilled, got ${JSON.stringify(outcome)}`);
    expect(outcome.reportUrl).toBeUndefined();
    const verification = await fetch(`${factory.url}/api/order/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jwt: outcome.jwt }),
    });
    expect(verification.status).toBe(200);
    expect(await verification.json()).toMatchObject({ message: 'valid', payload: { order: request.order, diner: request.diner } });

    const { header } = jwt.decode(outcome.jwt, { complete: true }) as jwt.Jwt;
    const jwk = factory.simulator.jwks().keys.find((key) => key.kid === header.kid);
    expect(jwk).toBeDefined();
    const payload = jwt.verify(outcome.jwt, createPublicKey({ key: { ...jwk }, format: 'jwk' }), { algorithms: ['RS256'] }) as jwt.JwtPayload;
    // As production: the registered claims are in the protected header, the payload is vendor + diner + order.
    expect(payload).toEqual({ vendor: { id: expect.any(String), name: expect.any(String) }, diner: request.diner, order: request.order });
    const claims = header as unknown as { iat: number; exp: number; iss: string };
    expect(claims.iss).toBe('cs329.click');
    expect(claims.exp - claims.iat).toBe(24 * 60 * 60);
    expect(Math.abs(claims.iat * 1000 - Date.now())).toBeLessThan(60_000);
    expect(client.state()).toMatchObject({ circuit: 'closed', consecutiveFailures: 0, lastError: null, activeReportUrl: null });
  });

  test('when orders follow each other, then they reuse their keep-alive connections', async () => {
    // The first order also fetches the factory's keys, right as its own connection is being handed back.
    expect((await client.createPizza(buildOrderRequest())).kind).toBe('fulfilled');
    const connectionsAfterFirst = factory.connectionsAccepted();
    expect(connectionsAfterFirst).toBeLessThanOrEqual(2);

    for (let i = 0; i < 5; i++) expect((await client.createPizza(buildOrderRequest())).kind).toBe('fulfilled');

    expect(factory.simulator.stats().orderRequests).toBe(6);
    expect(factory.connectionsAccepted()).toBe(connectionsAfterFirst);
    expect(client.state().recentLatencyMs.samples).toBe(6);
    expect(client.state().recentLatencyMs.p50).toEqual(expect.any(Number));
  });

  test('when chaos fail is on, then the outcome is factory_error with the raw report URL, state shows it redacted, and calling it ends the chaos', async () => {
    await factory.admin('PUT', '/api/chaos/fail');

    const outcome = await client.createPizza(buildOrderRequest());

    expect(outcome).toMatchObject({ kind: 'failed', reason: 'factory_error', factoryStatus: 500, message: 'The pizza factory could not make your order' });
    expectDinerSafe(outcome, factory.apiKey);
    const reportUrl = outcome.reportUrl!;
    expect(reportUrl).toContain(factory.apiKey);
    // Production's form: https, the hostname the request was sent to, no port.
    expect(reportUrl.startsWith(`https://${new URL(factory.url).hostname}/api/support/`)).toBe(true);
    const state = client.state();
    expect(state.activeReportUrl).toBe(reportUrl.replace(factory.apiKey, '[REDACTED]'));
    expect(state.lastError).toMatchObject({ reason: 'factory_error', message: 'factory answered 500: chaos monkey' });
    expect(factory.simulator.stats().orderRequests).toBe(1); // a 5xx is never retried

    // The simulator listens on plain http: the report URL's path is called on its origin.
    const report = await fetch(new URL(new URL(reportUrl).pathname, factory.url));
    expect(report.status).toBe(200);
    expect(await report.json()).toEqual({ message: 'Problem resolved. Pizza is back on the menu!' });

    expect((await client.createPizza(buildOrderRequest())).kind).toBe('fulfilled');
    expect(client.state().activeReportUrl).toBeNull();
  });

  test('when a factory call is logged, then the log has the factory event fields and never the API key or the pizza JWT', async () => {
    const fulfilled = await client.createPizza(buildOrderRequest());
    await factory.admin('PUT', '/api/chaos/fail');
    await client.createPizza(buildOrderRequest());

    if (fulfilled.kind !== 'fulfilled') throw new Error('expected fulfilled');
    const orderEvents = logs.lines().filter((line) => line.type === 'factory' && line.url === '/api/order');
    expect(orderEvents).toEqual([
      expect.objectContaining({ method: 'POST', status: 200, outcome: 'fulfilled', latencyMs: expect.any(Number) }),
      expect.objectContaining({ method: 'POST', status: 500, outcome: 'failed', reason: 'factory_error', reportUrl: expect.stringContaining('/api/support/[REDACTED]/report/') }),
    ]);
    expect(logs.text()).not.toContain(factory.apiKey);
    expect(logs.text()).not.toContain(fulfilled.jwt);
    expect(logs.text()).not.toContain(fulfilled.jwt.split('.')[2]);
  });

  test('when chaos badjwt is on, then the 200 answer is not a sale (invalid_jwt) until the chaos is deleted', async () => {
    await factory.admin('PUT', '/api/chaos/badjwt');

    const outcome = await client.createPizza(buildOrderRequest());

    expect(outcome).toMatchObject({ kind: 'failed', reason: 'invalid_jwt', factoryStatus: 200, message: 'The pizza factory returned an invalid pizza' });
    expectDinerSafe(outcome, factory.apiKey);
    expect(outcome.reportUrl).toContain('/report/');
    // Production's badjwt answer is a constant string that does not even decode.
    expect(client.state().lastError?.message).toMatch(/^pizza JWT rejected: not a JWT/);

    expect((await factory.admin('DELETE', '/api/chaos')).body).toMatchObject({ message: 'Chaos resolved' });
    expect((await client.createPizza(buildOrderRequest())).kind).toBe('fulfilled');
  });

  test('when the factory hangs (throttle), then the outcome is timeout within the budget and the factory keeps serving others', async () => {
    await client.close();
    client = createFactoryClient({ url: factory.url, apiKey: factory.apiKey, timeoutMs: 300 });
    await factory.admin('PUT', '/api/chaos/throttle', { delayMs: 1500 });

    const startedAt = performance.now();
    const pending = client.createPizza(buildOrderRequest());
    const health = await fetch(`${factory.url}/healthz`);
    const outcome = await pending;
    const elapsedMs = performance.now() - startedAt;

    expect(health.status).toBe(200);
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'timeout', message: 'The pizza factory took too long to answer' });
    expect(outcome.kind === 'failed' && outcome.factoryStatus).toBeFalsy();
    expect(elapsedMs).toBeGreaterThanOrEqual(290);
    expect(elapsedMs).toBeLessThan(1000);
    expect(factory.simulator.stats().orderRequests).toBe(1); // a timeout is never retried
  });

  test('when the factory answers after the timeout, then the outcome stays timeout, the late answer is reported once per kept call (up to the cap) and nothing is re-sent', async () => {
    await client.close();
    const answers: LateFactoryAnswer[] = [];
    client = createFactoryClient({ url: factory.url, apiKey: factory.apiKey, timeoutMs: 300, logger: logs.logger, lateAnswer: { windowMs: 5000, maxOpen: 1, onAnswer: (answer) => void answers.push(answer) } });
    await factory.admin('PUT', '/api/chaos/throttle', { delayMs: 1500 });
    const kept = buildOrderRequest();
    const beyondCap = buildOrderRequest();

    const startedAt = performance.now();
    const outcomes = await Promise.all([client.createPizza(kept), client.createPizza(beyondCap)]);
    expect(performance.now() - startedAt).toBeLessThan(1000);
    for (const outcome of outcomes) expect(outcome).toMatchObject({ kind: 'failed', reason: 'timeout' });
    expect(client.state().activeReportUrl).toBeNull();

    for (const until = Date.now() + 5000; answers.length === 0 && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(answers).toEqual([{ orderId: kept.order.id, status: 200, pizzaMade: true, reportUrl: expect.stringContaining(factory.apiKey) }]);
    expect(client.state().activeReportUrl).toMatch(/\/api\/support\/\[REDACTED\]\/report\/[a-z0-9]{8}$/);
    const late = logs.lines().filter((line) => line.event === 'late_answer');
    expect(late).toEqual([expect.objectContaining({ type: 'factory', orderId: kept.order.id, status: 200, pizzaMade: true, reportUrl: expect.stringContaining('[REDACTED]') })]);
    expect(logs.text()).not.toContain(factory.apiKey);
    expect(factory.simulator.stats().orderRequests).toBe(2);
  });

  test('when the throttle is shorter than the timeout, then the pizza is fulfilled and still carries the report URL', async () => {
    await factory.admin('PUT', '/api/chaos/throttle', { delayMs: 100 });

    const outcome = await client.createPizza(buildOrderRequest());

    expect(outcome).toMatchObject({ kind: 'fulfilled', reportUrl: expect.stringContaining(factory.apiKey) });
    expect(outcome.latencyMs).toBeGreaterThanOrEqual(90);
    expect(client.state().activeReportUrl).toMatch(/\/api\/support\/\[REDACTED\]\/report\/[a-z0-9]{8}$/);
  });

  test('when the vendor key is wrong, then the outcome is factory_error 401 and the circuit stays closed', async () => {
    await client.close();
    client = createFactoryClient({ url: factory.url, apiKey: 'not-the-key', circuit: { failureThreshold: 2 } });

    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await client.createPizza(buildOrderRequest()));

    expect(outcomes.map((outcome) => outcome.kind === 'failed' && [outcome.reason, outcome.factoryStatus])).toEqual([
      ['factory_error', 401],
      ['factory_error', 401],
      ['factory_error', 401],
    ]);
    expect(client.state().circuit).toBe('closed');
  });

  test('when the factory is down (connection refused), then the outcome is factory_error quickly after bounded retries', async () => {
    const port = await closedPort();
    const downLogs = createLogCapture();
    const downClient = createFactoryClient({ url: `http://127.0.0.1:${port}`, apiKey: factory.apiKey, timeoutMs: 5000, logger: downLogs.logger });

    const startedAt = performance.now();
    const outcome = await downClient.createPizza(buildOrderRequest());
    const elapsedMs = performance.now() - startedAt;
    await downClient.close();

    expect(outcome).toMatchObject({ kind: 'failed', reason: 'factory_error', message: 'The pizza factory could not make your order' });
    expect(outcome.kind === 'failed' && outcome.factoryStatus).toBeUndefined();
    expect(elapsedMs).toBeLessThan(1000);
    expect(downClient.state().lastError?.message).toBe('factory unreachable: ECONNREFUSED');
    expect(downLogs.lines().find((line) => line.url === '/api/order')).toMatchObject({ attempts: 3, reason: 'factory_error' });
  });

  test('when the client is closed, then further orders fail without reaching the factory', async () => {
    await client.close();

    const outcome = await client.createPizza(buildOrderRequest());

    expect(outcome).toMatchObject({ kind: 'failed', reason: 'factory_error' });
    expect(factory.simulator.stats().orderRequests).toBe(0);
  });
});

describe('partial and bursty chaos through the client', () => {
  let factory: TestFactory;
  let client: FactoryClient;
  afterEach(async () => {
    await client.close();
    await factory.close();
  });

  test('when chaos has ratio 0.5 and the dice are fixed, then exactly the picked orders fail', async () => {
    const dice = [0.1, 0.9, 0.49, 0.5, 0.2];
    factory = await startTestFactory({ random: () => dice.shift() ?? 0.99 });
    client = createFactoryClient({ url: factory.url, apiKey: factory.apiKey, circuit: { failureThreshold: 10 } });
    await factory.admin('PUT', '/api/chaos/fail', { ratio: 0.5 });

    const kinds = [];
    for (let i = 0; i < 5; i++) {
      const outcome = await client.createPizza(buildOrderRequest());
      kinds.push(outcome.kind === 'failed' ? outcome.reason : outcome.kind);
    }

    expect(kinds).toEqual(['factory_error', 'fulfilled', 'factory_error', 'fulfilled', 'factory_error']);
  });

  test('when chaos comes in 5-minute bursts with 1-minute gaps (2025-11-26), then orders fail only inside bursts and gaps carry no report URL', async () => {
    const clock = manualClock();
    factory = await startTestFactory({ now: clock.now });
    client = createFactoryClient({ url: factory.url, apiKey: factory.apiKey, circuit: { failureThreshold: 100 } });
    const minute = 60_000;
    await factory.admin('PUT', '/api/chaos/fail', { startInMs: minute, burstMs: 5 * minute, gapMs: minute });

    const timeline: [number, string][] = [];
    let currentMinute = 0;
    for (const atMinute of [0, 1, 3, 5.9, 6, 6.5, 7, 12, 13, 17]) {
      clock.advance((atMinute - currentMinute) * minute);
      currentMinute = atMinute;
      const outcome = await client.createPizza(buildOrderRequest());
      timeline.push([atMinute, outcome.kind === 'failed' ? `${outcome.reason}${outcome.reportUrl ? '+report' : ''}` : `fulfilled${outcome.reportUrl ? '+report' : ''}`]);
    }

    expect(timeline).toEqual([
      [0, 'fulfilled'],
      [1, 'factory_error+report'],
      [3, 'factory_error+report'],
      [5.9, 'factory_error+report'],
      [6, 'fulfilled'],
      [6.5, 'fulfilled'],
      [7, 'factory_error+report'],
      [12, 'fulfilled'],
      [13, 'factory_error+report'],
      [17, 'factory_error+report'],
    ]);
    expect((await factory.admin('GET', '/api/chaos')).body).toMatchObject({ chaos: { type: 'fail', burstMs: 5 * minute, gapMs: minute, activeNow: true } });
  });
});
