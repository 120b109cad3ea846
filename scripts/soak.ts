// npm run soak [-- --duration=120] [--db=sqlite|mysql] [--mysql-url=mysql://root@127.0.0.1:3306/x]
//              [--diners=6] [--max-rss-growth-mb=64] [--json=summary.json] [--keep-tmp]
//
// Runs the real server (src/server.ts, embedded factory simulator) as a child process and drives mixed
// traffic of diners, franchisees and an admin at it while the factory's chaos toggles (fail, badjwt,
// throttle bursts). Then it reconciles: orders in the database = fulfilled + failed answers given, store
// revenue = sum of fulfilled totals, nothing pending, RSS growth bounded, no 5xx other than the intended
// factory failures. Prints a summary table; exit code 0 = every check held, 1 = a violation, 2 = could not run.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const USAGE = `usage: npm run soak -- [--duration=SECONDS] [--db=sqlite|mysql] [--mysql-url=URL] [--diners=N]
                       [--max-rss-growth-mb=N] [--json=FILE] [--keep-tmp]
  --duration=120        seconds of traffic (CI: 30)
  --db=sqlite           sqlite (a temp file) or mysql (a fresh database on --mysql-url)
  --mysql-url=URL       MariaDB/MySQL server for --db=mysql (default $SOAK_MYSQL_URL or $TEST_MYSQL_URL)
  --diners=6            concurrent diners (plus 2 franchisees and 1 admin)
  --max-rss-growth-mb=64  allowed growth of the service's RSS floor (lowest sample of a fifth of the run)
                        from the fifth after warm-up to the last
  --json=FILE           also write the summary as JSON
  --keep-tmp            keep the temp dir (service.log, the SQLite file)`;

const FAILED = 'Failed to fulfill order at factory';
const ADMIN = { email: 'soak-admin@jwt.test', password: 'soak-admin-password-0123' };
const CHAOS_KEY = `soak-chaos-${randomBytes(8).toString('hex')}`;

interface Options {
  durationS: number;
  db: 'sqlite' | 'mysql';
  mysqlUrl?: string;
  diners: number;
  maxRssGrowthMb: number;
  json?: string;
  keepTmp: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { durationS: 120, db: 'sqlite', mysqlUrl: process.env.SOAK_MYSQL_URL ?? process.env.TEST_MYSQL_URL, diners: 6, maxRssGrowthMb: 64, keepTmp: false };
  for (const arg of argv) {
    const [key, value] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (key === '--duration' && value && /^\d+$/.test(value) && Number(value) >= 5) options.durationS = Number(value);
    else if (key === '--db' && (value === 'sqlite' || value === 'mysql')) options.db = value;
    else if (key === '--mysql-url' && value?.startsWith('mysql://')) options.mysqlUrl = value;
    else if (key === '--diners' && value && /^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= 100) options.diners = Number(value);
    else if (key === '--max-rss-growth-mb' && value && /^\d+$/.test(value)) options.maxRssGrowthMb = Number(value);
    else if (key === '--json' && value) options.json = value;
    else if (key === '--keep-tmp' && value === undefined) options.keepTmp = true;
    else if (key === '--help' || key === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else {
      console.error(`unknown or malformed argument: ${arg}\n${USAGE}`);
      process.exit(2);
    }
  }
  if (options.db === 'mysql' && !options.mysqlUrl) {
    console.error('--db=mysql needs --mysql-url (or SOAK_MYSQL_URL / TEST_MYSQL_URL)');
    process.exit(2);
  }
  return options;
}

// ---------------------------------------------------------------------------------------------- HTTP

interface Answer {
  status: number;
  body: any;
  ms: number;
  error?: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number; fresh?: boolean } = {},
): Promise<Answer> {
  const started = performance.now();
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve) => {
    const headers: Record<string, string> = { ...options.headers };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    // The simulator closes idle connections after 5 s, less than a chaos stretch: its calls use fresh ones.
    const req = http.request(`${base}${path}`, { method, headers, agent: options.fresh ? false : agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let body: any;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - started });
      });
    });
    req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error('timeout')));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ status: 0, body: undefined, ms: performance.now() - started, error: error.code ?? error.message }));
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)]!;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

// ------------------------------------------------------------------------------------------ the run

class Tally {
  readonly requests = new Map<string, { count: number; statuses: Record<string, number>; latencies: number[] }>();
  readonly violations: string[] = [];
  /** order id → the last answer about it: fulfilled (with its total in satoshi) or failed. */
  readonly orders = new Map<number, { status: 'fulfilled' | 'failed'; units: number }>();

  record(kind: string, answer: Answer): void {
    const entry = this.requests.get(kind) ?? { count: 0, statuses: {}, latencies: [] };
    entry.count += 1;
    const status = answer.error ? `error:${answer.error}` : String(answer.status);
    entry.statuses[status] = (entry.statuses[status] ?? 0) + 1;
    if (entry.latencies.length < 20_000) entry.latencies.push(answer.ms);
    this.requests.set(kind, entry);
    if (answer.error) this.violate(`${kind}: no answer (${answer.error})`);
    else if (answer.status >= 500 && !(kind.startsWith('order') && [502, 503].includes(answer.status) && answer.body?.message === FAILED)) {
      this.violate(`${kind}: unexpected ${answer.status} ${JSON.stringify(answer.body)?.slice(0, 200)}`);
    } else if (answer.body === undefined) this.violate(`${kind}: ${answer.status} without a JSON body`);
  }

  order(kind: string, answer: Answer): void {
    this.record(kind, answer);
    if (answer.status === 200) {
      const units = (answer.body.order.items as { price: number }[]).reduce((sum, item) => sum + Math.round(item.price * 1e8), 0);
      this.orders.set(answer.body.order.id, { status: 'fulfilled', units });
    } else if (answer.body?.message === FAILED) {
      this.orders.set(answer.body.orderId, { status: 'failed', units: 0 });
    }
  }

  violate(message: string): void {
    if (this.violations.length < 50) this.violations.push(message);
    else if (this.violations.length === 50) this.violations.push('… (more violations not listed)');
  }
}

interface Service {
  base: string;
  factoryBase: string;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startServiceProcess(dir: string, databaseUrl: string): Promise<Service> {
  const port = await freePort();
  const factoryPort = await freePort();
  const log = openSync(join(dir, 'service.log'), 'a');
  const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), join(__dirname, '..', 'src', 'server.ts')], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      FACTORY_PORT: String(factoryPort),
      FACTORY_ADMIN_KEY: CHAOS_KEY,
      FACTORY_TIMEOUT_MS: '1500',
      FACTORY_CIRCUIT_THRESHOLD: '8',
      FACTORY_CIRCUIT_COOLDOWN_MS: '1000',
      DATABASE_URL: databaseUrl,
      DATA_DIR: dir,
      JWT_SECRET: randomBytes(32).toString('hex'),
      BCRYPT_ROUNDS: '6',
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      RATE_LIMIT_PER_MINUTE: '0',
      LOGIN_MAX_FAILURES_PER_IP: '100000',
      LOG_LEVEL: 'info',
      LOG_PRETTY: 'false',
      SHUTDOWN_TIMEOUT_MS: '10000',
    },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited during start-up (code ${child.exitCode}); see ${join(dir, 'service.log')}`);
    if ((await call(base, 'GET', '/readyz', { timeoutMs: 1000 })).status === 200) break;
    if (Date.now() > deadline) throw new Error('the service did not become ready within 60 s');
    await sleep(100);
  }
  return { base, factoryBase: `http://127.0.0.1:${factoryPort}`, child, exited };
}

