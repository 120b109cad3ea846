import pino from 'pino';
import { createPizzaJwtVerifier } from '../../../src/factory/pizzaJwtVerifier';
import type { JsonTransport } from '../../../src/factory/httpTransport';
import { PRODUCTION_FACTORY_ISSUER } from '../../../src/factory/types';
import { insideValidity, recording } from './recordings';

// (a) The verifier against the production factory's own token and keys, as recorded: the JWKS of 01, the pizza of 02
// (claims in the protected header), the tampered token of 04, the expired one of 04b and the badjwt string of 11.

const jwks = recording('01-jwks');
const healthy = recording('02-order-healthy');
const expected = { orderId: (healthy.request.body as { order: { id: number } }).order.id, dinerId: (healthy.request.body as { diner: { id: number } }).diner.id };

function verifierAt(nowMs: number, issuers: readonly string[] = [PRODUCTION_FACTORY_ISSUER]) {
  let jwksRequests = 0;
  const transport: JsonTransport = {
    async send() {
      jwksRequests += 1;
      return { status: jwks.response.status, body: jwks.response.body, headers: {} } as unknown as Awaited<ReturnType<JsonTransport['send']>>;
    },
    close() {},
  };
  const verifier = createPizzaJwtVerifier({
    jwksUrl: new URL('https://localhost/.well-known/jwks.json'),
    transport,
    ttlMs: 600_000,
    minRefreshIntervalMs: 5000,
    fetchTimeoutMs: 1000,
    now: () => nowMs,
    logger: pino({ level: 'silent' }),
    issuers,
    leewaySeconds: 60,
  });
  return { verify: (token: string, want = expected) => verifier.verify(token, want, new AbortController().signal), jwksRequests: () => jwksRequests };
}

describe('the pizza verifier against the recorded production factory', () => {
  const token = healthy.response.body.jwt as string;
  const header = healthy.decoded?.header as { iat: number; exp: number; iss: string };

  test('the recorded pizza keeps its claims in the protected header, as this verifier expects (a premise of the tests below)', () => {
    expect(Object.keys(header)).toEqual(['iat', 'exp', 'iss', 'alg', 'kid']);
    expect(Object.keys(healthy.decoded?.payload ?? {})).toEqual(['vendor', 'diner', 'order']);
    expect(header.iss).toBe(PRODUCTION_FACTORY_ISSUER);
  });

  test('when the clock is inside its validity, then the recorded production pizza verifies with the recorded JWKS', async () => {
    const verifier = verifierAt(insideValidity(healthy));
    expect(await verifier.verify(token)).toEqual({ valid: true });
    expect(verifier.jwksRequests()).toBe(1);
  });

  test('when it is verified for another order or diner, then it is refused', async () => {
    const verifier = verifierAt(insideValidity(healthy));
    expect(await verifier.verify(token, { ...expected, orderId: expected.orderId + 1 })).toEqual({ valid: false, problem: 'invalid_token', detail: 'order id does not match the request' });
    expect(await verifier.verify(token, { ...expected, dinerId: expected.dinerId + 1 })).toEqual({ valid: false, problem: 'invalid_token', detail: 'diner id does not match the request' });
  });

  test('when the clock is past its header exp (beyond the leeway), then it is refused as expired; inside the leeway it still verifies', async () => {
    expect(await verifierAt((header.exp + 59) * 1000).verify(token)).toEqual({ valid: true });
    expect(await verifierAt((header.exp + 61) * 1000).verify(token)).toMatchObject({ valid: false, detail: expect.stringMatching(/^expired at /) });
  });

  test('when the payload is altered (recording 04), then the signature fails', async () => {
    const tampered = recording('04-verify-tampered').request.body as { jwt: string };
    expect(tampered.jwt.split('.')[0]).toBe(token.split('.')[0]);
    expect(await verifierAt(insideValidity(healthy)).verify(tampered.jwt)).toMatchObject({ valid: false, problem: 'invalid_token', detail: 'invalid signature' });
  });

  test('when the token is the recorded expired one (04b; the factory\'s own /verify calls it valid), then this verifier refuses it', async () => {
    const expired = (recording('04b-verify-expired').request.body as { jwt: string }).jwt;
    expect(await verifierAt(insideValidity(healthy)).verify(expired)).toMatchObject({ valid: false, detail: expect.stringMatching(/^expired at 2023-/) });
  });

  test('when the token is the badjwt chaos string (11), then it does not decode and is refused without fetching keys', async () => {
    const badjwt = recording('11-order-chaos-badjwt').response.body.jwt as string;
    const verifier = verifierAt(insideValidity(healthy));
    expect(await verifier.verify(badjwt)).toEqual({ valid: false, problem: 'invalid_token', detail: 'not a JWT' });
    expect(verifier.jwksRequests()).toBe(0);
  });

  test('when the issuer is not accepted, then the production pizza is refused', async () => {
    const strict = verifierAt(insideValidity(healthy), ['pizza.example']);
    expect(await strict.verify(token)).toMatchObject({ valid: false, detail: 'issuer "cs329.click" is not accepted' });
  });
});
