import { randomBytes, randomUUID } from 'node:crypto';
import bcrypt from 'bcrypt';
import type { AppContext } from '../context';
import { conflict, tooManyRequests, unauthorized } from '../shared/errors';
import { isUniqueViolation } from '../shared/db';
import { type User, findCredentialsByEmail, insertUser, rolesByUser, toUser } from '../users/usersRepository';
import { deleteSession, findSessionUser, insertSession, type SessionCheckedRead, type SessionUser, touchSession } from './sessionsRepository';
import { signToken, type VerifiedToken, verifyToken } from './tokens';

const TOUCH_EVERY_MS = 60_000;
const INVALID_CREDENTIALS = 'invalid email or password';

export interface AuthResult { user: User; token: string }

/** A session row plus a JWT naming it: logout or user deletion removes the row, which revokes the token on every instance. */
export async function issueToken(ctx: AppContext, user: User): Promise<AuthResult> {
  const now = ctx.now();
  const sessionId = randomUUID();
  await insertSession(ctx.db, { id: sessionId, userId: user.id, now, expiresAt: now + ctx.config.jwt.ttlSeconds * 1000 });
  return { user, token: signToken({ userId: user.id, sessionId }, ctx.config.jwt.secret, ctx.config.jwt.ttlSeconds) };
}

export async function register(ctx: AppContext, input: { name: string; email: string; password: string }): Promise<AuthResult> {
  const passwordHash = await bcrypt.hash(input.password, ctx.config.bcryptRounds);
  let id: number;
  try {
    id = await insertUser(ctx.db, { name: input.name, email: input.email, passwordHash, roles: [{ role: 'diner' }] }, ctx.now());
  } catch (error) {
    if (isUniqueViolation(error)) {
      ctx.metrics.authAttempts.inc({ action: 'register', outcome: 'failure' });
      throw conflict('email already registered');
    }
    throw error;
  }
  ctx.metrics.authAttempts.inc({ action: 'register', outcome: 'success' });
  return issueToken(ctx, toUser({ id, name: input.name, email: input.email }, [{ role: 'diner' }]));
}

/** Compared against when the email is unknown, so a miss costs the same bcrypt time as a wrong password. */
const dummyHashes = new WeakMap<AppContext['config'], Promise<string>>();
function dummyHash(ctx: AppContext): Promise<string> {
  let hash = dummyHashes.get(ctx.config);
  if (!hash) {
    hash = bcrypt.hash(randomBytes(16).toString('hex'), ctx.config.bcryptRounds);
    dummyHashes.set(ctx.config, hash);
  }
  return hash;
}

/**
 * Login protection (OWASP authentication cheat sheet; rate-limiter-flexible's "login endpoint protection"):
 * - failures per (account, client address): LOGIN_MAX_FAILURES_PER_ACCOUNT in a row block that pair for
 *   LOGIN_WINDOW_SECONDS; a success clears the pair. Other addresses are not affected, so nobody can lock
 *   the owner out.
 * - failures per client address across accounts (credential stuffing): LOGIN_MAX_FAILURES_PER_IP per window.
 * - failures per account from every address: past LOGIN_SLOWDOWN_AFTER_ACCOUNT_FAILURES each login for that
 *   account (right password included) is answered later, 100 ms doubling per further failure up to
 *   LOGIN_SLOWDOWN_MAX_MS. Never refused: the owner gets in with the right password, at most that late.
 * Counters live in the rate-limit store (Redis when configured, with its per-instance memory fallback).
 */
