import { join } from 'node:path';
import { startFactorySimulator, type RunningFactorySimulator } from '../../src/factory/simulator';
import { expectOneOrderPerKey, registerDiner, report, request, setUpStore, sleep, startTestService, tempDir, type HttpAnswer, type ServiceUnderTest } from './support';

// Two instances behind one database; one is cut off abruptly mid-traffic (every connection closed, as a
// crashed node or a network cut looks to clients). Clients retry with the same Idempotency-Key on the
// survivor. Nothing is lost or made twice: one order row per key, its status agrees with the final
// answer, no order stays pending, and the factory made exactly one call per order.

jest.setTimeout(60_000);

const API_KEY = 'two-instances-factory-key-0123456789';
const FAILED = 'Failed to fulfill order at factory';

describe('two instances, one cut off mid-traffic', () => {
  const dir = tempDir('jwt-pizza-two-instances-');
  let factory: RunningFactorySimulator;
  let a: ServiceUnderTest;
  let b: ServiceUnderTest;

  beforeAll(async () => {
    factory = await startFactorySimulator({ apiKey: API_KEY, adminKey: 'two-instances-admin-key', port: 0 });
    const env = {
      DATABASE_URL: `sqlite:${join(dir.path, 'shared.db')}`,
      FACTORY_URL: factory.url,
      FACTORY_API_KEY: API_KEY,
      FACTORY_TIMEOUT_MS: '3000',
      FACTORY_CIRCUIT_THRESHOLD: '1000',
    };
    a = await startTestService(env);
    b = await startTestService(env);
  });
  afterAll(async () => {
    await a?.shutdown();
    await b?.shutdown();
    await factory?.close();
    dir.remove();
  });

  test('when instance A drops every connection mid-traffic, then retries on B lose no order and duplicate none', async () => {
    const { franchiseId, storeId } = await setUpStore(a.url);
    const diners = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => registerDiner(b.url, `two-${i}`)));
    factory.simulator.chaos.activate('fail', { ratio: 0.3 });

    let aAlive = true;
    let stop = false;
    const finals = new Map<string, HttpAnswer>();
    const attempts: { key: string; instance: string; status: number; error?: string }[] = [];

    /** One order, retried with the same key until it has a final answer (200, or the factory failure). */
    async function orderUntilFinal(diner: { token: string }, key: string, first: ServiceUnderTest) {
      let target = first;
      for (let attempt = 0; attempt < 100; attempt++) {
        if (target === a && !aAlive) target = b;
        const res = await request(target.url, 'POST', '/api/order', {
          token: diner.token,
          headers: { 'idempotency-key': key },
          body: { franchiseId, storeId, items: [{ menuId: 2 }, { menuId: 5 }] },
          timeoutMs: 10_000,
        });
        attempts.push({ key, instance: target === a ? 'A' : 'B', status: res.status, error: res.error });
        if (res.status === 200 || (res.status >= 502 && res.body?.message === FAILED)) {
          finals.set(key, res);
          return;
        }
        // No answer (A is gone) or 409 (still being made on A): ask the survivor again shortly.
        target = b;
        await sleep(50);
      }
      throw new Error(`order ${key} never got a final answer`);
    }

    const workers = diners.map(async (diner, w) => {
      for (let i = 0; !stop; i++) {
        await orderUntilFinal(diner, `two-${diner.id}-${i}`, (w + i) % 2 ? a : b);
      }
    });

    await sleep(800);
    // Slow pizzas for a moment, so orders are in flight on A when it is cut off.
    factory.simulator.chaos.activate('throttle', { delayMs: 500 });
    await sleep(250);
    aAlive = false;
    a.server.closeAllConnections();
    a.server.close();
    await sleep(300);
    factory.simulator.chaos.activate('fail', { ratio: 0.3 });
    await sleep(800);
    stop = true;
    await Promise.all(workers);
    // A's process keeps running: let the handlers it still has finish and record their orders.
    await a.shutdown();
    factory.simulator.chaos.end();

    const cut = attempts.filter((r) => r.instance === 'A' && r.error);
    expect(cut.length).toBeGreaterThan(0);

    const rows = await b.ctx.db.selectFrom('orders').select(['id', 'status', 'idempotency_key', 'diner_id']).where('idempotency_key', 'like', 'two-%').execute();
    // One row per key, for every key the clients used; the final answers and the rows agree; nothing is left pending.
    expectOneOrderPerKey(rows, finals);
    // No pizza made twice: the factory saw exactly one call per order.
    expect(factory.simulator.stats().orderRequests).toBe(rows.length);
    const fulfilled = rows.filter((r) => r.status === 'fulfilled').length;
    report(`two instances: ${attempts.length} requests, ${rows.length} orders (${fulfilled} fulfilled, ${rows.length - fulfilled} failed), ${cut.length} cut on A, ${attempts.filter((r) => r.status === 409).length} answered 409 while A finished them`);
  });
});
