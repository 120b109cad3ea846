import { join } from 'node:path';
import Database from 'better-sqlite3';
import { freePort, login, report, request, sleep, spawnService, tempDir, type HttpAnswer, type SpawnedService } from './support';

// SIGTERM to the real server process (src/server.ts, as `npm start` runs it) while slow orders are in
// flight: every in-flight request completes with its JSON answer, new connections are refused at once,
// and the process exits 0 within a bound, with every order recorded.

jest.setTimeout(60_000);

const ADMIN_KEY = 'sigterm-factory-admin-key-0123456789';

describe('SIGTERM during load', () => {
  const dir = tempDir('jwt-pizza-sigterm-');
  let service: SpawnedService | undefined;

  afterAll(async () => {
    await service?.kill();
    dir.remove();
  });

  test('when SIGTERM arrives with slow orders in flight, then they complete with JSON, new connections are refused and the process exits 0 within 10 s', async () => {
    const factoryPort = await freePort();
    const dbFile = join(dir.path, 'pizza.db');
    // As `npm start` runs it: development, the embedded factory simulator, its chaos key.
    service = await spawnService(
      {
        NODE_ENV: 'development',
        FACTORY_PORT: String(factoryPort),
        FACTORY_ADMIN_KEY: ADMIN_KEY,
        FACTORY_TIMEOUT_MS: '8000',
        DATABASE_URL: `sqlite:${dbFile}`,
        DATA_DIR: dir.path,
        BCRYPT_ROUNDS: '4',
        SHUTDOWN_TIMEOUT_MS: '8000',
      },
      { cwd: dir.path },
    );
    const child = service.child;
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
    );
    const base = service.url;

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
    const log = service.output();
    expect(log).toMatch(/shutting down: draining in-flight requests/);
    expect(log).toMatch(/shutdown complete/);
    report(`sigterm: 8 in-flight orders answered 200 after SIGTERM, exit 0 after ${Math.round(at - signalledAt)} ms`);
  });
});
