import { generateKeyPairSync, sign } from 'node:crypto';
import pino from 'pino';
import { createPizzaJwtVerifier, decodeCompactJws } from '../../../src/factory/pizzaJwtVerifier';
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

// (b) What the verifier's own JWS decoding refuses (RFC 7515 compact serialization, RS256 only), each with the
// recorded pizza's kid so that only the property under test is wrong.

describe('the pizza verifier on tokens the factory never sends', () => {
  const token = healthy.response.body.jwt as string;
  const [recordedHeader, recordedPayload] = token.split('.');
  const header = healthy.decoded?.header as Record<string, unknown>;
  const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
  const { privateKey: strangerKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signedBy = (key: typeof strangerKey, head: Record<string, unknown>, payload: unknown = healthy.decoded?.payload) => {
    const input = `${b64(head)}.${b64(payload)}`;
    return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
  };
  const refusal = async (candidate: string) => verifierAt(insideValidity(healthy)).verify(candidate);

  test('the recorded pizza decodes to its header and payload objects (the premise of the refusals below)', () => {
    expect(decodeCompactJws(token)).toMatchObject({ header, payload: healthy.decoded?.payload, signingInput: `${recordedHeader}.${recordedPayload}` });
  });

  test.each([
    ['two segments', `${recordedHeader}.${recordedPayload}`],
    ['four segments', `${token}.${recordedPayload}`],
    ['a character outside base64url', `${recordedHeader}.${recordedPayload}.${token.split('.')[2].slice(0, -2)}+/`],
    ['padding', `${recordedHeader}.${recordedPayload}.${token.split('.')[2]}==`],
    ['a header that is not JSON', `${b64('{"alg":"RS256"')}.${recordedPayload}.${token.split('.')[2]}`],
    ['a payload that is an array', `${recordedHeader}.${b64([1, 2])}.${token.split('.')[2]}`],
    ['a payload that is a string', `${recordedHeader}.${b64('"pizza"')}.${token.split('.')[2]}`],
  ])('when the token has %s, then it does not decode and is refused', async (_what, candidate) => {
    expect(decodeCompactJws(candidate)).toBeNull();
    expect(await refusal(candidate)).toEqual({ valid: false, problem: 'invalid_token', detail: 'not a JWT' });
  });

  test('when the token is unsigned (alg none) or HMAC-signed, then it is refused by its alg before any key is used', async () => {
    // An unsecured JWS has an empty signature segment (RFC 7515 Appendix A.5): it decodes, and its alg refuses it.
    const unsigned = `${b64({ ...header, alg: 'none' })}.${recordedPayload}.`;
    expect(decodeCompactJws(unsigned)?.signature.length).toBe(0);
    expect(await refusal(unsigned)).toEqual({ valid: false, problem: 'invalid_token', detail: 'alg none is not allowed' });
    const hmac = `${b64({ ...header, alg: 'HS256' })}.${recordedPayload}.${token.split('.')[2]}`;
    expect(await refusal(hmac)).toEqual({ valid: false, problem: 'invalid_token', detail: 'alg HS256 is not allowed' });
  });

  test('when the recorded RS256 pizza comes with its signature segment empty, then the signature fails', async () => {
    expect(await refusal(`${recordedHeader}.${recordedPayload}.`)).toEqual({ valid: false, problem: 'invalid_token', detail: 'invalid signature' });
  });

  test('when a valid-looking pizza is signed by another key under the recorded kid, then the signature fails', async () => {
    expect(await refusal(signedBy(strangerKey, header))).toEqual({ valid: false, problem: 'invalid_token', detail: 'invalid signature' });
  });

  test('when the header marks an extension critical, then the pizza is refused (RFC 7515 §4.1.11)', async () => {
    expect(await refusal(signedBy(strangerKey, { ...header, crit: ['exp'] }))).toEqual({ valid: false, problem: 'invalid_token', detail: 'crit header parameter is not supported' });
  });

  test('when the header is the recorded one with its claims changed, then the signature fails', async () => {
    const later = `${b64({ ...header, exp: (header.exp as number) + 86_400 })}.${recordedPayload}.${token.split('.')[2]}`;
    expect(await refusal(later)).toEqual({ valid: false, problem: 'invalid_token', detail: 'invalid signature' });
  });
});
