import { createConnection } from 'mysql2/promise';
import { requiring } from '../helpers/requirements';
import {
  mariadbInstalled,
  report,
  metricSample,
  registerDiner,
  request,
  setUpStore,
  sleep,
  startMariaDb,
  startTestService,
  waitFor,
  type HttpAnswer,
  type MariaDb,
  type ServiceUnderTest,
} from './support';

// The database dies (SIGKILL) under traffic and comes back on the same data directory and port. The
// service must answer fast with 503 JSON while it is gone, report it (/readyz, db_up), reconnect by itself,
// and leave no order half-written.

jest.setTimeout(120_000);

const maybe = requiring(mariadbInstalled()).describe;

maybe('MariaDB killed and restarted mid-traffic', () => {
  let db: MariaDb;
  let service: ServiceUnderTest;

  beforeAll(async () => {
    db = await startMariaDb();
    await db.createDatabase('pizza');
    service = await startTestService({ DATABASE_URL: db.url('pizza'), DB_TIMEOUT_MS: '1000', DB_POOL_SIZE: '5', FACTORY_TIMEOUT_MS: '3000' });
  }, 90_000);
  afterAll(async () => {
    await service?.shutdown();
    await db?.destroy();
  }, 60_000);

  test('when the database is killed and restarted, then requests fail fast with 503 JSON, readiness follows, the pool recovers and no order is half-written', async () => {
    const base = service.url;
    const { franchiseId, storeId } = await setUpStore(base);
    const diners = await Promise.all([1, 2, 3, 4].map((i) => registerDiner(base, `db-diner-${i}`)));

    /** phase: when the request was sent; ended: when its answer came. */
    type Result = HttpAnswer & { phase: string; ended: string; kind: string; key?: string };
    const results: Result[] = [];
    let phase = 'before';
    let stop = false;
    let sequence = 0;
    const workers = diners.map(async (diner) => {
      while (!stop) {
        const key = `db-fault-${diner.id}-${++sequence}`;
        const started = phase;
        const order = await request(base, 'POST', '/api/order', {
          token: diner.token,
          headers: { 'idempotency-key': key },
          body: { franchiseId, storeId: String(storeId), items: [{ menuId: 1 }, { menuId: 3 }] },
          timeoutMs: 30_000,
        });
        results.push({ ...order, phase: started, ended: phase, kind: 'order', key });
        const again = phase;
        const history = await request(base, 'GET', '/api/order?page=1', { token: diner.token, timeoutMs: 30_000 });
        results.push({ ...history, phase: again, ended: phase, kind: 'history' });
        await sleep(20);
      }
    });
    // Readers keep calling while the orders are stuck at the slow factory.
    const readers = diners.slice(0, 2).map(async (diner) => {
      while (!stop) {
        const started = phase;
        const me = await request(base, 'GET', '/api/user/me', { token: diner.token, timeoutMs: 30_000 });
        results.push({ ...me, phase: started, ended: phase, kind: 'me' });
        const franchises = await request(base, 'GET', '/api/franchise?page=0&limit=10&name=*', { timeoutMs: 30_000 });
        results.push({ ...franchises, phase: started, ended: phase, kind: 'franchises' });
        await sleep(20);
      }
    });

    await sleep(1000);
    // Slow pizzas: the orders in flight when the database dies are at the factory, and come back to
    // record their outcome while it is still gone.
    service.simulator!.simulator.chaos.activate('throttle', { delayMs: 1500 });
    await sleep(400);
    phase = 'down';
    await db.kill();

    // While it is gone: fast, JSON, 503, and said so by /readyz and db_up.
    const me = await request(base, 'GET', '/api/user/me', { token: diners[0].token });
    expect([me.status, typeof me.body?.message]).toEqual([503, 'string']);
    expect(me.ms).toBeLessThan(3000);
    const ready = await request(base, 'GET', '/readyz');
    expect([ready.status, ready.body?.status]).toEqual([503, 'not ready']);
    expect(ready.ms).toBeLessThan(3000);
    expect(metricSample((await request(base, 'GET', '/metrics')).text, 'db_up')).toBe(0);
    const login = await request(base, 'PUT', '/api/auth', { body: { email: diners[1].email, password: 'diner-password' } });
    expect(login.status).toBe(503);
    // Down long enough that the slow pizzas come back before the database does.
    await sleep(2000);

    phase = 'restarting';
    service.simulator!.simulator.chaos.end();
    await db.start();
    await waitFor('/readyz answers 200 again without a service restart', async () => (await request(base, 'GET', '/readyz')).status === 200, 30_000);
    expect(metricSample((await request(base, 'GET', '/metrics')).text, 'db_up')).toBe(1);
    phase = 'after';
    await sleep(1500);
    stop = true;
    await Promise.all([...workers, ...readers]);

    // The orders that were at the factory when the database died waited for it and were recorded.
    const inFlight = results.filter((r) => r.kind === 'order' && r.phase === 'before' && r.ended !== 'before');
    expect(inFlight.length).toBeGreaterThan(0);
    expect(inFlight.map((r) => r.status)).toEqual(inFlight.map(() => 200));
    expect(service.logs().filter((l) => l.msg?.startsWith('order step failed')).length).toBeGreaterThan(0);

    // Every answer is JSON; nothing is a 500; whatever failed while the database was away is a 503.
    for (const r of results) {
      expect([r.kind, r.phase, r.error]).toEqual([r.kind, r.phase, undefined]);
      expect(typeof r.body).toBe('object');
      expect([r.kind, r.phase, r.status === 500]).toEqual([r.kind, r.phase, false]);
    }
    const down = results.filter((r) => r.phase === 'down');
    expect(down.length).toBeGreaterThan(0);
    expect(down.filter((r) => r.status >= 500).every((r) => r.status === 503 && typeof r.body.message === 'string')).toBe(true);
    // Once it is back, everything works again.
    const after = results.filter((r) => r.phase === 'after');
    expect(after.length).toBeGreaterThan(4);
    expect(after.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
    expect(results.filter((r) => r.ended === 'before').map((r) => r.status).filter((s) => s !== 200)).toEqual([]);

    // No order half-written: every row has its items and a final state, and it agrees with the answer.
    const conn = await createConnection({ host: '127.0.0.1', port: db.port, user: 'root', database: 'pizza' });
    try {
      const [rows] = (await conn.query(
        'select o.id, o.status, o.idempotency_key as idempotencyKey, (select count(*) from order_items i where i.order_id = o.id) as items from orders o',
      )) as unknown as [{ id: number; status: string; idempotencyKey: string; items: number }[]];
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.filter((r) => Number(r.items) !== 2)).toEqual([]);
      expect(rows.filter((r) => r.status === 'pending')).toEqual([]);
      const answers = new Map(results.filter((r) => r.kind === 'order').map((r) => [r.key!, r]));
      for (const row of rows) {
        const answer = answers.get(row.idempotencyKey)!;
        if (answer.status === 200) expect([row.idempotencyKey, row.status]).toEqual([row.idempotencyKey, 'fulfilled']);
        if (row.status === 'fulfilled') expect([row.idempotencyKey, answer.status]).toEqual([row.idempotencyKey, 200]);
      }
      const [duplicates] = (await conn.query('select idempotency_key, count(*) as n from orders group by diner_id, idempotency_key having count(*) > 1')) as unknown as [unknown[]];
      expect(duplicates).toEqual([]);
    } finally {
      await conn.end();
    }
    expect(service.logs().some((l) => l.type === 'db' && l.msg === 'database unavailable')).toBe(true);
    report(
      `database fault: /api/user/me ${me.ms.toFixed(0)} ms, /readyz ${ready.ms.toFixed(0)} ms while down (max of all 503s ${Math.max(...results.filter((r) => r.status === 503).map((r) => r.ms)).toFixed(0)} ms); ${results.length} requests (${down.length} while down), ${service.logs().filter((l) => l.msg?.startsWith('order step failed')).length} order steps retried, statuses ${JSON.stringify(
        results.reduce<Record<string, number>>((acc, r) => ({ ...acc, [`${r.phase}:${r.status}`]: (acc[`${r.phase}:${r.status}`] ?? 0) + 1 }), {}),
      )}`,
    );
  });
});
