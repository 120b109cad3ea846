import type { LoadResult } from '../../../bench/lib/load';
import { markdown, type BackendReport, type FullReport } from '../../../bench/lib/report';

const result = (extra: Partial<LoadResult>): LoadResult => ({ reqPerSec: 500, p50: 90, p90: 120, p99: 150, max: 200, total: 5000, errors: 0, timeouts: 0, non2xx: 0, statusCodes: { 200: 5000 }, durationSec: 10, cpuMsPerRequest: 1.2, ...extra });

function report(backend: BackendReport): FullReport {
  return {
    date: '2026-11-23T03:00:00.000Z',
    machine: { cpu: 'Test CPU', cores: 2, memoryGiB: 4, node: 'v20', os: 'Linux', loadAverage: [0, 0, 0] },
    options: { duration: 10, warmup: 2, connections: 50, runs: 1, quick: false },
    noisy: false,
    backends: [backend],
  } as FullReport;
}

describe('bench: the report', () => {
  test('when the database server CPU was measured, then it is a column, and an order is costed across its processes', () => {
    const order = result({ dbCpuMsPerRequest: 1.4, companionCpuMsPerRequest: { factory: 1.9 } });
    const text = markdown(report({ backend: 'mysql', poolSize: 10, scale: [], bulkSeedSeconds: {}, scenarios: [{ id: 'order-post-external-factory', title: 'POST /api/order, factory in its own process', group: 'api', result: order, runs: [order] }] }));

    expect(text).toContain('| Scenario | req/s | p50 ms | p99 ms | CPU ms/req | DB CPU ms/req | errors |');
    expect(text).toContain('| POST /api/order, factory in its own process | 500 | 90.0 | 150.0 | 1.200 | 1.400 | 0 |');
    // 1.2 + 1.9 + 1.4 = 4.5 ms an order; 985 orders/s would take 4.4 cores.
    expect(text).toContain('service 1.200 ms, factory simulator 1.900 ms, MariaDB 1.400 ms; together 4.500 ms, so 985 orders/s would need 4.4 cores');
  });

  test('when it was not (SQLite, or a server elsewhere), then there is no such column', () => {
    const menu = result({});
    const text = markdown(report({ backend: 'sqlite', poolSize: 10, scale: [], bulkSeedSeconds: {}, scenarios: [{ id: 'menu', title: 'GET /api/order/menu', group: 'api', result: menu, runs: [menu] }] }));

    expect(text).toContain('| Scenario | req/s | p50 ms | p99 ms | CPU ms/req | errors |');
    expect(text).not.toContain('DB CPU');
    expect(text).not.toContain('CPU per order');
  });
});
