import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createFactoryClient, type LateFactoryAnswer } from '../../../src/factory/client';
import type { FactoryClient, FactoryOrderRequest } from '../../../src/factory/types';
import { insideValidity, RECORDED_API_KEY, recording, type Recording } from './recordings';

// (b) The factory client against a stub that answers each order with a recorded production response: the status,
// the body and (scaled down) the delay. The JWKS is the recorded one, the clock inside the recorded pizza's validity.

/** The factory's ~32 s holds (throttle, oven full) scaled down so the suite stays fast. */
const SCALED_HOLD_MS = 400;

const jwks = recording('01-jwks');
const healthy = recording('02-order-healthy');
const request = healthy.request.body as FactoryOrderRequest;

async function startReplayingFactory() {
  const state = { answer: healthy, authorizations: [] as (string | undefined)[] };
  const app = express();
  app.use(express.json());
  app.get('/.well-known/jwks.json', (_req, res) => {
    res.status(jwks.response.status).json(jwks.response.body);
  });
  app.post('/api/order', (req, res) => {
    state.authorizations.push(req.get('authorization'));
    const { response, elapsedMs } = state.answer;
    setTimeout(() => res.status(response.status).json(response.body), elapsedMs > 5000 ? SCALED_HOLD_MS : 0);
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    replay(answer: Recording) {
      state.answer = answer;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('the factory client against recorded production answers', () => {
  let factory: Awaited<ReturnType<typeof startReplayingFactory>>;
  let client: FactoryClient;
  const lateAnswers: LateFactoryAnswer[] = [];

  beforeAll(async () => {
    factory = await startReplayingFactory();
  });
  afterAll(async () => {
    await factory.close();
  });
  afterEach(async () => {
    await client?.close();
    lateAnswers.length = 0;
  });

  function clientWith(timeoutMs: number) {
    client = createFactoryClient({
      url: factory.url,
      apiKey: RECORDED_API_KEY,
      timeoutMs,
      now: () => insideValidity(healthy),
      circuit: { failureThreshold: 100 },
      lateAnswer: { windowMs: 5000, onAnswer: (answer) => void lateAnswers.push(answer) },
    });
    return client;
  }

  test('02 healthy: the production pizza (claims in the JWS header) is fulfilled, with no report URL', async () => {
    factory.replay(healthy);
    const outcome = await clientWith(2000).createPizza(request);
    expect(outcome).toEqual({ kind: 'fulfilled', jwt: healthy.response.body.jwt, latencyMs: expect.any(Number) });
    expect(factory.state.authorizations.at(-1)).toBe(`Bearer ${RECORDED_API_KEY}`);
  });

  // Each recorded failure and what the order becomes. The report URL travels on for on-call where the factory sent one.
  const failures: [string, { reason: string; factoryStatus: number }][] = [
    ['10-order-chaos-fail', { reason: 'factory_error', factoryStatus: 500 }],
    ['11-order-chaos-badjwt', { reason: 'invalid_jwt', factoryStatus: 200 }],
    ['05-order-wrong-key', { reason: 'factory_error', factoryStatus: 401 }],
    ['06-order-no-auth', { reason: 'factory_error', factoryStatus: 401 }],
    ['07-order-missing-order', { reason: 'factory_error', factoryStatus: 400 }],
    ['07b-order-without-items', { reason: 'factory_error', factoryStatus: 500 }],
    ['08-order-empty-items', { reason: 'factory_error', factoryStatus: 503 }],
    ['09-order-21-items', { reason: 'factory_error', factoryStatus: 503 }],
  ];
  test.each(failures)('%s: the order fails %o, carrying the recorded report URL when there is one', async (name, expected) => {
    const answer = recording(name);
    expect(answer.response.status).toBe(expected.factoryStatus);
    factory.replay(answer);
    const outcome = await clientWith(2000).createPizza(request);
    expect(outcome).toMatchObject({ kind: 'failed', ...expected });
    expect(outcome.kind === 'failed' && outcome.reportUrl).toBe(answer.response.body.reportUrl ?? undefined);
    expect(outcome.kind === 'failed' && outcome.message).not.toContain(RECORDED_API_KEY);
  });

  test('401 and 400 answers judge our request, not the factory\'s health: they do not open the circuit', async () => {
    client = createFactoryClient({ url: factory.url, apiKey: RECORDED_API_KEY, now: () => insideValidity(healthy), circuit: { failureThreshold: 2 } });
    for (const name of ['05-order-wrong-key', '06-order-no-auth', '07-order-missing-order']) {
      factory.replay(recording(name));
      await client.createPizza(request);
      await client.createPizza(request);
    }
    expect(client.state().circuit).toBe('closed');
    factory.replay(recording('10-order-chaos-fail'));
    await client.createPizza(request);
    await client.createPizza(request);
    expect(client.state().circuit).toBe('open');
  });

  test('12 throttle answered within our timeout: the valid pizza is fulfilled and keeps the report URL', async () => {
    const throttle = recording('12-order-chaos-throttle');
    factory.replay(throttle);
    const outcome = await clientWith(5000).createPizza(request);
    expect(outcome).toMatchObject({ kind: 'fulfilled', jwt: throttle.response.body.jwt, reportUrl: throttle.response.body.reportUrl });
  });

  test('12 throttle past our timeout: the order fails timeout, and the late answer brings the pizza and the report URL', async () => {
    const throttle = recording('12-order-chaos-throttle');
    factory.replay(throttle);
    const outcome = await clientWith(100).createPizza(request);
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'timeout' });
    for (let waited = 0; lateAnswers.length === 0 && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lateAnswers).toEqual([{ orderId: request.order.id, status: 200, pizzaMade: true, reportUrl: throttle.response.body.reportUrl }]);
  });
});
