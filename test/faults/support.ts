import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../src/config';
import { startService, type RunningService } from '../../src/service';
import { rawRequest } from '../helpers/rawHttp';
import type { Requirement } from '../helpers/requirements';
import { freePort } from '../security/support';

export { freePort };

export const ROOT = join(__dirname, '..', '..');
const MARIADBD = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld', '/usr/bin/mariadbd'].find((p) => existsSync(p));
const INSTALL_DB = ['/usr/bin/mariadb-install-db', '/usr/bin/mysql_install_db', '/usr/scripts/mariadb-install-db'].find((p) => existsSync(p));

/** A real MariaDB server this test can start and kill on its own data directory (for requiring()). */
export function mariadbInstalled(): Requirement {
  return { available: MARIADBD !== undefined && INSTALL_DB !== undefined, missing: 'mariadbd / mariadb-install-db are not installed (apt-get install mariadb-server)' };
}

export interface MariaDb {
  port: number;
  dir: string;
  /** A database URL for `name` on this server (created by createDatabase). */
  url(name: string): string;
  createDatabase(name: string): Promise<void>;
  start(): Promise<void>;
  /** SIGKILL: the server vanishes mid-query, as in a crash or an OOM kill. */
  kill(): Promise<void>;
  /** Stops the server and removes its data directory. */
  destroy(): Promise<void>;
}

/** A private MariaDB on its own port and temp data directory, started and killed at will. */
export async function startMariaDb(): Promise<MariaDb> {
  const dir = mkdtempSync(join(tmpdir(), 'jwt-pizza-mariadb-'));
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const install = spawnSync(
    INSTALL_DB!,
    ['--no-defaults', `--datadir=${join(dir, 'data')}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...(asRoot ? ['--user=root'] : [])],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (install.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed (${install.status}): ${install.stderr || install.stdout}`);
  }
  let child: ChildProcess | undefined;
  const cleanup = () => child?.kill('SIGKILL');
  process.once('exit', cleanup);

  const server: MariaDb = {
    port,
    dir,
    url: (name) => `mysql://root@127.0.0.1:${port}/${name}`,
    async createDatabase(name) {
      const mysql = await import('mysql2/promise');
      const conn = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root' });
      await conn.query(`CREATE DATABASE IF NOT EXISTS \`${name}\``);
      await conn.end();
    },
    async start() {
      child = spawn(
        MARIADBD!,
        [
          '--no-defaults',
          `--datadir=${join(dir, 'data')}`,
          `--port=${port}`,
          `--socket=${join(dir, 'mysqld.sock')}`,
          `--pid-file=${join(dir, 'mysqld.pid')}`,
          '--bind-address=127.0.0.1',
          '--skip-log-bin',
          '--innodb-buffer-pool-size=16M',
          '--innodb-log-file-size=8M',
          '--max-connections=200',
          `--log-error=${join(dir, 'error.log')}`,
          ...(asRoot ? ['--user=root'] : []),
        ],
        { stdio: 'ignore' },
      );
      await waitForPort(port, 30_000, () => child?.exitCode !== null && child?.exitCode !== undefined);
    },
    async kill() {
      const running = child;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGKILL');
      await exited;
      await waitForPortClosed(port, 5000);
    },
    async destroy() {
      await server.kill();
      process.removeListener('exit', cleanup);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await server.start();
  } catch (error) {
    await server.destroy();
    throw error;
  }
  return server;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket: Socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function waitForPort(port: number, timeoutMs: number, gaveUp: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await canConnect(port))) {
    if (gaveUp()) throw new Error(`the process meant to listen on ${port} exited`);
    if (Date.now() > deadline) throw new Error(`nothing listened on ${port} within ${timeoutMs} ms`);
    await sleep(50);
  }
}

async function waitForPortClosed(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (await canConnect(port)) {
    if (Date.now() > deadline) throw new Error(`port ${port} still open after ${timeoutMs} ms`);
    await sleep(50);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it gives a value; `gaveUp` (as in waitForPort: the process meant to answer exited) fails the wait at once. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 100, gaveUp: () => boolean = () => false): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (gaveUp()) throw new Error(`${what}: gave up after ${timeoutMs - (deadline - Date.now())} ms`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

export interface HttpAnswer {
  status: number;
  body: any;
  text: string;
  ms: number;
  /** Set when no HTTP answer came (connection refused, reset). */
  error?: string;
}

/** One request on a fresh connection, bounded in time; transport failures are answers too. */
/** `localAddress` picks the client's source address (any of 127.0.0.0/8 on loopback), so a proxy sees distinct clients. */
export async function request(base: string, method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number; localAddress?: string } = {}): Promise<HttpAnswer> {
  const started = performance.now();
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...options.headers };
  if (payload !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  try {
    const { status, body, text, ms } = await rawRequest(base, path, { method, headers, body: payload, timeoutMs: options.timeoutMs, localAddress: options.localAddress });
    return { status, body, text, ms };
  } catch (error) {
    return { status: 0, body: undefined, text: '', ms: performance.now() - started, error: (error as NodeJS.ErrnoException).code ?? (error as Error).message };
  }
}

export interface ServiceUnderTest extends RunningService {
  logs(): Record<string, any>[];
  rawLogs(): string;
}

/** startService with a test-friendly config (any env key can be overridden) and captured logs. */
export async function startTestService(env: Record<string, string>): Promise<ServiceUnderTest> {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const config: Config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    FACTORY_PORT: '0',
    BCRYPT_ROUNDS: '4',
    LOG_LEVEL: 'info',
    JWT_SECRET: 'fault-tests-secret-that-is-long-enough-0123456789',
    ADMIN_EMAIL: 'admin@faults.test',
    ADMIN_PASSWORD: 'fault-admin-password',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...env,
  });
  const service = await startService(config, { logDestination: destination as any });
  return {
    ...service,
    logs: () => lines.map((l) => JSON.parse(l) as Record<string, any>),
    rawLogs: () => lines.join('\n'),
  };
}

