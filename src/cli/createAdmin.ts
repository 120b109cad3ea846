import { ConfigError, loadConfig } from '../config';
import { ensureAdmin } from '../seed';
import { openDatabase } from '../shared/db';

/**
 * `npm run create-admin -- <email> <name>` with the password in ADMIN_PASSWORD (never on the command
 * line, where it would land in shell history and the process list).
 */
async function main(): Promise<void> {
  const [email, name = 'Admin'] = process.argv.slice(2);
  const password = process.env.ADMIN_PASSWORD;
  if (!email || !password) {
    console.error('usage: ADMIN_PASSWORD=<password> npm run create-admin -- <email> [name]');
    process.exit(64);
  }
  const config = loadConfig({ ...process.env, ADMIN_EMAIL: email, ADMIN_PASSWORD: password, ADMIN_NAME: name });
  const database = openDatabase(config.database, { poolSize: 1, timeoutMs: config.dbTimeoutMs });
  try {
    await database.migrate();
    const outcome = await ensureAdmin(database.db, config.admin!, config.bcryptRounds);
    console.log(`admin ${config.admin!.email} ${outcome}`);
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : `create-admin failed: ${(error as Error).message}`);
  process.exit(1);
});
