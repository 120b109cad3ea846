import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createConnection, type Connection } from 'mysql2/promise';
import { taskCpuSeconds } from './children';

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
    /**
     * CPU seconds so far of the server threads serving connections to the bench database, by thread id
     * (PROCESSLIST's TID; MariaDB runs a thread per connection): the statements' own cost, which other users of
     * a shared server do not move. Background threads (InnoDB's log writer, purge, page cleaner) are not in it.
     */
    async threadCpuSeconds(serverPid: number): Promise<Map<number, number>> {
      const [rows] = await monitor.query('select TID as tid from information_schema.PROCESSLIST where DB = ?', [name]);
      return new Map((rows as { tid: number }[]).map(({ tid }) => [Number(tid), taskCpuSeconds(serverPid, Number(tid))]));
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

/**
 * The pid of the MariaDB/MySQL server when it runs on this machine (the URL names a loopback address and
 * exactly one mariadbd or mysqld process is found in /proc), so its CPU per request can be reported.
 */
export function localDatabaseServerPid(serverUrl: string): number | undefined {
  const host = new URL(serverUrl).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host)) return undefined;
  const found: number[] = [];
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (/^(mariadbd|mysqld)$/.test(readFileSync(`/proc/${entry}/comm`, 'utf8').trim())) found.push(Number(entry));
      } catch {
        // The process ended while the list was read.
      }
    }
  } catch {
    return undefined;
  }
  return found.length === 1 ? found[0] : undefined;
}