async function login(base: string, email: string, password: string): Promise<{ token: string; id: number }> {
  const res = await call(base, 'PUT', '/api/auth', { body: { email, password } });
  if (res.status !== 200) throw new Error(`login ${email}: ${res.status}`);
  return { token: res.body.token, id: res.body.user.id };
}

async function register(base: string, name: string): Promise<{ token: string; id: number; email: string; password: string }> {
  const email = `${name}-${randomBytes(4).toString('hex')}@soak.test`;
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const res = await call(base, 'POST', '/api/auth', { body: { name, email, password } });
  if (res.status !== 200) throw new Error(`register ${name}: ${res.status}`);
  return { token: res.body.token, id: res.body.user.id, email, password };
}

async function runTraffic(service: Service, options: Options, tally: Tally, deadline: number) {
  const { base } = service;
  const admin = await login(base, ADMIN.email, ADMIN.password);
  const franchisees = await Promise.all([1, 2].map((i) => register(base, `soak-franchisee-${i}`)));
  const stores: { franchiseId: number; storeId: number }[] = [];
  for (const [i, owner] of franchisees.entries()) {
    const franchise = await call(base, 'POST', '/api/franchise', { token: admin.token, body: { name: `soak franchise ${i} ${randomBytes(3).toString('hex')}`, admins: [{ email: owner.email }] } });
    for (const name of ['north', 'south']) {
      const store = await call(base, 'POST', `/api/franchise/${franchise.body.id}/store`, { token: owner.token, body: { name } });
      stores.push({ franchiseId: franchise.body.id, storeId: store.body.id });
    }
  }
  const diners = await Promise.all(Array.from({ length: options.diners }, (_, i) => register(base, `soak-diner-${i}`)));
  const running = () => Date.now() < deadline;

  const dinerLoop = async (diner: (typeof diners)[number], index: number) => {
    let token = diner.token;
    for (let n = 0; running(); n++) {
      tally.record('menu', await call(base, 'GET', '/api/order/menu'));
      if (n % 3 === 0) tally.record('franchise list', await call(base, 'GET', '/api/franchise?page=0&limit=10&name=*', { token }));
      const store = pick(stores);
      const items = Array.from({ length: 1 + Math.floor(Math.random() * 4) }, () => ({ menuId: 1 + Math.floor(Math.random() * 5), description: 'x', price: 0 }));
      const order = await call(base, 'POST', '/api/order', {
        token,
        headers: { 'idempotency-key': `soak-${index}-${n}-${randomBytes(3).toString('hex')}` },
        body: { franchiseId: store.franchiseId, storeId: String(store.storeId), items },
        timeoutMs: 20_000,
      });
      tally.order('order', order);
      // A diner whose pizza failed for a passing reason tries the same order again.
      if (order.status === 503 && order.body?.orderId && Math.random() < 0.5) {
        await sleep(200);
        tally.order('order retry', await call(base, 'POST', `/api/order/${order.body.orderId}/retry`, { token, timeoutMs: 20_000 }));
      }
      if (n % 4 === 0) tally.record('order history', await call(base, 'GET', '/api/order?page=1', { token }));
      if (n % 25 === 24) {
        tally.record('logout', await call(base, 'DELETE', '/api/auth', { token }));
        const again = await call(base, 'PUT', '/api/auth', { body: { email: diner.email, password: diner.password } });
        tally.record('login', again);
        if (again.status === 200) token = again.body.token;
      }
      await sleep(20 + Math.random() * 60);
    }
  };

  const franchiseeLoop = async (owner: (typeof franchisees)[number]) => {
    for (let n = 0; running(); n++) {
      tally.record('franchise dashboard', await call(base, 'GET', `/api/franchise/${owner.id}`, { token: owner.token }));
      if (n % 10 === 9) {
        const mine = await call(base, 'GET', `/api/franchise/${owner.id}`, { token: owner.token });
        const franchiseId = mine.body?.[0]?.id;
        if (franchiseId) {
          const store = await call(base, 'POST', `/api/franchise/${franchiseId}/store`, { token: owner.token, body: { name: `pop-up ${n}` } });
          tally.record('store create', store);
          await sleep(200);
          if (store.status === 200) tally.record('store delete', await call(base, 'DELETE', `/api/franchise/${franchiseId}/store/${store.body.id}`, { token: owner.token }));
        }
      }
      await sleep(250 + Math.random() * 250);
    }
  };

  const adminLoop = async () => {
    for (let n = 0; running(); n++) {
      tally.record('users list', await call(base, 'GET', '/api/user?page=1&limit=20&name=*', { token: admin.token }));
      tally.record('failures view', await call(base, 'GET', '/api/order/failures?limit=20', { token: admin.token }));
      tally.record('factory view', await call(base, 'GET', '/api/order/factory', { token: admin.token }));
      if (n % 5 === 4) tally.record('franchises (admin)', await call(base, 'GET', '/api/franchise?page=0&limit=20&name=*', { token: admin.token }));
      await sleep(500 + Math.random() * 500);
    }
  };

  // Chaos in bursts: a quiet stretch, then one kind of trouble for a while, on repeat.
  const chaosLog: string[] = [];
  const chaosLoop = async () => {
    const plan: [string, Record<string, number>][] = [
      ['fail', { ratio: 0.5 }],
      ['badjwt', { ratio: 0.5 }],
      ['throttle', { ratio: 0.3, delayMs: 2500 }],
      ['fail', { ratio: 1, burstMs: 400, gapMs: 600 }],
    ];
    const stretch = Math.max(1500, Math.min(6000, ((deadline - Date.now()) / plan.length) * 0.4));
    for (let i = 0; running(); i++) {
      await sleep(Math.min(stretch, Math.max(0, deadline - Date.now())));
      if (!running()) break;
      const [type, settings] = plan[i % plan.length]!;
      const on = await call(service.factoryBase, 'PUT', `/api/chaos/${type}`, { headers: { authorization: `Bearer ${CHAOS_KEY}` }, body: settings, fresh: true });
      if (on.status !== 200) tally.violate(`chaos ${type} could not be switched on: ${on.status}`);
      chaosLog.push(type);
      await sleep(Math.min(stretch, Math.max(0, deadline - Date.now())));
      const off = await call(service.factoryBase, 'DELETE', '/api/chaos', { headers: { authorization: `Bearer ${CHAOS_KEY}` }, fresh: true });
      if (off.status !== 200) tally.violate(`chaos could not be switched off: ${off.status}`);
    }
    await call(service.factoryBase, 'DELETE', '/api/chaos', { headers: { authorization: `Bearer ${CHAOS_KEY}` }, fresh: true });
  };

  await Promise.all([...diners.map(dinerLoop), ...franchisees.map(franchiseeLoop), adminLoop(), chaosLoop()]);
  return { admin, chaosLog };
}

