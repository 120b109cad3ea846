import { createSecretKey, type KeyObject } from 'node:crypto';
import { context, trace } from '@opentelemetry/api';
import jwt from 'jsonwebtoken';
import { tracer, tracingEnabled } from '../shared/tracing';

interface TokenClaims { sub: string; sid: string; exp?: number }
interface RememberedToken extends VerifiedToken { exp: number }

// Given a string, jsonwebtoken first tries to parse it as a PEM key (createPublicKey/createPrivateKey),
// which throws for an HMAC secret, on every call: that exception was ~18% of the CPU of an authenticated
// read. A KeyObject made once per secret skips it. Keyed by the secret, so apps with different secrets
// (tests) can share the process.
//
// Tokens that verified are remembered with the secret (a signature that checked once checks again until the
// token expires): jsonwebtoken's verify was ~30 µs of every authenticated request. Revocation is not
// affected: the session behind the token is still looked up on every request. Only valid tokens are kept,
// so only a logged-in client adds entries; the oldest go first past VERIFIED_MAX.
const VERIFIED_MAX = 10_000;
const secretKeys = new Map<string, { key: KeyObject; verified: Map<string, RememberedToken> }>();
function forSecret(secret: string): { key: KeyObject; verified: Map<string, RememberedToken> } {
  let entry = secretKeys.get(secret);
  if (!entry) {
    if (secretKeys.size >= 16) secretKeys.clear();
    entry = { key: createSecretKey(Buffer.from(secret)), verified: new Map() };
    secretKeys.set(secret, entry);
  }
  return entry;
}
const hmacKey = (secret: string): KeyObject => forSecret(secret).key;

/** jsonwebtoken's rule: a token is expired once the current second reaches `exp`. */
const expired = (exp: number) => Math.floor(Date.now() / 1000) >= exp;

export function signToken(claims: { userId: number; sessionId: string }, secret: string, ttlSeconds: number): string {
  return jwt.sign({ sid: claims.sessionId }, hmacKey(secret), { algorithm: 'HS256', subject: String(claims.userId), expiresIn: ttlSeconds });
}

/** What a token whose signature and expiry checked says: whose it is and which session it names. */
export interface VerifiedToken {
  userId: number;
  sessionId: string;
}

/** The session id of a valid token, or undefined. Only HS256 with our secret: no `alg: none`, no key confusion. */
export function verifyToken(token: string, secret: string): VerifiedToken | undefined {
  if (!tracingEnabled() || !trace.getSpan(context.active())?.isRecording()) return verify(token, secret).result;
  // Whether it checked and whether the signature was checked again or remembered; never the token or its claims.
  const span = tracer.startSpan('jwt verify', { attributes: { 'auth.jwt.algorithm': 'HS256' } });
  const { result, remembered } = verify(token, secret);
  span.setAttributes({ 'auth.jwt.valid': result !== undefined, 'auth.jwt.remembered': remembered });
  span.end();
  return result;
}

function verify(token: string, secret: string): { result: VerifiedToken | undefined; remembered: boolean } {
  const { key, verified } = forSecret(secret);
  const known = verified.get(token);
  if (known) {
    if (!expired(known.exp)) return { result: { userId: known.userId, sessionId: known.sessionId }, remembered: true };
    verified.delete(token);
    return { result: undefined, remembered: true };
  }
  let claims: Partial<TokenClaims>;
  try {
    claims = jwt.verify(token, key, { algorithms: ['HS256'] }) as Partial<TokenClaims>;
  } catch {
    return { result: undefined, remembered: false };
  }
  if (typeof claims.sid !== 'string' || typeof claims.sub !== 'string') return { result: undefined, remembered: false };
  const result = { userId: Number(claims.sub), sessionId: claims.sid };
  // Our tokens always carry exp; one without it is verified every time rather than remembered forever.
  if (typeof claims.exp === 'number') {
    if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value!);
    verified.set(token, { ...result, exp: claims.exp });
  }
  return { result, remembered: false };
}
