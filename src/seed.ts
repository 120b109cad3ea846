import bcrypt from 'bcrypt';
import type { Config } from './config';
import type { Db } from './shared/db';
import type { Logger } from './shared/logging/logger';
import { btcToUnits } from './shared/money';
import { insertFranchise, insertStore } from './franchises/franchisesRepository';
import { insertMenuItem, menuIsEmpty } from './menu/menuRepository';
import { emailOwner, insertRoles, insertUser, rolesByUser, updateUser } from './users/usersRepository';

export const CLASSIC_MENU = [
  { title: 'Veggie', description: 'A garden of delight', image: 'pizza1.png', price: 0.0038 },
  { title: 'Pepperoni', description: 'Spicy treat', image: 'pizza2.png', price: 0.0042 },
  { title: 'Margarita', description: 'Essential classic', image: 'pizza3.png', price: 0.0042 },
  { title: 'Crusty', description: 'A dry mouthed favorite', image: 'pizza4.png', price: 0.0028 },
  { title: 'Charred Leopard', description: 'For those with a darker side', image: 'pizza5.png', price: 0.0099 },
];

/** Development only: the classic demo accounts of the course frontend. Never seeded in production. */
export const DEMO_USERS = [
  { name: '常用名字', email: 'a@jwt.com', password: 'admin', role: 'admin' as const },
  { name: 'pizza diner', email: 'd@jwt.com', password: 'diner', role: 'diner' as const },
  { name: 'pizza franchisee', email: 'f@jwt.com', password: 'franchisee', role: 'diner' as const },
];

export async function seedMenu(db: Db): Promise<boolean> {
  if (!(await menuIsEmpty(db))) return false;
  for (const item of CLASSIC_MENU) await insertMenuItem(db, { ...item, priceUnits: btcToUnits(item.price) });
  return true;
}

export async function seedDemoData(db: Db, rounds: number): Promise<boolean> {
  if (await emailOwner(db, 'a@jwt.com')) return false;
  await db.transaction().execute(async (trx) => {
    const ids: Record<string, number> = {};
    for (const user of DEMO_USERS) {
      ids[user.email] = await insertUser(trx, { name: user.name, email: user.email, passwordHash: await bcrypt.hash(user.password, rounds), roles: [{ role: user.role }] }, Date.now());
    }
    const franchiseId = await insertFranchise(trx, 'pizzaPocket');
    await insertRoles(trx, ids['f@jwt.com'], [{ role: 'franchisee', objectId: franchiseId }]);
    await insertStore(trx, franchiseId, 'SLC');
  });
  return true;
}

/** ADMIN_EMAIL/ADMIN_PASSWORD: create that admin, or bring an existing account's password and role up to date. */
export async function ensureAdmin(db: Db, admin: NonNullable<Config['admin']>, rounds: number): Promise<'created' | 'updated'> {
  const passwordHash = await bcrypt.hash(admin.password, rounds);
  const existing = await emailOwner(db, admin.email);
  if (existing === undefined) {
    await insertUser(db, { name: admin.name, email: admin.email, passwordHash, roles: [{ role: 'admin' }] }, Date.now());
    return 'created';
  }
  await updateUser(db, existing, { passwordHash });
  const roles = (await rolesByUser(db, [existing])).get(existing) ?? [];
  if (!roles.some((r) => r.role === 'admin')) await insertRoles(db, existing, [{ role: 'admin' }]);
  return 'updated';
}

export async function seed(db: Db, config: Config, logger: Logger): Promise<void> {
  if (await seedMenu(db)) logger.info({ type: 'db' }, 'seeded the menu');
  if (config.seedDemoData && (await seedDemoData(db, config.bcryptRounds))) logger.info({ type: 'db' }, 'seeded demo users a@jwt.com, d@jwt.com, f@jwt.com and franchise pizzaPocket');
  if (config.admin) logger.info({ type: 'db', email: config.admin.email }, `admin account ${await ensureAdmin(db, config.admin, config.bcryptRounds)}`);
}
