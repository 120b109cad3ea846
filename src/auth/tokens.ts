import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

interface TokenClaims { sub: string; sid: string }

// Given a string, jsonwebtoken first tries to parse it as a PEM key (createPublicKey/createPrivateKey),
// which throws for an HMAC secret, on every call: that exception was ~18% of the CPU of an authenticated
// read. A KeyObject made once per secret skips it. Keyed by the secret, so apps with different secrets
// (tests) can share the process.
const secretKeys = new Map<string, KeyObject>();
function hmacKey(secret: string): KeyObject {
  let key = secretKeys.get(secret);
  if (!key) {
    if (secretKeys.size >= 16) secretKeys.clear();
    key = createSecretKey(Buffer.from(secret));
    secretKeys.set(secret, key);
  }
  return key;
}

export function signToken(claims: { userId: number; sessionId: string }, secret: string, ttlSeconds: number): string {
  return jwt.sign({ sid: claims.sessionId }, hmacKey(secret), { algorithm: 'HS256', subject: String(claims.userId), expiresIn: ttlSeconds });
}

/** The session id of a valid token, or undefined. Only HS256 with our secret: no `alg: none`, no key confusion. */
export function verifyToken(token: string, secret: string): { userId: number; sessionId: string } | undefined {
  try {
    const claims = jwt.verify(token, hmacKey(secret), { algorithms: ['HS256'] }) as Partial<TokenClaims>;
    if (typeof claims.sid !== 'string' || typeof claims.sub !== 'string') return undefined;
    return { userId: Number(claims.sub), sessionId: claims.sid };
  } catch {
    return undefined;
  }
}
