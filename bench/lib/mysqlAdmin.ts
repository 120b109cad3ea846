import { randomBytes } from 'node:crypto';
import { createConnection, type Connection } from 'mysql2/promise';

function serverOptions(serverUrl: string) {
  const url = new URL(serverUrl);
  return { host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
}

/**
 * A fresh database on the benchmark's MariaDB/MySQL server (named jp_bench_*, so test clean-ups of
 * jp_test_* never touch it), plus a monitor connection with no default database, so it is not
 * counted among the service's connections.
 */
export async function createBenchDatabase(serverUrl: string) {
  const name = `jp_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const monitor: Connection = await createConnection(serverOptions(serverUrl));
  await monitor.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const [versionRows] = await monitor.query('select version() as v');
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    version: String((versionRows as { v: string }[])[0].v),
    /** Connections open on the bench database now (every process: service, workers, yardsticks). */
    async connections(): Promise<number> {
      const [rows] = await monitor.query('select count(*) as n from information_schema.PROCESSLIST where DB = ?', [name]);
      return Number((rows as { n: number }[])[0].n);
    },
    /** Server-wide (other users of the server included). */
    async threadsConnected(): Promise<number> {
      const [rows] = await monitor.query("show status like 'Threads_connected'");
      return Number((rows as { Value: string }[])[0].Value);
    },
    async drop(): Promise<void> {
      await monitor.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await monitor.end();
    },
  };
}

export type BenchDatabase = Awaited<ReturnType<typeof createBenchDatabase>>;
