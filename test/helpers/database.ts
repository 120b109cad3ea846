import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';

export type Backend = 'sqlite' | 'mysql';

export function currentBackend(): Backend {
  return process.env.TEST_DB === 'mysql' ? 'mysql' : 'sqlite';
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh, empty database per test file: a temp SQLite file, or a uniquely named database on the
 * MariaDB/MySQL server of TEST_MYSQL_URL. The service's own migrations build the schema.
 */
export async function createTestDatabase(backend: Backend = currentBackend()): Promise<TestDatabase> {
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'jwt-pizza-test-'));
    return { url: `sqlite:${join(dir, 'pizza.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const serverUrl = process.env.TEST_MYSQL_URL;
  if (!serverUrl) throw new Error('TEST_DB=mysql needs TEST_MYSQL_URL (mysql://user:pass@host:port/anydb)');
  const name = `jp_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const server = new URL(serverUrl);
  const admin = await createConnection({ host: server.hostname, port: Number(server.port || 3306), user: decodeURIComponent(server.username), password: decodeURIComponent(server.password) });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const conn = await createConnection({ host: server.hostname, port: Number(server.port || 3306), user: decodeURIComponent(server.username), password: decodeURIComponent(server.password) });
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await conn.end();
    },
  };
}
