import type { AliasedSelectQueryBuilder } from 'kysely';
import type { Db } from '../shared/db';
import { compileOnce, type CompiledOnce } from '../shared/db/compileOnce';
import { type RoleGrant, type User, toUser } from '../users/usersRepository';

export interface SessionUser extends User {
  sessionId: string;
  lastSeenAt: number;
}

export async function insertSession(db: Db, session: { id: string; userId: number; now: number; expiresAt: number }): Promise<void> {
  await db
    .insertInto('sessions')
    .values({ id: session.id, user_id: session.userId, created_at: session.now, expires_at: session.expiresAt, last_seen_at: session.now })
    .execute();
}

/** The live session, its user and the user's roles (roles come from the database, not the token). */
const sessionUserQuery = compileOnce((db: Db, sessionId: string, now: number) =>
  db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .leftJoin('user_roles as r', 'r.user_id', 'u.id')
    .select(['u.id as id', 'u.name as name', 'u.email as email', 's.last_seen_at as last_seen_at', 'r.id as role_id', 'r.role as role', 'r.object_id as object_id'])
    .where('s.id', '=', sessionId)
    .where('s.expires_at', '>', now),
);

/** One query on every authenticated request, compiled once. */
export async function findSessionUser(db: Db, sessionId: string, now: number): Promise<SessionUser | undefined> {
  const { rows } = await sessionUserQuery.execute(db, sessionId, now);
  if (!rows.length) return undefined;
  // Roles in grant order, sorted here: an ORDER BY made MariaDB build a temporary table for every lookup.
  const roles: RoleGrant[] = [];
  for (const row of rows.length > 1 ? rows.sort((a, b) => Number(a.role_id) - Number(b.role_id)) : rows) {
    if (row.role) roles.push(row.object_id === null ? { role: row.role } : { role: row.role, objectId: Number(row.object_id) });
  }
  return { ...toUser(rows[0], roles), sessionId, lastSeenAt: Number(rows[0].last_seen_at) };
}

/** The session columns a session-checked read adds to each of its rows. */
export interface SessionColumns {
  session_last_seen_at: number | string;
}

type ReadArg = string | number;
/** A read of one user's rows, as a derived table `x`; its columns must not start with `session_`. */
export type OwnRows<A extends ReadArg[], R> = (db: Db, userId: number, ...args: A) => AliasedSelectQueryBuilder<R, 'x'>;
export type SessionCheckedRead<A extends ReadArg[], R> = CompiledOnce<[sessionId: string, now: number, userId: number, ...args: A], Partial<R> & SessionColumns>;

/**
 * A read of the caller's own rows that checks their session in the same statement: the live session
 * (by id, unexpired, of this user) left-joined with the read. No session, no rows; a live session whose
 * read finds nothing gives one row whose read columns are null. For routes that need only the caller's
 * id (not their roles), this saves the session lookup's round trip: ~0.15 ms of service CPU on MariaDB.
 */
export function sessionCheckedRead<A extends ReadArg[], R>(read: OwnRows<A, R>, arity: number): SessionCheckedRead<A, R> {
  return compileOnce(
    (db: Db, sessionId: string, now: number, userId: number, ...args: A) =>
      db
        .selectFrom('sessions as s')
        .leftJoin(read(db, userId, ...args), (join) => join.onTrue())
        .selectAll('x')
        .select('s.last_seen_at as session_last_seen_at')
        .where('s.id', '=', sessionId)
        .where('s.expires_at', '>', now)
        .where('s.user_id', '=', userId),
    arity + 3,
  ) as unknown as SessionCheckedRead<A, R>;
}

export async function touchSession(db: Db, sessionId: string, now: number): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', sessionId).execute();
}

export async function deleteSession(db: Db, sessionId: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', sessionId).execute();
}

export async function deleteSessionsOfUser(db: Db, userId: number, exceptSessionId?: string): Promise<void> {
  let query = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (exceptSessionId) query = query.where('id', '!=', exceptSessionId);
  await query.execute();
}

export async function countActiveUsers(db: Db, seenSince: number, now: number): Promise<number> {
  const row = await db
    .selectFrom('sessions')
    .select((eb) => eb.fn.count<number>('user_id').distinct().as('n'))
    .where('last_seen_at', '>=', seenSince)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function deleteExpiredSessions(db: Db, now: number): Promise<void> {
  await db.deleteFrom('sessions').where('expires_at', '<=', now).execute();
}