export async function login(base: string, email: string, password: string): Promise<string> {
  const res = await request(base, 'PUT', '/api/auth', { body: { email, password } });
  if (res.status !== 200) throw new Error(`login ${email} failed: ${res.status} ${res.text}`);
  return res.body.token as string;
}

export async function registerDiner(base: string, tag: string): Promise<{ token: string; id: number; email: string }> {
  const email = `${tag}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}@faults.test`;
  const res = await request(base, 'POST', '/api/auth', { body: { name: tag, email, password: 'diner-password' } });
  if (res.status !== 200) throw new Error(`register failed: ${res.status} ${res.text}`);
  return { token: res.body.token, id: res.body.user.id, email };
}

/** An admin token, a franchise with one store. */
export async function setUpStore(base: string): Promise<{ adminToken: string; franchiseId: number; storeId: number }> {
  const adminToken = await login(base, 'admin@faults.test', 'fault-admin-password');
  const franchise = await request(base, 'POST', '/api/franchise', { token: adminToken, body: { name: `faults-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`, admins: [] } });
  if (franchise.status !== 200) throw new Error(`franchise: ${franchise.status} ${franchise.text}`);
  const store = await request(base, 'POST', `/api/franchise/${franchise.body.id}/store`, { token: adminToken, body: { name: 'faults store' } });
  if (store.status !== 200) throw new Error(`store: ${store.status} ${store.text}`);
  return { adminToken, franchiseId: franchise.body.id, storeId: store.body.id };
}

/** Reads one sample from a /metrics text. */
export function metricSample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return NaN;
}

/**
 * Orders placed with Idempotency-Keys against instances that failed mid-traffic: every key the clients used
 * is exactly one row, none is left pending, and each row's status and id match the key's final answer
 * (200: fulfilled, anything else: failed). Returns the rows by key.
 */
export function expectOneOrderPerKey<R extends { id: number | string; status: string; idempotency_key: string | null }>(rows: R[], finals: Map<string, HttpAnswer>): Map<string, R> {
  const byKey = new Map(rows.map((r) => [r.idempotency_key ?? '', r]));
  expect(rows.length).toBe(byKey.size);
  expect([...finals.keys()].filter((key) => !byKey.has(key))).toEqual([]);
  expect(rows.length).toBe(finals.size);
  expect(rows.filter((r) => r.status === 'pending')).toEqual([]);
  for (const [key, answer] of finals) {
    expect([key, byKey.get(key)!.status]).toEqual([key, answer.status === 200 ? 'fulfilled' : 'failed']);
    if (answer.status === 200) expect(answer.body.order.id).toBe(Number(byKey.get(key)!.id));
  }
  return byKey;
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

/** Figures for docs/reliability.md, printed only when FAULTS_REPORT is set (keeps CI output quiet). */
export function report(line: string): void {
  if (process.env.FAULTS_REPORT) console.info(line);
}

export interface SpawnedService {
  url: string;
  port: number;
  child: ChildProcess;
  /** The process's JSON log lines so far (stdout). */
  logs(): Record<string, any>[];
  /** Everything it wrote, stdout and stderr. */
  output(): string;
  /** SIGKILL: gone mid-request, as in a crash or an OOM kill. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL if it has not exited within the bound. */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * The real server (src/server.ts, as `npm start` runs it) in a child process of its own, listening on
 * 127.0.0.1:`port` (a free port when not given); resolves once /healthz answers. Only `env` and PATH/HOME
 * reach it, and it runs in `cwd` so no stray .env is read.
 */
export async function spawnService(env: Record<string, string>, options: { cwd: string; port?: number; timeoutMs?: number }): Promise<SpawnedService> {
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), join(ROOT, 'src', 'server.ts')], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', HOST: '127.0.0.1', LOG_LEVEL: 'info', LOG_PRETTY: 'false', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  let stdout = '';
  const lines: Record<string, any>[] = [];
  // Read everything the process writes, so a full pipe never blocks it.
  child.stdout!.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    chunks.push(text);
    stdout += text;
    const complete = stdout.lastIndexOf('\n');
    if (complete < 0) return;
    for (const line of stdout.slice(0, complete).split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(line) as Record<string, any>);
      } catch {
        // not a log line
      }
    }
    stdout = stdout.slice(complete + 1);
  });
  child.stderr!.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  const cleanup = () => child.kill('SIGKILL');
  process.once('exit', cleanup);
  const url = `http://127.0.0.1:${port}`;
  const service: SpawnedService = {
    url,
    port,
    child,
    logs: () => lines,
    output: () => chunks.join(''),
    async kill() {
      if (running()) child.kill('SIGKILL');
      await exited;
      process.removeListener('exit', cleanup);
    },
    async stop(timeoutMs = 10_000) {
      if (running()) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
      process.removeListener('exit', cleanup);
    },
  };
  try {
    await waitFor('the service answers /healthz', async () => {
      if (!running()) throw new Error('exited');
      return (await request(url, 'GET', '/healthz', { timeoutMs: 1000 })).status === 200;
    }, options.timeoutMs ?? 30_000);
  } catch (error) {
    await service.kill();
    throw new Error(`the service on ${port} did not start: ${(error as Error).message}\n${service.output().slice(-2000)}`);
  }
  return service;
}

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));

