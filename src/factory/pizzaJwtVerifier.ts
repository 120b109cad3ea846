import { createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import type { JsonTransport } from './httpTransport';

export interface PizzaJwtVerifierOptions {
  jwksUrl: URL;
  transport: JsonTransport;
  ttlMs: number;
  /** Least time between two JWKS fetches, so a flood of unknown `kid`s cannot hammer the factory. */
  minRefreshIntervalMs: number;
  fetchTimeoutMs: number;
  now: () => number;
  logger: Logger;
  /** Accepted `iss` values; a pizza without one of them is refused. */
  issuers: readonly string[];
  /** Clock skew allowed on `exp` and `nbf`, in seconds. */
  leewaySeconds: number;
}

export interface ExpectedPizza {
  orderId: number;
  dinerId: number;
}

export type PizzaJwtVerdict =
  | { valid: true }
  /** `jwks_unavailable`: the token could not be checked at all, which is logged apart from a bad token. */
  | { valid: false; problem: 'invalid_token' | 'jwks_unavailable'; detail: string };

export interface PizzaJwtVerifier {
  /** Rejects with the signal's reason when the signal aborts while keys are being fetched. */
  verify(token: string, expected: ExpectedPizza, signal: AbortSignal): Promise<PizzaJwtVerdict>;
}

class JwksUnavailableError extends Error {}

export function createPizzaJwtVerifier(options: PizzaJwtVerifierOptions): PizzaJwtVerifier {
  const { jwksUrl, transport, ttlMs, minRefreshIntervalMs, fetchTimeoutMs, now, logger, issuers, leewaySeconds } = options;
  let keysByKid = new Map<string, KeyObject>();
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let lastAttemptAt = Number.NEGATIVE_INFINITY;
  let refreshInFlight: Promise<void> | null = null;

  function refreshAllowed(): boolean {
    return now() - lastAttemptAt >= minRefreshIntervalMs;
  }

  // Single flight: concurrent verifications share one JWKS request.
  function refresh(): Promise<void> {
    refreshInFlight ??= fetchKeys().finally(() => (refreshInFlight = null));
    return refreshInFlight;
  }

  async function fetchKeys(): Promise<void> {
    lastAttemptAt = now();
    const startedAt = performance.now();
    const logFields = { type: 'factory', method: 'GET', url: jwksUrl.pathname };
    let status: number | undefined;
    try {
      const response = await transport.send({ method: 'GET', url: jwksUrl, signal: AbortSignal.timeout(fetchTimeoutMs) });
      status = response.status;
      if (status !== 200) throw new JwksUnavailableError(`JWKS answered ${status}`);
      const keys = parseJwks(response.body);
      if (keys.size === 0) throw new JwksUnavailableError('JWKS has no usable RS256 key');
      keysByKid = keys;
      fetchedAt = now();
      logger.info({ ...logFields, status, latencyMs: elapsed(startedAt), outcome: 'jwks_refreshed', kids: [...keys.keys()] }, 'factory JWKS refreshed');
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      logger.error({ ...logFields, status, latencyMs: elapsed(startedAt), outcome: 'jwks_unavailable', detail }, 'factory JWKS unavailable');
      throw error instanceof JwksUnavailableError ? error : new JwksUnavailableError(`JWKS fetch failed: ${detail}`);
    }
  }

  async function keyFor(kid: string, signal: AbortSignal): Promise<KeyObject | undefined> {
    const stale = now() - fetchedAt >= ttlMs;
    if ((stale || !keysByKid.has(kid)) && refreshAllowed()) {
      try {
        await abortable(refresh(), signal);
      } catch (error) {
        // Public keys that are a little past their TTL are still better than refusing every pizza.
        if (signal.aborted || keysByKid.size === 0 || !keysByKid.has(kid)) throw error;
      }
    } else if (refreshInFlight) {
      await abortable(refreshInFlight, signal).catch(() => undefined);
    }
    if (keysByKid.size === 0) throw new JwksUnavailableError('no JWKS fetched yet (refresh rate-limited)');
    return keysByKid.get(kid);
  }

  return {
    async verify(token, expected, signal) {
      const invalid = (detail: string): PizzaJwtVerdict => ({ valid: false, problem: 'invalid_token', detail });
      const decoded = decodeCompactJws(token);
      if (!decoded) return invalid('not a JWT');
      const { header, payload } = decoded;
      if (header.alg !== 'RS256') return invalid(`alg ${String(header.alg)} is not allowed`);
      // No extension this verifier understands may be marked critical (RFC 7515 §4.1.11).
      if (header.crit !== undefined) return invalid('crit header parameter is not supported');
      const kid = header.kid;
      if (typeof kid !== 'string' || kid === '') return invalid('no kid in header');

      let key: KeyObject | undefined;
      try {
        key = await keyFor(kid, signal);
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        return { valid: false, problem: 'jwks_unavailable', detail: error instanceof Error ? error.message : String(error) };
      }
      if (!key) return invalid(`unknown kid ${kid}`);

      if (!signatureValid(decoded, key)) return invalid('invalid signature');
      // Registered claims are checked wherever the factory put them.
      const claimProblem = registeredClaimProblem(header, payload, Math.floor(now() / 1000), issuers, leewaySeconds);
      if (claimProblem) return invalid(claimProblem);
      const claims = payload as { order?: { id?: unknown }; diner?: { id?: unknown } };
      if (claims.order?.id !== expected.orderId) return invalid('order id does not match the request');
      if (claims.diner?.id !== expected.dinerId) return invalid('diner id does not match the request');
      return { valid: true };
    },
  };
}

/**
 * Checks `exp`, `nbf`, `iat` and `iss`. The production factory puts them in the JWS protected header and leaves the
 * payload to `{vendor, diner, order}`: claims replicated as header parameters (RFC 7519 §5.3). Each is read from the
 * payload, else from the header; present in both, the two must agree. `exp` and `nbf` are enforced when present,
 * with `leewaySeconds` of clock skew; `iss` must be present and accepted.
 */
export function registeredClaimProblem(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  nowSeconds: number,
  issuers: readonly string[],
  leewaySeconds: number,
): string | null {
  const claims: Record<string, unknown> = {};
  for (const name of ['exp', 'nbf', 'iat', 'iss'] as const) {
    const inPayload = payload[name];
    const inHeader = header[name];
    if (inPayload !== undefined && inHeader !== undefined && inPayload !== inHeader) return `${name} differs between header and payload`;
    claims[name] = inPayload ?? inHeader;
  }
  const { exp, nbf, iat, iss } = claims;
  for (const [name, value] of [['exp', exp], ['nbf', nbf], ['iat', iat]] as const) {
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) return `${name} is not a NumericDate`;
  }
  if (typeof exp === 'number' && nowSeconds > exp + leewaySeconds) return `expired at ${new Date(exp * 1000).toISOString()}`;
  if (typeof nbf === 'number' && nowSeconds + leewaySeconds < nbf) return `not valid before ${new Date(nbf * 1000).toISOString()}`;
  if (typeof iss !== 'string') return 'no iss claim';
  if (!issuers.includes(iss)) return `issuer ${JSON.stringify(iss.slice(0, 100))} is not accepted`;
  return null;
}

