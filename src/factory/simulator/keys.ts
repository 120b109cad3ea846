import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

/** A JWKS entry as the production factory publishes it: exactly kty, kid, n, e (no alg, no use). */
export interface PublicJwk {
  kty: 'RSA';
  kid: string;
  n: string;
  e: string;
}

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: PublicJwk;
}

export interface Jwks {
  keys: PublicJwk[];
}

export function generateSigningKey(): SigningKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return signingKeyFrom(privateKey);
}

export function signingKeyFromPem(privateKeyPem: string): SigningKey {
  return signingKeyFrom(createPrivateKey(privateKeyPem));
}

export function signingKeyToPem(key: SigningKey): string {
  return key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

// The kid is the RFC 7638 thumbprint, so the same key keeps the same kid across restarts.
function signingKeyFrom(privateKey: KeyObject): SigningKey {
  const publicKey = createPublicKey(privateKey);
  const { n, e } = publicKey.export({ format: 'jwk' });
  if (typeof n !== 'string' || typeof e !== 'string') throw new Error('the factory signing key must be an RSA key');
  const kid = createHash('sha256').update(JSON.stringify({ e, kty: 'RSA', n })).digest('base64url');
  return { kid, privateKey, publicKey, publicJwk: { kty: 'RSA', kid, n, e } };
}

/** The current signing key plus the previous ones, still published so pizzas signed before a rotation verify. */
export interface KeyRing {
  current(): SigningKey;
  find(kid: string): SigningKey | undefined;
  rotate(): SigningKey;
  jwks(): Jwks;
}

export function createKeyRing(initial: SigningKey = generateSigningKey(), published = 2): KeyRing {
  let keys = [initial];
  return {
    current: () => keys[0] as SigningKey,
    find: (kid) => keys.find((key) => key.kid === kid),
    rotate() {
      const next = generateSigningKey();
      keys = [next, ...keys].slice(0, published);
      return next;
    },
    jwks: () => ({ keys: keys.map((key) => key.publicJwk) }),
  };
}