/** Debian's nginx (for requiring()). */
export function nginxInstalled(): Requirement {
  return { available: NGINX !== undefined, missing: 'nginx is not installed (apt-get install nginx)' };
}

/** Fills a template's ${NAME} placeholders; a placeholder without a value is an error, never left for nginx to read as a variable. */
export function renderTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\$\{(\w+)\}/g, (_match, name: string) => {
    if (values[name] === undefined) throw new Error(`template placeholder \${${name}} has no value`);
    return values[name];
  });
}

export interface RunningNginx {
  url: string;
  port: number;
  dir: string;
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * A private nginx master (one worker) as a non-daemon child, with its own prefix, pid and logs in a temp
 * directory, on a free loopback port. `render(listen)` returns http-level configuration (upstream,
 * server, ...) whose server listens on `listen`; it is included as the official image includes conf.d.
 */
export async function startNginx(render: (listen: string) => string): Promise<RunningNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'jwt-pizza-nginx-'));
  // Run as root, nginx hands requests to unprivileged workers: they must reach their temp directories.
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'logs'));
  const port = await freePort();
  writeFileSync(join(dir, 'site.conf'), render(`127.0.0.1:${port}`));
  writeFileSync(join(dir, 'nginx.conf'), ['worker_processes 1;', 'events { worker_connections 1024; }', `http { access_log off; include ${join(dir, 'site.conf')}; }`, ''].join('\n'));
  const errorLog = join(dir, 'logs', 'error.log');
  const args = ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', errorLog, '-g', `daemon off; master_process on; pid ${join(dir, 'nginx.pid')};`];
  const check = spawnSync(NGINX!, ['-t', ...args], { encoding: 'utf8', timeout: 10_000 });
  if (check.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`nginx -t refused the configuration: ${check.stderr}`);
  }
  const child = spawn(NGINX!, args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const cleanup = () => child.kill('SIGKILL');
  process.once('exit', cleanup);
  const readErrorLog = () => (existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : '');
  const nginx: RunningNginx = {
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    errorLog: readErrorLog,
    async stop() {
      // SIGTERM is nginx's fast shutdown; its workers go with the master.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      process.removeListener('exit', cleanup);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitForPort(port, 10_000, () => child.exitCode !== null);
  } catch (error) {
    const log = readErrorLog();
    await nginx.stop();
    throw new Error(`nginx did not start: ${(error as Error).message}\n${log}`);
  }
  return nginx;
}

export interface TcpForwarder {
  port: number;
  /** The target becomes unreachable: open connections are cut and new ones refused. */
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** A loopback TCP relay to `targetPort`, so one client's path to a server (a database) can be cut and restored. */
export async function startTcpForwarder(targetPort: number): Promise<TcpForwarder> {
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = createConnection({ host: '127.0.0.1', port: targetPort });
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  const listen = (port: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  const cut = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  return { port, cut, restore: () => listen(port), close: () => (server.listening ? cut() : Promise.resolve()) };
}

/** Whether Redis answers at `url`; under CI an unreachable Redis is a failure, elsewhere a skip with a warning. */
export async function redisAvailable(url: string): Promise<boolean> {
  const { default: Redis } = await import('ioredis');
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null });
  probe.on('error', () => undefined);
  const available = await probe
    .connect()
    .then(() => probe.ping())
    .then(() => true)
    .catch(() => false);
  probe.disconnect();
  if (!available && process.env.CI === 'true') throw new Error(`CI=true but Redis at ${url} is not reachable: the tests that share limits through it are mandatory in CI`);
  if (!available) console.warn(`Redis at ${url} not reachable: tests that need it skipped (they fail in CI)`);
  return available;
}
