import { canActOnUser, canManageFranchise, isAdmin } from '../auth/policies';
import type { SessionUser } from '../auth/sessionsRepository';
import type { AppContext } from '../context';
import { isUniqueViolation } from '../shared/db';
import { wildcardToLike } from '../shared/db/like';
import { conflict, forbidden, notFound } from '../shared/errors';
import { deleteFranchiseeRoles, findUsersByEmails, insertRoles } from '../users/usersRepository';
import * as repo from './franchisesRepository';

export async function listFranchisesPage(ctx: AppContext, viewer: SessionUser | undefined, query: { page: number; limit: number; name?: string }) {
  return repo.listFranchises(ctx.db, {
    offset: query.page * query.limit,
    limit: query.limit,
    nameLike: wildcardToLike(query.name),
    withAdminDetail: isAdmin(viewer),
  });
}

export async function franchisesOfUser(ctx: AppContext, viewer: SessionUser, userId: number) {
  if (!canActOnUser(viewer, userId)) throw forbidden('you may only list your own franchises');
  return repo.franchisesOfUser(ctx.db, userId);
}

export async function createFranchise(ctx: AppContext, input: { name: string; admins: { email: string }[] }) {
  const emails = [...new Set(input.admins.map((a) => a.email))];
  return ctx.db.transaction().execute(async (trx) => {
    const users = await findUsersByEmails(trx, emails);
    const missing = emails.filter((e) => !users.some((u) => u.email === e));
    if (missing.length) throw notFound(`unknown user for franchise admin ${missing[0]}`);
    let id: number;
    try {
      id = await repo.insertFranchise(trx, input.name);
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict('franchise name already exists');
      throw error;
    }
    for (const user of users) await insertRoles(trx, Number(user.id), [{ role: 'franchisee', objectId: id }]);
    return { id, name: input.name, admins: users.map((u) => ({ email: u.email, id: Number(u.id), name: u.name })) };
  });
}

export async function removeFranchise(ctx: AppContext, franchiseId: number): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    await deleteFranchiseeRoles(trx, franchiseId);
    if (!(await repo.deleteFranchise(trx, franchiseId))) throw notFound('franchise not found');
  });
}

export async function createStore(ctx: AppContext, actor: SessionUser, franchiseId: number, name: string) {
  if (!canManageFranchise(actor, franchiseId)) throw forbidden('not a franchisee of this franchise');
  if (!(await repo.franchiseExists(ctx.db, franchiseId))) throw notFound('franchise not found');
  const id = await repo.insertStore(ctx.db, franchiseId, name);
  return { id, franchiseId, name, totalRevenue: 0 };
}

export async function removeStore(ctx: AppContext, actor: SessionUser, franchiseId: number, storeId: number): Promise<void> {
  if (!canManageFranchise(actor, franchiseId)) throw forbidden('not a franchisee of this franchise');
  if (!(await repo.deleteStore(ctx.db, franchiseId, storeId))) throw notFound('store not found');
}