export async function login(ctx: AppContext, input: { email: string; password: string }, ip: string): Promise<AuthResult> {
  const { perIp, perAccount, windowSeconds, slowdownAfter, slowdownMaxMs } = ctx.config.loginLimits;
  const windowMs = windowSeconds * 1000;
  const ipKey = `login:ip:${ip}`;
  const pairKey = `login:pair:${input.email}|${ip}`;
  const accountKey = `login:account:${input.email}`;
  const store = ctx.rateLimits;
  // Every attempt is counted before the password is checked, so a burst of parallel guesses cannot all
  // pass a check made before any of them failed. Attempts that turn out not to be failures are taken back.
  const [ipHits, pairHits] = await Promise.all([store.hit(ipKey, windowMs), store.hit(pairKey, windowMs)]);
  const scope = ipHits.count > perIp ? 'ip' : pairHits.count > perAccount ? 'account_ip' : undefined;
  if (scope) {
    await Promise.all([store.release(ipKey), store.release(pairKey)]);
    ctx.metrics.rateLimited.inc({ limiter: 'login' });
    ctx.logger.warn({ type: 'security', event: 'rate_limit', limiter: 'login', ip, scope }, 'login rate limit hit');
    throw tooManyRequests('too many failed login attempts from this address, try again later', (scope === 'ip' ? ipHits : pairHits).resetMs / 1000);
  }
  const accountHits = await store.hit(accountKey, windowMs);
  const releaseAll = () => Promise.all([store.release(ipKey), store.release(pairKey), store.release(accountKey)]);

  let row: Awaited<ReturnType<typeof findCredentialsByEmail>>;
  let ok: boolean;
  try {
    const delayMs = loginDelayMs(accountHits.count - 1, slowdownAfter, slowdownMaxMs);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    row = await findCredentialsByEmail(ctx.db, input.email);
    ok = await bcrypt.compare(input.password, row?.password_hash ?? (await dummyHash(ctx)));
  } catch (error) {
    // No verdict (e.g. the database is down): the attempt does not count as a failure.
    await releaseAll();
    throw error;
  }
  if (!row || !ok) {
    ctx.metrics.authAttempts.inc({ action: 'login', outcome: 'failure' });
    if (ipHits.count === perIp || pairHits.count === perAccount || accountHits.count === slowdownAfter + 1) {
      ctx.logger.warn(
        { type: 'security', event: 'auth_failure_burst', ip, ipFailures: ipHits.count, accountIpFailures: pairHits.count, accountFailures: accountHits.count },
        'repeated failed logins',
      );
    }
    throw unauthorized(INVALID_CREDENTIALS);
  }
  // Only failures count: a success takes its attempt back everywhere and clears the pair's failures.
  await Promise.all([store.release(ipKey), store.reset(pairKey), store.release(accountKey)]);
  ctx.metrics.authAttempts.inc({ action: 'login', outcome: 'success' });
  const roles = (await rolesByUser(ctx.db, [row.id])).get(row.id) ?? [];
  return issueToken(ctx, toUser(row, roles));
}

/** The slow-down of a login for an account that already has `failures` in the window: 0, then 100 ms doubling, capped. */
export function loginDelayMs(failures: number, slowdownAfter: number, maxMs: number): number {
  const over = failures - slowdownAfter;
  if (over <= 0) return 0;
  return Math.min(maxMs, 100 * 2 ** Math.min(over - 1, 20));
}

export async function logout(ctx: AppContext, user: SessionUser): Promise<void> {
  await deleteSession(ctx.db, user.sessionId);
  ctx.metrics.authAttempts.inc({ action: 'logout', outcome: 'success' });
}

/** The user behind a bearer token, or undefined when the token is bad, expired or revoked. */
export async function authenticate(ctx: AppContext, token: string): Promise<SessionUser | undefined> {
  const claims = verifyToken(token, ctx.config.jwt.secret);
  return claims ? sessionUserOf(ctx, claims) : undefined;
}

/** The user behind a token whose signature checked (auth.requireSignedToken), or undefined when its session is gone. */
export async function sessionUserOf(ctx: AppContext, claims: VerifiedToken): Promise<SessionUser | undefined> {
  const now = ctx.now();
  const user = await findSessionUser(ctx.db, claims.sessionId, now);
  if (!user || user.id !== claims.userId) return undefined;
  touchIfStale(ctx, user.sessionId, user.lastSeenAt, now);
  return user;
}

/**
 * The caller's own rows, read in the statement that checks their session (see sessionCheckedRead), or
 * undefined when the token is bad or expired or its session is gone: the same refusals as authenticate().
 */
export async function readOwnRows<A extends (string | number)[], R>(
  ctx: AppContext,
  claims: VerifiedToken,
  read: SessionCheckedRead<A, R>,
  ...args: A
): Promise<{ userId: number; rows: Partial<R>[] } | undefined> {
  const now = ctx.now();
  const { rows } = await read.execute(ctx.db, claims.sessionId, now, claims.userId, ...args);
  if (!rows.length) return undefined;
  touchIfStale(ctx, claims.sessionId, Number(rows[0].session_last_seen_at), now);
  return { userId: claims.userId, rows };
}

/** last_seen_at feeds active_users; writing it at most once a minute keeps reads read-only. */
export function touchIfStale(ctx: AppContext, sessionId: string, lastSeenAt: number, now: number): void {
  if (now - lastSeenAt <= TOUCH_EVERY_MS) return;
  touchSession(ctx.db, sessionId, now).catch((error: unknown) => ctx.logger.warn({ type: 'db', err: error }, 'session touch failed'));
}
