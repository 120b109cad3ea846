import bcrypt from 'bcrypt';
import { issueToken, type AuthResult } from '../auth/authService';
import { canActOnUser } from '../auth/policies';
import { deleteSession, deleteSessionsOfUser, type SessionUser } from '../auth/sessionsRepository';
import type { AppContext } from '../context';
import { isUniqueViolation } from '../shared/db';
import { conflict, forbidden, notFound } from '../shared/errors';
import { deleteUser, emailOwner, findUserById, listUsers, updateUser, type User } from './usersRepository';
import { wildcardToLike } from '../shared/db/like';

export function publicUser(user: SessionUser | User): User {
  return { id: user.id, name: user.name, email: user.email, roles: user.roles };
}

export async function updateUserProfile(
  ctx: AppContext,
  actor: SessionUser,
  userId: number,
  changes: { name?: string; email?: string; password?: string },
  actorToken: string,
): Promise<AuthResult> {
  if (!canActOnUser(actor, userId)) throw forbidden('you may only update your own account');
  if (changes.email !== undefined) {
    const owner = await emailOwner(ctx.db, changes.email);
    // Taking over another account's email is refused, never answered with that account's token.
    if (owner !== undefined && owner !== userId) throw conflict('email already registered');
  }
  const passwordHash = changes.password !== undefined ? await bcrypt.hash(changes.password, ctx.config.bcryptRounds) : undefined;
  try {
    await updateUser(ctx.db, userId, { name: changes.name, email: changes.email, passwordHash });
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict('email already registered');
    throw error;
  }
  const user = await findUserById(ctx.db, userId);
  if (!user) throw notFound('user not found');
  if (actor.id !== userId) {
    // An admin editing someone else keeps their own session; the edited user's other sessions end on a password change.
    if (passwordHash) await deleteSessionsOfUser(ctx.db, userId);
    return { user, token: actorToken };
  }
  // The caller's token is replaced by the fresh one (the frontend stores what it gets back), and a
  // password change signs out every other session too.
  if (passwordHash) await deleteSessionsOfUser(ctx.db, userId);
  else await deleteSession(ctx.db, actor.sessionId);
  return issueToken(ctx, user);
}

export async function listUsersPage(ctx: AppContext, query: { page: number; limit: number; name?: string }) {
  return listUsers(ctx.db, { offset: (query.page - 1) * query.limit, limit: query.limit, nameLike: wildcardToLike(query.name) });
}

export async function removeUser(ctx: AppContext, userId: number): Promise<void> {
  // Sessions go with the user (FK cascade), so every token of the user stops working on every instance.
  if (!(await deleteUser(ctx.db, userId))) throw notFound('user not found');
}