// ----------------------------------------------------------------------------------- reconciliation

interface DbOrders {
  total: number;
  pending: number;
  byId: Map<number, { status: string; units: number }>;
}

async function readOrders(databaseUrl: string): Promise<DbOrders> {
  let rows: { id: number; status: string; total_units: number }[];
  if (databaseUrl.startsWith('sqlite:')) {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(databaseUrl.slice('sqlite:'.length), { readonly: true });
    rows = db.prepare('select id, status, total_units from orders').all() as typeof rows;
    db.close();
  } else {
    const mysql = await import('mysql2/promise');
    const conn = await mysql.createConnection(databaseUrl);
    [rows] = (await conn.query('select id, status, total_units from orders')) as unknown as [typeof rows];
    await conn.end();
  }
  return {
    total: rows.length,
    pending: rows.filter((r) => r.status === 'pending').length,
    byId: new Map(rows.map((r) => [Number(r.id), { status: r.status, units: Number(r.total_units) }])),
  };
}

async function storeRevenueUnits(base: string, adminToken: string): Promise<number> {
  let units = 0;
  for (let page = 0; page < 1000; page++) {
    const res = await call(base, 'GET', `/api/franchise?page=${page}&limit=100&name=*`, { token: adminToken });
    for (const franchise of res.body.franchises) for (const store of franchise.stores) units += Math.round(store.totalRevenue * 1e8);
    if (!res.body.more) break;
  }
  return units;
}

