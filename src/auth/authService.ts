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

export async function login(ctx: AppContext, input: { email: string; password: string }, ip: string): Promise<AuthResult> {
  const { perIp, perAccount, windowSeconds } = ctx.config.loginLimits;
  const windowMs = windowSeconds * 1000;
  const ipKey = `login:ip:${ip}`;
  const accountKey = `login:account:${input.email}`;
  // Every attempt is counted before the password is checked, so a burst of parallel guesses cannot all
  // pass a check made before any of them failed. Attempts that turn out not to be failures are taken back.
  const [ipHits, accountHits] = await Promise.all([ctx.rateLimits.hit(ipKey, windowMs), ctx.rateLimits.hit(accountKey, windowMs)]);
  const blocked = [ipHits.count > perIp ? ipHits : undefined, accountHits.count > perAccount ? accountHits : undefined].filter(
    (w): w is { count: number; resetMs: number } => w !== undefined,
  );
  if (blocked.length) {
    await Promise.all([ctx.rateLimits.release(ipKey), ctx.rateLimits.release(accountKey)]);
    ctx.metrics.rateLimited.inc({ limiter: 'login' });
    ctx.logger.warn({ type: 'security', event: 'rate_limit', limiter: 'login', ip, scope: ipHits.count > perIp ? 'ip' : 'account' }, 'login rate limit hit');
    throw tooManyRequests('too many failed login attempts, try again later', Math.max(...blocked.map((w) => w.resetMs)) / 1000);
  }

  let row: Awaited<ReturnType<typeof findCredentialsByEmail>>;
  let ok: boolean;
  try {
    row = await findCredentialsByEmail(ctx.db, input.email);
    ok = await bcrypt.compare(input.password, row?.password_hash ?? (await dummyHash(ctx)));
  } catch (error) {
    // No verdict (e.g. the database is down): the attempt does not count as a failure.
    await Promise.all([ctx.rateLimits.release(ipKey), ctx.rateLimits.release(accountKey)]);
    throw error;
  }
  if (!row || !ok) {
    ctx.metrics.authAttempts.inc({ action: 'login', outcome: 'failure' });
    if (ipHits.count === perIp || accountHits.count === perAccount) {
      ctx.logger.warn({ type: 'security', event: 'auth_failure_burst', ip, ipFailures: ipHits.count, accountFailures: accountHits.count }, 'repeated failed logins');
    }
    throw unauthorized(INVALID_CREDENTIALS);
  }
  // Only failures count against the IP; a success also clears the account's failures.
  await Promise.all([ctx.rateLimits.release(ipKey), ctx.rateLimits.reset(accountKey)]);
  ctx.metrics.authAttempts.inc({ action: 'login', outcome: 'success' });
  const roles = (await rolesByUser(ctx.db, [row.id])).get(row.id) ?? [];
  return issueToken(ctx, toUser(row, roles));
}

export async function logout(ctx: AppContext, user: SessionUser): Promise<void> {
  await deleteSession(ctx.db, user.sessionId);
  ctx.metrics.authAttempts.inc({ action: 'logout', outcome: 'success' });
}

/** The user behind a bearer token, or undefined when the token is bad, expired or revoked. */
export async function authenticate(ctx: AppContext, token: string): Promise<SessionUser | undefined> {
  const claims = verifyToken(token, ctx.config.jwt.secret);
  if (!claims) return undefined;
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
function touchIfStale(ctx: AppContext, sessionId: string, lastSeenAt: number, now: number): void {
  if (now - lastSeenAt <= TOUCH_EVERY_MS) return;
  touchSession(ctx.db, sessionId, now).catch((error: unknown) => ctx.logger.warn({ type: 'db', err: error }, 'session touch failed'));
}
