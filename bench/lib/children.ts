import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
/** bench/servers compiled; the service itself runs from dist/, the production build. */
const SERVERS_BUILD = join('bench', '.build');

/**
 * Compiles what the benchmark runs: the service through the production build (dist/, what `npm start`
 * runs) and the yardstick servers beside it. Run under a TypeScript loader instead, every named function
 * created per request is wrapped in a helper that redefines its name, which made the service's own
 * middleware look several per cent slower than it is in production.
 */
export function buildForBench(): void {
  const tsc = require.resolve('typescript/bin/tsc');
  for (const project of ['tsconfig.build.json', join('bench', 'tsconfig.servers.json')]) {
    execFileSync(process.execPath, [tsc, '-p', project], { cwd: ROOT, stdio: 'inherit' });
  }
}

/** The compiled file of a TypeScript entry: `src/server.ts` → `dist/server.js`, `bench/servers/bare.ts` → `bench/.build/bare.js`. */
export function compiledEntry(entry: string): string {
  const js = entry.replace(/\.ts$/, '.js');
  if (js.startsWith('src/')) return join('dist', js.slice('src/'.length));
  if (js.startsWith('bench/servers/')) return join(SERVERS_BUILD, js.slice('bench/servers/'.length));
  throw new Error(`no compiled form known for ${entry}`);
}
/** CPU profiles are large and machine-specific: kept out of the repository. */
export const PROFILE_DIR = join(os.tmpdir(), 'jwt-pizza-profiles');

/** A server under test, in its own process so the load generator never shares its event loop. */
export interface ChildServer {
  name: string;
  url: string;
  pid: number;
  logFile: string;
  /** Resident memory of the process and its descendants (cluster workers), in bytes. */
  rss(): number;
  /** Resolves once the process tree uses (almost) no CPU. */
  idle(): Promise<number>;
  /** CPU seconds used so far by the process tree (user + system, all threads). */
  cpuSeconds(): number;
  /** SQL statements the process has sent so far (with `countStatements`; see bench/servers/statementCounter.ts). */
  statements?(): Promise<StatementCounts>;
  /** SIGTERM, wait for the exit (graceful shutdown), SIGKILL after the timeout. */
  stop(timeoutMs?: number): Promise<number | null>;
}

/** What bench/servers/statementCounter.ts counts: statements (round trips on MySQL), transaction control, commits. */
export interface StatementCounts {
  statements: number;
  control: number;
  commits: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function childPids(pid: number): number[] {
  const found: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (children) found.push(...children.split(/\s+/).map(Number));
    }
  } catch {
    // The process is gone or /proc is not there (not Linux): no children to count.
  }
  return found;
}