interface CompactJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** `BASE64URL(header) '.' BASE64URL(payload)`, what the signature covers (RFC 7515 §5.2). */
  signingInput: string;
  signature: Buffer;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * A JWS in compact serialization whose header and payload are JSON objects, or null. Decoded once, by
 * hand: jsonwebtoken decoded every pizza twice, built a stream to verify it and asked the key for its
 * details each time, about half of what checking a pizza cost the service.
 */
export function decodeCompactJws(token: string): CompactJws | null {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) return null;
  const header = parseJsonObject(parts[0]);
  const payload = parseJsonObject(parts[1]);
  if (!header || !payload) return null;
  return { header, payload, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url') };
}

function parseJsonObject(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** RS256: RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3), node:crypto's default padding for an RSA key. */
function signatureValid(jws: CompactJws, key: KeyObject): boolean {
  try {
    return verifySignature('sha256', Buffer.from(jws.signingInput), key, jws.signature);
  } catch {
    return false;
  }
}

function parseJwks(body: unknown): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  const candidates = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(candidates)) return keys;
  for (const candidate of candidates as Record<string, unknown>[]) {
    const { kty, kid, alg, use, n, e } = candidate ?? {};
    if (kty !== 'RSA' || typeof kid !== 'string' || typeof n !== 'string' || typeof e !== 'string') continue;
    if ((alg !== undefined && alg !== 'RS256') || (use !== undefined && use !== 'sig')) continue;
    try {
      keys.set(kid, createPublicKey({ key: { kty, n, e }, format: 'jwk' }));
    } catch {
      // A malformed key is skipped; the others may still verify.
    }
  }
  return keys;
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function elapsed(startedAt: number): number {
  return Math.round(performance.now() - startedAt);
}
