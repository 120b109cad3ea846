import type { Db } from '../shared/db';
import { insertedId } from '../shared/db';
import { likeEscaped } from '../shared/db/like';
import type { UserRolesTable } from '../shared/db/schema';

export type Role = UserRolesTable['role'];
export interface RoleGrant { role: Role; objectId?: number }
/** The API shape of a user: never a password or hash. */
export interface User { id: number; name: string; email: string; roles: RoleGrant[] }

type RoleRow = { user_id: number; role: Role; object_id: number | null };

function toGrant(row: Pick<RoleRow, 'role' | 'object_id'>): RoleGrant {
  return row.object_id === null || row.object_id === undefined ? { role: row.role } : { role: row.role, objectId: Number(row.object_id) };
}

/** Rows become API users in exactly this place. */
export function toUser(row: { id: number; name: string; email: string }, roles: RoleGrant[]): User {
  return { id: Number(row.id), name: row.name, email: row.email, roles };
}

export async function rolesByUser(db: Db, userIds: number[]): Promise<Map<number, RoleGrant[]>> {
  const map = new Map<number, RoleGrant[]>(userIds.map((id) => [id, []]));
  if (!userIds.length) return map;
  const rows = await db.selectFrom('user_roles').select(['user_id', 'role', 'object_id']).where('user_id', 'in', userIds).orderBy('id').execute();
  for (const row of rows) map.get(Number(row.user_id))?.push(toGrant(row));
  return map;
}

export async function insertUser(db: Db, user: { name: string; email: string; passwordHash: string; roles: RoleGrant[] }, now: number): Promise<number> {
  const id = insertedId(
    await db.insertInto('users').values({ name: user.name, email: user.email, password_hash: user.passwordHash, created_at: now }).executeTakeFirstOrThrow(),
  );
  await insertRoles(db, id, user.roles);
  return id;
}

export async function insertRoles(db: Db, userId: number, roles: RoleGrant[]): Promise<void> {
  if (!roles.length) return;
  await db
    .insertInto('user_roles')
    .values(roles.map((r) => ({ user_id: userId, role: r.role, object_id: r.objectId ?? null })))
    .execute();
}

export async function findUserById(db: Db, id: number): Promise<User | undefined> {
  const row = await db.selectFrom('users').select(['id', 'name', 'email']).where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  return toUser(row, (await rolesByUser(db, [row.id])).get(row.id) ?? []);
}

export async function findCredentialsByEmail(db: Db, email: string) {
  return db.selectFrom('users').select(['id', 'name', 'email', 'password_hash']).where('email', '=', email).executeTakeFirst();
}

export async function findUsersByEmails(db: Db, emails: string[]) {
  if (!emails.length) return [];
  return db.selectFrom('users').select(['id', 'name', 'email']).where('email', 'in', emails).execute();
}

export async function emailOwner(db: Db, email: string): Promise<number | undefined> {
  const row = await db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst();
  return row ? Number(row.id) : undefined;
}

export async function updateUser(db: Db, id: number, fields: { name?: string; email?: string; passwordHash?: string }): Promise<void> {
  const values: { name?: string; email?: string; password_hash?: string } = {};
  if (fields.name !== undefined) values.name = fields.name;
  if (fields.email !== undefined) values.email = fields.email;
  if (fields.passwordHash !== undefined) values.password_hash = fields.passwordHash;
  if (Object.keys(values).length) await db.updateTable('users').set(values).where('id', '=', id).execute();
}

/** A page of users (limit + 1 rows fetched to answer `more`), with roles in one more query. */
export async function listUsers(db: Db, page: { offset: number; limit: number; nameLike?: string }): Promise<{ users: User[]; more: boolean }> {
  let query = db.selectFrom('users').select(['id', 'name', 'email']);
  if (page.nameLike) query = query.where(likeEscaped('name', page.nameLike));
  const rows = await query.orderBy('id').limit(page.limit + 1).offset(page.offset).execute();
  const more = rows.length > page.limit;
  const pageRows = rows.slice(0, page.limit);
  const roles = await rolesByUser(db, pageRows.map((r) => Number(r.id)));
  return { users: pageRows.map((r) => toUser(r, roles.get(Number(r.id)) ?? [])), more };
}

export async function deleteUser(db: Db, id: number): Promise<boolean> {
  const result = await db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function deleteFranchiseeRoles(db: Db, franchiseId: number): Promise<void> {
  await db.deleteFrom('user_roles').where('role', '=', 'franchisee').where('object_id', '=', franchiseId).execute();
}
