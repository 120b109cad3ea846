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

    expect(text).toContain('| Scenario | req/s | p50 ms | p99 ms | CPU ms/req | CPU vs bare | DB CPU ms/req | errors |');
    expect(text).toContain('| POST /api/order, factory in its own process | 500 | 90.0 | 150.0 | 1.200 | - | 1.400 | 0 |');
    // 1.2 + 1.9 + 1.4 = 4.5 ms an order; 985 orders/s would take 4.4 cores.
    expect(text).toContain('service 1.200 ms, factory simulator 1.900 ms, MariaDB 1.400 ms; together 4.500 ms, so 985 orders/s would need 4.4 cores');
  });

  test('when it was not (SQLite, or a server elsewhere), then there is no such column', () => {
    const menu = result({});
    const text = markdown(report({ backend: 'sqlite', poolSize: 10, scale: [], bulkSeedSeconds: {}, scenarios: [{ id: 'menu', title: 'GET /api/order/menu', group: 'api', result: menu, runs: [menu] }] }));

    expect(text).toContain('| Scenario | req/s | p50 ms | p99 ms | CPU ms/req | CPU vs bare | errors |');
    expect(text).not.toContain('DB CPU');
    expect(text).not.toContain('CPU per order');
  });

  test('when the order and menu were measured beside bare Express, then the figures of issue 27 come first, with their targets, DB CPU and round trips', () => {
    const bare = result({ cpuMsPerRequest: 0.2 });
    const menu = result({ cpuMsPerRequest: 0.23 });
    const order = result({ reqPerSec: 900, cpuMsPerRequest: 0.95, dbThreadCpuMsPerRequest: 0.31, dbCpuMsPerRequest: 0.9, sqlPerRequest: 3, sqlControlPerRequest: 2, commitsPerRequest: 1, companionCpuMsPerRequest: { factory: 1.1 } });
    const text = markdown(
      report({
        backend: 'mysql',
        poolSize: 10,
        scale: [],
        bulkSeedSeconds: {},
        scenarios: [
          { id: 'baseline', title: 'bare Express 5 {ok:true}', group: 'yardstick', result: bare, runs: [bare] },
          { id: 'menu', title: 'GET /api/order/menu', group: 'api', result: menu, runs: [menu], cpuVsBare: 1.15, paired: { id: 'baseline', reqPerSec: 5000, cpuMsPerRequest: 0.2, cpuRatio: 1.15 }, target: { text: 'CPU <= 1.2x bare Express', met: true } },
          { id: 'order-post-external-factory', title: 'POST /api/order, factory in its own process', group: 'api', result: order, runs: [order], cpuVsBare: 4.75 },
        ],
      }),
    );

    const [headline] = text.split('#### ');
    expect(headline).toContain('| Service CPU per order, MariaDB, factory in its own process (900 orders/s, 0 errors) | 0.950 ms (4.75x bare Express\'s 0.200 ms); MariaDB 0.310 ms; 3.0 + 2.0 SQL round trips, 1.00 commits per order; factory 1.100 ms | reported |');
    expect(headline).toContain('| Service CPU per menu request, MariaDB (request metrics and access log on) | 0.230 ms; bare Express 5 beside it 0.200 ms: 1.15x | <= 1.2x bare | met |');
    // The DB column shows the bench database's own threads, not the whole (shared) server.
    expect(text).toContain('| POST /api/order, factory in its own process | 900 | 90.0 | 150.0 | 0.950 | 4.75x | 0.310 | 3.0 + 2.0 | 0 |');
  });
});
