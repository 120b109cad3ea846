import { createHmac, generateKeyPairSync, randomUUID, sign as rsaSign, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import jwt from 'jsonwebtoken';
import { createFactoryClient } from '../../../src/factory/client';
import type { FactoryClient, FactoryOrderRequest } from '../../../src/factory/types';
import { buildOrderRequest, createLogCapture, manualClock, startTestFactory, type TestFactory } from './support';

describe('pizza JWT verification: key rotation with the simulator', () => {
  let factory: TestFactory;
  let client: FactoryClient;
  afterEach(async () => {
    await client.close();
    await factory.close();
  });

  test('when the factory rotates its key, then the unknown kid triggers one JWKS refetch and the pizza verifies', async () => {
    const clock = manualClock();
    factory = await startTestFactory();
    client = createFactoryClient({ url: factory.url, apiKey: factory.apiKey, now: clock.now, jwksMinRefreshIntervalMs: 5000 });
    expect((await client.createPizza(buildOrderRequest())).kind).toBe('fulfilled');
    expect((await client.createPizza(buildOrderRequest())).kind).toBe('fulfilled');
    expect(factory.simulator.stats().jwksRequests).toBe(1);

    factory.simulator.rotateKeys();
    clock.advance(5000);
    const afterRotation = await client.createPizza(buildOrderRequest());

    expect(afterRotation.kind).toBe('fulfilled');
    expect(factory.simulator.stats().jwksRequests).toBe(2);
    expect(factory.simulator.jwks().keys).toHaveLength(2);
  });

  test('when the key cache outlives its TTL, then the JWKS is fetched again', async () => {
    const clock = manualClock();
    factory = await startTestFactory();
    client = createFactoryClient({ url: factory.url, apiKey: factory.apiKey, now: clock.now, jwksTtlMs: 60_000 });
    await client.createPizza(buildOrderRequest());
    clock.advance(59_999);
    await client.createPizza(buildOrderRequest());
    expect(factory.simulator.stats().jwksRequests).toBe(1);

    clock.advance(1);
    expect((await client.createPizza(buildOrderRequest())).kind).toBe('fulfilled');

    expect(factory.simulator.stats().jwksRequests).toBe(2);
  });
});

/**
 * A second factory, written here, that answers orders with whatever token a test wants and publishes its own
 * keys: it lets the tests hand the real client forged, mismatched and expired pizzas.
 */
async function startRogueFactory() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `rogue-${randomUUID()}`;
  const state = {
    tokenFor: (_request: FactoryOrderRequest): string => '',
    jwksStatus: 200,
    jwksRequests: 0,
  };
  const app = express();
  app.use(express.json());
  app.post('/api/order', (req, res) => {
    res.json({ jwt: state.tokenFor(req.body as FactoryOrderRequest) });
  });
  app.get('/.well-known/jwks.json', (_req, res) => {
    state.jwksRequests += 1;
    if (state.jwksStatus !== 200) {
      res.status(state.jwksStatus).json({ message: 'keys unavailable' });
      return;
    }
    res.json({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] });
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const claimsFor = (request: FactoryOrderRequest, lifetimeSeconds = 24 * 60 * 60) => {
    const iat = Math.floor(Date.now() / 1000);
    return { vendor: { id: 'v', name: 'v' }, diner: request.diner, order: request.order, iat, exp: iat + lifetimeSeconds, iss: 'cs329.click' };
  };
  /** As the production factory signs: the registered claims in the protected header, the payload only vendor, diner, order. */
  const signWithHeaderClaims = (request: FactoryOrderRequest, header: Record<string, unknown> = {}, payload: Record<string, unknown> = {}) => {
    const iat = Math.floor(Date.now() / 1000);
    const signingInput = `${base64url({ iat, exp: iat + 86400, iss: 'cs329.click', alg: 'RS256', kid, ...header })}.${base64url({ vendor: { id: 'v', name: 'v' }, diner: request.diner, order: request.order, ...payload })}`;
    return `${signingInput}.${rsaSign('sha256', Buffer.from(signingInput), privateKey).toString('base64url')}`;
  };
  return {
    url,
    kid,
    state,
    publicKey,
    sign: (payload: object, options: { keyid?: string; key?: KeyObject } = {}) =>
      jwt.sign(payload, options.key ?? privateKey, { algorithm: 'RS256', keyid: options.keyid ?? kid }),
    claimsFor,
    signWithHeaderClaims,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function base64url(value: object | string): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

describe('pizza JWT verification: forged and wrong pizzas', () => {
  let rogue: Awaited<ReturnType<typeof startRogueFactory>>;
  let client: FactoryClient;
  let logs: ReturnType<typeof createLogCapture>;
  let clock: ReturnType<typeof manualClock>;
  const apiKey = `vendor-key-${randomUUID()}`;

  beforeEach(async () => {
    rogue = await startRogueFactory();
    logs = createLogCapture();
    clock = manualClock();
    client = createFactoryClient({ url: rogue.url, apiKey, logger: logs.logger, now: clock.now, circuit: { failureThreshold: 100 } });
  });

  afterEach(async () => {
    await client.close();
    await rogue.close();
  });

  async function outcomeFor(tokenFor: (request: FactoryOrderRequest) => string) {
    rogue.state.tokenFor = tokenFor;
    return client.createPizza(buildOrderRequest());
  }

  test('when the token is properly signed and matches the order, then it is fulfilled (control for the cases below)', async () => {
    expect((await outcomeFor((request) => rogue.sign(rogue.claimsFor(request)))).kind).toBe('fulfilled');
  });

  test('when the token uses alg none, then it is invalid_jwt', async () => {
    const outcome = await outcomeFor((request) => `${base64url({ alg: 'none', typ: 'JWT', kid: rogue.kid })}.${base64url({ ...rogue.claimsFor(request), exp: 9_999_999_999 })}.`);

    expect(outcome).toMatchObject({ kind: 'failed', reason: 'invalid_jwt', message: 'The pizza factory returned an invalid pizza' });
    expect(client.state().lastError?.message).toBe('pizza JWT rejected: alg none is not allowed');
  });

  test('when the token is HS256-signed with the public key as secret (algorithm confusion), then it is invalid_jwt', async () => {
    const secret = rogue.publicKey.export({ type: 'spki', format: 'pem' });
    const outcome = await outcomeFor((request) => {
      const signingInput = `${base64url({ alg: 'HS256', typ: 'JWT', kid: rogue.kid })}.${base64url({ ...rogue.claimsFor(request), exp: 9_999_999_999 })}`;
      return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
    });

    expect(outcome).toMatchObject({ kind: 'failed', reason: 'invalid_jwt' });
    expect(client.state().lastError?.message).toBe('pizza JWT rejected: alg HS256 is not allowed');
  });

  test('when the signature is tampered with, then it is invalid_jwt', async () => {
    const outcome = await outcomeFor((request) => {
      const [header, payload] = rogue.sign(rogue.claimsFor(request)).split('.');
      const other = rogue.sign({ ...rogue.claimsFor(request), order: { ...request.order, id: 1 } }).split('.')[2];
      return `${header}.${payload}.${other}`;
    });

    expect(outcome).toMatchObject({ kind: 'failed', reason: 'invalid_jwt' });
    expect(client.state().lastError?.message).toBe('pizza JWT rejected: invalid signature');
  });

  test('when the pizza is for another order, then it is invalid_jwt', async () => {
    const outcome = await outcomeFor((request) => rogue.sign({ ...rogue.claimsFor(request), order: { ...request.order, id: request.order.id + 1 } }));

    expect(outcome).toMatchObject({ kind: 'failed', reason: 'invalid_jwt' });
    expect(client.state().lastError?.message).toBe('pizza JWT rejected: order id does not match the request');
  });

  test('when the pizza is for another diner, then it is invalid_jwt', async () => {
    const outcome = await outcomeFor((request) => rogue.sign({ ...rogue.claimsFor(request), diner: { ...request.diner, id: request.diner.id + 1 } }));

    expect(client.state().lastError?.message).toBe('pizza JWT rejected: diner id does not match the request');
    expect(outcome).toMatchObject({ reason: 'invalid_jwt' });
  });

  test('when the pizza has expired (past the leeway), then it is invalid_jwt; a pizza without exp is not refused for it', async () => {
    const shortLived = (request: FactoryOrderRequest) => rogue.sign(rogue.claimsFor(request, 60));
    expect((await outcomeFor(shortLived)).kind).toBe('fulfilled');

    clock.advance(61_000 + 30_000);
    expect((await outcomeFor(shortLived)).kind).toBe('fulfilled');
    clock.advance(31_000);
    expect(await outcomeFor(shortLived)).toMatchObject({ reason: 'invalid_jwt' });
    expect(client.state().lastError?.message).toMatch(/^pizza JWT rejected: expired at \d{4}-/);

    const noExp = await outcomeFor((request) => {
      const claims: Partial<ReturnType<typeof rogue.claimsFor>> = rogue.claimsFor(request);
      delete claims.exp;
      return rogue.sign(claims);
    });
    expect(noExp.kind).toBe('fulfilled');
  });

  test('when the claims are in the protected header, as the production factory puts them, then the pizza is fulfilled', async () => {
    expect((await outcomeFor((request) => rogue.signWithHeaderClaims(request))).kind).toBe('fulfilled');
  });

  test('when the header claims say expired, from another issuer, not yet valid, or disagree with the payload, then it is invalid_jwt', async () => {
    const now = Math.floor(clock.now() / 1000);
    const cases: [Record<string, unknown>, Record<string, unknown>, RegExp][] = [
      [{ iat: now - 86_400 * 2, exp: now - 86_400 }, {}, /^expired at /],
      [{ iss: 'pizza.example' }, {}, /^issuer "pizza.example" is not accepted$/],
      [{ iss: undefined }, {}, /^no iss claim$/],
      [{ nbf: now + 3600 }, {}, /^not valid before /],
      [{ exp: now + 3600 }, { exp: now + 7200 }, /^exp differs between header and payload$/],
      [{ exp: 'tomorrow' }, {}, /^exp is not a NumericDate$/],
    ];
    for (const [header, payload, problem] of cases) {
      expect(await outcomeFor((request) => rogue.signWithHeaderClaims(request, header, payload))).toMatchObject({ reason: 'invalid_jwt' });
      expect(client.state().lastError?.message.replace('pizza JWT rejected: ', '')).toMatch(problem);
    }
  });

  test('when the answer is not a JWT at all, then it is invalid_jwt', async () => {
    expect(await outcomeFor(() => 'not-a-jwt')).toMatchObject({ reason: 'invalid_jwt' });
    expect(await outcomeFor(() => `${base64url({ alg: 'RS256', typ: 'JWT', kid: rogue.kid })}.${base64url('{broken')}.c2ln`)).toMatchObject({ reason: 'invalid_jwt' });
  });

  test('when a flood of unknown kids arrives, then the JWKS is refetched at most once per refresh interval', async () => {
    const signer = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const unknownKid = (request: FactoryOrderRequest) => rogue.sign(rogue.claimsFor(request), { keyid: `unknown-${randomUUID()}`, key: signer });

    for (let i = 0; i < 10; i++) expect(await outcomeFor(unknownKid)).toMatchObject({ reason: 'invalid_jwt' });
    expect(rogue.state.jwksRequests).toBe(1);
    expect(client.state().lastError?.message).toMatch(/^pizza JWT rejected: unknown kid unknown-/);

    clock.advance(5000);
    await outcomeFor(unknownKid);
    await outcomeFor(unknownKid);
    expect(rogue.state.jwksRequests).toBe(2);
  });

  test('when the JWKS cannot be fetched, then the pizza is invalid_jwt and the log says the keys were unavailable', async () => {
    rogue.state.jwksStatus = 503;

    const outcome = await outcomeFor((request) => rogue.sign(rogue.claimsFor(request)));

    expect(outcome).toMatchObject({ kind: 'failed', reason: 'invalid_jwt', factoryStatus: 200 });
    expect(client.state().lastError?.message).toBe('cannot verify the pizza: JWKS answered 503');
    expect(logs.lines()).toContainEqual(expect.objectContaining({ type: 'factory', method: 'GET', url: '/.well-known/jwks.json', status: 503, outcome: 'jwks_unavailable' }));

    rogue.state.jwksStatus = 200;
    clock.advance(5000);
    expect((await outcomeFor((request) => rogue.sign(rogue.claimsFor(request)))).kind).toBe('fulfilled');
  });
});
