import { createFactoryClient } from '../../../src/factory/client';
import type { FactoryClient } from '../../../src/factory/types';
import { buildOrderRequest, createLogCapture, expectDinerSafe, manualClock, startTestFactory, type TestFactory } from './support';

describe('factory client circuit breaker against the simulator', () => {
  const cooldownMs = 10_000;
  let factory: TestFactory;
  let client: FactoryClient;
  let clock: ReturnType<typeof manualClock>;
  let logs: ReturnType<typeof createLogCapture>;

  beforeEach(async () => {
    factory = await startTestFactory();
    clock = manualClock();
    logs = createLogCapture();
    client = createFactoryClient({ url: factory.url, apiKey: factory.apiKey, timeoutMs: 2000, circuit: { failureThreshold: 3, cooldownMs }, now: clock.now, logger: logs.logger });
  });

  afterEach(async () => {
    await client.close();
    await factory.close();
  });

  async function failThreeTimes(): Promise<void> {
    for (let i = 0; i < 3; i++) expect(await client.createPizza(buildOrderRequest())).toMatchObject({ reason: 'factory_error', factoryStatus: 500 });
  }

  test('when 3 calls fail in a row, then the circuit opens and the next call fails fast without reaching the factory', async () => {
    await factory.admin('PUT', '/api/chaos/fail');
    await failThreeTimes();
    expect(client.state()).toMatchObject({ circuit: 'open', consecutiveFailures: 3 });
    // From now on the factory holds every order for a minute: a client that called it would wait out its 2 s
    // timeout and answer `timeout`. Failing fast is answering `circuit_open` without a request to the factory.
    await factory.admin('PUT', '/api/chaos/throttle', { delayMs: 60_000 });

    const outcome = await client.createPizza(buildOrderRequest());

    expect(outcome).toMatchObject({ kind: 'failed', reason: 'circuit_open' });
    expectDinerSafe(outcome, factory.apiKey);
    expect(factory.simulator.stats().orderRequests).toBe(3);
    expect(client.state().lastError?.reason).toBe('factory_error');
    expect(logs.lines().filter((line) => line.event === 'circuit')).toEqual([expect.objectContaining({ from: 'closed', to: 'open', consecutiveFailures: 3 })]);
  });

  test('when the cooldown has passed, then the circuit half-opens and a successful probe closes it', async () => {
    await factory.admin('PUT', '/api/chaos/fail');
    await failThreeTimes();
    clock.advance(cooldownMs - 1);
    expect(client.state().circuit).toBe('open');
    expect((await client.createPizza(buildOrderRequest())).kind).toBe('failed');
    expect(factory.simulator.stats().orderRequests).toBe(3);

    clock.advance(1);
    expect(client.state().circuit).toBe('half_open');
    await factory.admin('DELETE', '/api/chaos');
    const probe = await client.createPizza(buildOrderRequest());

    expect(probe.kind).toBe('fulfilled');
    expect(factory.simulator.stats().orderRequests).toBe(4);
    expect(client.state()).toMatchObject({ circuit: 'closed', consecutiveFailures: 0 });
    expect((await client.createPizza(buildOrderRequest())).kind).toBe('fulfilled');
  });

  test('when the half-open probe fails, then the circuit opens again for a full cooldown', async () => {
    await factory.admin('PUT', '/api/chaos/fail');
    await failThreeTimes();
    clock.advance(cooldownMs);

    const probe = await client.createPizza(buildOrderRequest());

    expect(probe).toMatchObject({ reason: 'factory_error', factoryStatus: 500 });
    expect(client.state()).toMatchObject({ circuit: 'open', consecutiveFailures: 4 });
    expect(await client.createPizza(buildOrderRequest())).toMatchObject({ reason: 'circuit_open' });
    expect(factory.simulator.stats().orderRequests).toBe(4);
    clock.advance(cooldownMs);
    expect(client.state().circuit).toBe('half_open');
  });

  test('when the circuit is half-open, then only one probe reaches the factory while it is in flight', async () => {
    await factory.admin('PUT', '/api/chaos/fail');
    await failThreeTimes();
    await factory.admin('PUT', '/api/chaos/throttle', { delayMs: 200 });
    clock.advance(cooldownMs);

    const [probe, concurrent] = await Promise.all([client.createPizza(buildOrderRequest()), client.createPizza(buildOrderRequest())]);

    expect(probe.kind).toBe('fulfilled');
    expect(concurrent).toMatchObject({ kind: 'failed', reason: 'circuit_open' });
    expect(factory.simulator.stats().orderRequests).toBe(4);
    expect(client.state().circuit).toBe('closed');
  });

  test('when a success comes between failures, then the failure count starts over and the circuit stays closed', async () => {
    const dice = [0, 0, 0.99, 0, 0];
    await factory.close();
    factory = await startTestFactory({ random: () => dice.shift() ?? 0.99 });
    await client.close();
    client = createFactoryClient({ url: factory.url, apiKey: factory.apiKey, circuit: { failureThreshold: 3, cooldownMs }, now: clock.now });
    await factory.admin('PUT', '/api/chaos/fail', { ratio: 0.5 });

    const kinds = [];
    for (let i = 0; i < 5; i++) kinds.push((await client.createPizza(buildOrderRequest())).kind);

    expect(kinds).toEqual(['failed', 'failed', 'fulfilled', 'failed', 'failed']);
    expect(client.state()).toMatchObject({ circuit: 'closed', consecutiveFailures: 2 });
  });

  test('when invalid pizzas keep coming (badjwt), then they count as failures and open the circuit', async () => {
    await factory.admin('PUT', '/api/chaos/badjwt');

    for (let i = 0; i < 3; i++) expect(await client.createPizza(buildOrderRequest())).toMatchObject({ reason: 'invalid_jwt' });

    expect(client.state().circuit).toBe('open');
  });
});