function processRss(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

const CLOCK_TICKS = 100;

/** utime + stime of a /proc `stat` file (a process's, or one thread's under task/); 0 when it is gone. */
function statCpuSeconds(file: string): number {
  try {
    // Fields after the command name: utime and stime are the 12th and 13th.
    const stat = readFileSync(file, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** CPU seconds of one thread of a process (utime + stime of /proc/<pid>/task/<tid>/stat); 0 when it is gone. */
export function taskCpuSeconds(pid: number, tid: number): number {
  return statCpuSeconds(`/proc/${pid}/task/${tid}/stat`);
}

function processCpuSeconds(pid: number): number {
  return statCpuSeconds(`/proc/${pid}/stat`);
}

/** CPU seconds of a process's main thread, and of all its other threads (GC helpers, the libuv pool). */
export function threadCpuSeconds(pid: number): { main: number; others: number } {
  const out = { main: 0, others: 0 };
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const seconds = statCpuSeconds(`/proc/${pid}/task/${tid}/stat`);
      if (tid === String(pid)) out.main += seconds;
      else out.others += seconds;
    }
  } catch {
    // The process is gone.
  }
  return out;
}

/** CPU time used so far by the process and its descendants (threads included: bcrypt's pool too). */
export function treeCpuSeconds(pid: number): number {
  let total = processCpuSeconds(pid);
  for (const child of childPids(pid)) total += treeCpuSeconds(child);
  return total;
}

/**
 * Waits until the server has drained the work of the previous load (autocannon stops sending, but
 * requests already accepted, e.g. queued bcrypt hashes, still run), so it does not leak into the next.
 */
export async function waitForIdle(pid: number, options: { maxMs?: number; threshold?: number } = {}): Promise<number> {
  const started = Date.now();
  const deadline = started + (options.maxMs ?? 30_000);
  // Two readings 200 ms apart: /proc counts CPU in 10 ms ticks, so shorter windows are too coarse.
  let last = treeCpuSeconds(pid);
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    const now = treeCpuSeconds(pid);
    if ((now - last) / 0.2 < (options.threshold ?? 0.2)) break;
    last = now;
  }
  return Date.now() - started;
}

export function treeRss(pid: number): number {
  let total = processRss(pid);
  for (const child of childPids(pid)) total += treeRss(child);
  return total;
}

async function waitUntilReady(url: string, child: ChildProcess, name: string, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  while (Date.now() < deadline) {
    if (exited !== undefined) break;
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  let tail = '';
  try {
    tail = readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    // no log yet
  }
  child.kill('SIGKILL');
  throw new Error(`${name} did not become ready${exited !== undefined ? ` (exited with ${exited})` : ''}; last log lines:\n${tail}`);
}

export interface SpawnOptions {
  name: string;
  /** A TypeScript entry, relative to the repository root; its compiled JavaScript is run (see buildForBench). */
  entry: string;
  env: Record<string, string>;
  logDir: string;
  profileDir?: string;
  readyTimeoutMs?: number;
  /** The variable the entry reads its port from (default PORT). */
  portEnv?: string;
  /** Extra node flags, e.g. a --require of a bench-only hook. */
  nodeArgs?: string[];
  /** Count the SQL statements it sends (a --require'd hook on the drivers, answering on a port of its own). */
  countStatements?: boolean;
  /** Another checkout whose build to run (its dist/), e.g. the code before a change; default this one. */
  root?: string;
}

/** Starts `entry` on a free port (PORT) and waits for GET /healthz. stdout and stderr go to a log file. */
export async function spawnServer(options: SpawnOptions): Promise<ChildServer> {
  const port = await freePort();
  mkdirSync(options.logDir, { recursive: true });
  const logFile = join(options.logDir, `${options.name}-${randomBytes(3).toString('hex')}.log`);
  const logFd = openSync(logFile, 'a');
  const nodeArgs: string[] = [];
  if (options.profileDir) {
    mkdirSync(options.profileDir, { recursive: true });
    // One file per thread: the largest is the main thread's.
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${join(options.profileDir, `${options.name}-${Date.now()}`)}`);
  }
  // A clean environment: nothing from the caller's shell (no telemetry push URLs, no .env surprises).
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', HOST: '127.0.0.1', [options.portEnv ?? 'PORT']: String(port), ...options.env };
  const root = options.root ?? ROOT;
  const statementsPort = options.countStatements ? await freePort() : undefined;
  if (statementsPort !== undefined) {
    nodeArgs.push('--require', join(ROOT, compiledEntry('bench/servers/statementCounter.ts')));
    env.BENCH_STATEMENTS_PORT = String(statementsPort);
  }
  const child = spawn(process.execPath, [...nodeArgs, ...(options.nodeArgs ?? []), compiledEntry(options.entry)], { cwd: root, env, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  const url = `http://127.0.0.1:${port}`;
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await waitUntilReady(url, child, options.name, logFile, options.readyTimeoutMs ?? 60_000);
  const pid = child.pid!;
  return {
    name: options.name,
    url,
    pid,
    logFile,
    rss: () => treeRss(pid),
    idle: () => waitForIdle(pid),
    cpuSeconds: () => treeCpuSeconds(pid),
    ...(statementsPort !== undefined ? { statements: async () => (await (await fetch(`http://127.0.0.1:${statementsPort}/`)).json()) as StatementCounts } : {}),
    async stop(timeoutMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
  };
}

export const BENCH_POOL_SIZE = 10;
export const BENCH_BCRYPT_ROUNDS = 10;

/**
 * The environment of a benchmarked service process: production-like costs (bcrypt 10, one log line per
 * request, telemetry on), no demo data, one known admin, and limits raised because one client IP sends
 * everything (the per-IP limits would measure the limiter, not the service).
 */
export function benchServiceEnv(options: {
  databaseUrl: string;
  dataDir: string;
  /** Shared by every service process of a run, so a token works on each of them. */
  jwtSecret: string;
  admin: { email: string; password: string };
  extra?: Record<string, string>;
}): Record<string, string> {
  return {
    NODE_ENV: 'development',
    DATABASE_URL: options.databaseUrl,
    DATA_DIR: options.dataDir,
    JWT_SECRET: options.jwtSecret,
    BCRYPT_ROUNDS: String(BENCH_BCRYPT_ROUNDS),
    DB_POOL_SIZE: String(BENCH_POOL_SIZE),
    RATE_LIMIT_PER_MINUTE: '10000000',
    LOGIN_MAX_FAILURES_PER_IP: '100000',
    LOGIN_MAX_FAILURES_PER_ACCOUNT: '100000',
    SEED_DEMO_DATA: 'false',
    ADMIN_EMAIL: options.admin.email,
    ADMIN_PASSWORD: options.admin.password,
    FACTORY_PORT: '0',
    LOG_LEVEL: 'info',
    LOG_PRETTY: 'false',
    TELEMETRY_ENABLED: 'true',
    WEB_CONCURRENCY: '1',
    ...options.extra,
  };
}
