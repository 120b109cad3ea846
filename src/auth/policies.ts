import type { User } from '../users/usersRepository';

/** One-line authorization rules; routers and use cases ask these, never inspect roles themselves. */
export const isAdmin = (user: User | undefined): boolean => !!user?.roles.some((r) => r.role === 'admin');
export const canActOnUser = (user: User, userId: number): boolean => user.id === userId || isAdmin(user);
export const isFranchiseeOf = (user: User, franchiseId: number): boolean =>
  user.roles.some((r) => r.role === 'franchisee' && r.objectId === franchiseId);
export const canManageFranchise = (user: User, franchiseId: number): boolean => isAdmin(user) || isFranchiseeOf(user, franchiseId);
