import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { freePort, login, report, request, ROOT, sleep, tempDir, waitFor, type HttpAnswer } from './support';

// SIGTERM to the real server process (src/server.ts, as `npm start` runs it) while slow orders are in
// flight: every in-flight request completes with its JSON answer, new connections are refused at once,
// and the process exits 0 within a bound, with every order recorded.

jest.setTimeout(60_000);

const ADMIN_KEY = 'sigterm-factory-admin-key-0123456789';

describe('SIGTERM during load', () => {
  const dir = tempDir('jwt-pizza-sigterm-');
  let child: ChildProcess | undefined;
  const output: string[] = [];

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    dir.remove();
  });

  test('when SIGTERM arrives with slow orders in flight, then they complete with JSON, new connections are refused and the process exits 0 within 10 s', async () => {
    const port = await freePort();
    const factoryPort = await freePort();
    const dbFile = join(dir.path, 'pizza.db');
    child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), join(ROOT, 'src', 'server.ts')], {
      cwd: dir.path, // no stray .env is read
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'development',
        HOST: '127.0.0.1',
        PORT: String(port),
        FACTORY_PORT: String(factoryPort),
        FACTORY_ADMIN_KEY: ADMIN_KEY,
        FACTORY_TIMEOUT_MS: '8000',
        DATABASE_URL: `sqlite:${dbFile}`,
        DATA_DIR: dir.path,
        BCRYPT_ROUNDS: '4',
        LOG_LEVEL: 'info',
        LOG_PRETTY: 'false',
        SHUTDOWN_TIMEOUT_MS: '8000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Read everything the process writes, so a full pipe never blocks it.
    child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
      child!.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
    );
    const base = `http://127.0.0.1:${port}`;
    await waitFor('the server answers /healthz', async () => (await request(base, 'GET', '/healthz', { timeoutMs: 1000 })).status === 200, 30_000);

    const token = await login(base, 'd@jwt.com', 'diner');
    const throttle = await request(`http://127.0.0.1:${factoryPort}`, 'PUT', '/api/chaos/throttle', { headers: { authorization: `Bearer ${ADMIN_KEY}` }, body: { delayMs: 1500 } });
    expect(throttle.status).toBe(200);

    const inFlight: Promise<HttpAnswer>[] = [];
    for (let i = 0; i < 8; i++) {
      inFlight.push(
        request(base, 'POST', '/api/order', {
          token,
          headers: { 'idempotency-key': `sigterm-${i}` },
          body: { franchiseId: 1, storeId: '1', items: [{ menuId: 1 }, { menuId: 4 }] },
          timeoutMs: 20_000,
        }),
      );
      await sleep(25);
    }
    await sleep(400); // every order is now waiting at the slow factory

    const signalledAt = performance.now();
    child.kill('SIGTERM');
    await sleep(200);
    const late = await request(base, 'GET', '/healthz', { timeoutMs: 2000 });
    expect(late.error).toBe('ECONNREFUSED');

    const answers = await Promise.all(inFlight);
    expect(answers.map((a) => [a.status, a.error])).toEqual(answers.map(() => [200, undefined]));
    for (const a of answers) expect(a.body).toEqual({ order: expect.objectContaining({ id: expect.any(Number), items: expect.any(Array) }), jwt: expect.any(String) });

    const { code, signal, at } = await exit;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(at - signalledAt).toBeLessThan(10_000);

    const db = new Database(dbFile, { readonly: true });
    try {
      const rows = db.prepare("select status, count(*) as n from orders where idempotency_key like 'sigterm-%' group by status").all();
      expect(rows).toEqual([{ status: 'fulfilled', n: 8 }]);
    } finally {
      db.close();
    }
    const log = output.join('');
    expect(log).toMatch(/shutting down: draining in-flight requests/);
    expect(log).toMatch(/shutdown complete/);
    report(`sigterm: 8 in-flight orders answered 200 after SIGTERM, exit 0 after ${Math.round(at - signalledAt)} ms`);
  });
});