function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'jwt-pizza-soak-'));
  let service: Service | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  let exitCode = 2;
  const cleanup = () => {
    if (service && service.child.exitCode === null) service.child.kill('SIGKILL');
    if (!options.keepTmp) rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping the soak`);
      cleanup();
      process.exit(130);
    });
  }

  try {
    let databaseUrl = `sqlite:${join(dir, 'soak.db')}`;
    if (options.db === 'mysql') {
      const mysql = await import('mysql2/promise');
      const server = new URL(options.mysqlUrl!);
      const name = `jp_soak_${process.pid}_${randomBytes(3).toString('hex')}`;
      const admin = await mysql.createConnection({ host: server.hostname, port: Number(server.port || 3306), user: decodeURIComponent(server.username), password: decodeURIComponent(server.password) });
      await admin.query(`CREATE DATABASE \`${name}\``);
      await admin.end();
      server.pathname = `/${name}`;
      databaseUrl = server.toString();
      dropDatabase = async () => {
        const conn = await mysql.createConnection({ host: server.hostname, port: Number(server.port || 3306), user: decodeURIComponent(server.username), password: decodeURIComponent(server.password) });
        await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
        await conn.end();
      };
    }

    console.log(`soak: ${options.durationS} s on ${options.db}, ${options.diners} diners + 2 franchisees + 1 admin, chaos bursts; service log in ${join(dir, 'service.log')}`);
    service = await startServiceProcess(dir, databaseUrl);
    const pid = service.child.pid!;
    const tally = new Tally();
    const started = Date.now();
    const deadline = started + options.durationS * 1000;
    const rssSamples: number[] = [rssMb(pid)];
    const sampler = setInterval(() => rssSamples.push(rssMb(pid)), 1000);
    const { admin, chaosLog } = await runTraffic(service, options, tally, deadline);
    clearInterval(sampler);
    rssSamples.push(rssMb(pid));
    const elapsedS = (Date.now() - started) / 1000;

    // Reconcile against the database and the service's own revenue view.
    const db = await readOrders(databaseUrl);
    const answeredFulfilled = [...tally.orders.values()].filter((o) => o.status === 'fulfilled');
    const answeredFailed = [...tally.orders.values()].filter((o) => o.status === 'failed');
    const dbFulfilledUnits = [...db.byId.values()].filter((o) => o.status === 'fulfilled').reduce((sum, o) => sum + o.units, 0);
    const answeredUnits = answeredFulfilled.reduce((sum, o) => sum + o.units, 0);
    const revenueUnits = await storeRevenueUnits(service.base, admin.token);
    let disagreements = 0;
    for (const [id, answer] of tally.orders) if (db.byId.get(id)?.status !== answer.status) disagreements += 1;

    // Warm-up: the first fifth of the run (JIT, pools, caches) is not growth. Growth is the floor of the last fifth
    // against the floor of the fifth after warm-up: one sample lands anywhere in a collection cycle, and RSS swings
    // by tens of MB within one (a 25 s run here: floor 138-152 MB, peaks 194-214 MB), so two single samples read a
    // swing as growth (a CI run: 144 -> 214 MB). A leak raises the floor.
    const fifth = Math.max(1, Math.floor(rssSamples.length / 5));
    const warm = Math.min(...rssSamples.slice(fifth, 2 * fifth));
    const rssEnd = Math.min(...rssSamples.slice(-fifth));
    const rssGrowth = rssEnd - warm;

    service.child.kill('SIGTERM');
    const stopStarted = Date.now();
    const exit = await Promise.race([service.exited, sleep(20_000).then(() => ({ code: null, signal: 'timeout' as const }))]);
    const stopMs = Date.now() - stopStarted;

    const checks: [string, boolean, string][] = [
      ['orders in DB = fulfilled + failed answers', db.total === answeredFulfilled.length + answeredFailed.length, `${db.total} = ${answeredFulfilled.length} + ${answeredFailed.length}`],
      ['every answer agrees with its order row', disagreements === 0, `${disagreements} disagree`],
      ['no order left pending', db.pending === 0, `${db.pending} pending`],
      ['store revenue = fulfilled totals (DB)', revenueUnits === dbFulfilledUnits, `${revenueUnits} = ${dbFulfilledUnits} sat`],
      ['fulfilled totals (DB) = answered totals', dbFulfilledUnits === answeredUnits, `${dbFulfilledUnits} = ${answeredUnits} sat`],
      ['no 5xx but the intended factory failures', tally.violations.length === 0, `${tally.violations.length} violations`],
      [`RSS growth after warm-up ≤ ${options.maxRssGrowthMb} MB`, rssGrowth <= options.maxRssGrowthMb, `${warm.toFixed(0)} → ${rssEnd.toFixed(0)} MB (max ${Math.max(...rssSamples).toFixed(0)})`],
      ['SIGTERM: exit 0', exit.code === 0, `code ${exit.code} after ${stopMs} ms`],
    ];

    const rows = [...tally.requests.entries()].sort((a, b) => b[1].count - a[1].count);
    const total = rows.reduce((sum, [, r]) => sum + r.count, 0);
    console.log(`\n${total} requests in ${elapsedS.toFixed(1)} s (${(total / elapsedS).toFixed(0)}/s); chaos: ${chaosLog.join(' → ') || 'none'}\n`);
    console.log(`${'request'.padEnd(22)}${'count'.padStart(8)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}  statuses`);
    for (const [kind, r] of rows) {
      console.log(`${kind.padEnd(22)}${String(r.count).padStart(8)}${percentile(r.latencies, 50).toFixed(1).padStart(9)}${percentile(r.latencies, 99).toFixed(1).padStart(9)}  ${Object.entries(r.statuses).map(([s, n]) => `${s}×${n}`).join(' ')}`);
    }
    console.log(`\norders: ${tally.orders.size} (${answeredFulfilled.length} fulfilled, ${answeredFailed.length} failed); revenue ${(revenueUnits / 1e8).toFixed(8)} BTC\n`);
    for (const [name, ok, detail] of checks) console.log(`${ok ? 'PASS' : 'FAIL'}  ${name.padEnd(44)} ${detail}`);
    for (const violation of tally.violations.slice(0, 20)) console.log(`  violation: ${violation}`);

    const failed = checks.filter(([, ok]) => !ok);
    exitCode = failed.length ? 1 : 0;
    if (options.json) {
      writeFileSync(
        options.json,
        JSON.stringify(
          {
            ok: exitCode === 0,
            durationS: elapsedS,
            db: options.db,
            requests: total,
            requestsByKind: Object.fromEntries(rows.map(([kind, r]) => [kind, { count: r.count, statuses: r.statuses, p50Ms: percentile(r.latencies, 50), p99Ms: percentile(r.latencies, 99) }])),
            orders: { total: db.total, fulfilled: answeredFulfilled.length, failed: answeredFailed.length, pending: db.pending },
            revenueUnits,
            rssMb: { warm, end: rssEnd, max: Math.max(...rssSamples), growth: rssGrowth, samples: rssSamples.map((mb) => Math.round(mb)) },
            checks: checks.map(([name, ok, detail]) => ({ name, ok, detail })),
            violations: tally.violations,
            chaos: chaosLog,
          },
          null,
          2,
        ),
      );
    }
  } catch (error) {
    console.error(`soak could not run: ${error instanceof Error ? error.message : String(error)}`);
    exitCode = 2;
  } finally {
    agent.destroy();
    if (service && service.child.exitCode === null && service.child.signalCode === null) {
      service.child.kill('SIGKILL');
      await service.exited;
    }
    await dropDatabase?.().catch(() => undefined);
  }
  process.exit(exitCode);
}

void main();
