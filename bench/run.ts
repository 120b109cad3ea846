/**
 * `npm run bench`: the service under load on loopback, against two yardsticks measured in the same run
 * (a bare Express 5 app, and a bare Express route doing one pooled query), on MariaDB and on SQLite.
 * Every server runs in its own child process; this process only generates load (autocannon) and
 * samples RSS and database connections. See docs/performance.md for what the figures mean.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { openBulkSeeder } from './lib/bulkSeed';
import { BENCH_BCRYPT_ROUNDS as BCRYPT_ROUNDS, BENCH_POOL_SIZE as POOL_SIZE, benchServiceEnv, buildForBench, compiledEntry, PROFILE_DIR, ROOT, spawnServer, treeCpuSeconds, type ChildServer } from './lib/children';
import { machineInfo } from './lib/machine';
import { createBenchDatabase, localDatabaseServerPid, type BenchDatabase } from './lib/mysqlAdmin';
import { parseOptions, type BackendName, type BenchOptions } from './lib/options';
import { Progress } from './lib/progress';
import { markdown, MENU_CPU_TARGET, OLD_SERVICE_ORDER_RPS, ORDER_CPU_TARGET_MS, printHeadline, printTable, writeJson, writeMarkdown, type BackendReport, type FullReport, type ScaleRow, type ScenarioResult } from './lib/report';
import { median, pairedCpuRatio, pairedRatio } from './lib/load';
import { Runner, type ScenarioDef } from './lib/runner';
import { shapes } from './lib/scenarios';
import { DEFAULT_SIZES, seedThroughApi } from './lib/seed';

const HEAVY_DINERS = 20;
const SCALE_STEPS = [
  { size: '10x' as const, franchises: 1_000, ordersPerDiner: 100 },
  { size: '100x' as const, franchises: 10_000, ordersPerDiner: 1_000 },
];
const RESULTS_DIR = join(ROOT, 'bench', 'results');

interface BcryptLimit { rounds: number; threads: number; cores: number; comparesPerSecond: number; msPerCompare: number }

function measureBcryptLimit(): BcryptLimit | undefined {
  const child = spawnSync(process.execPath, [compiledEntry('bench/servers/bcryptLimit.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', BCRYPT_ROUNDS: String(BCRYPT_ROUNDS), BCRYPT_SECONDS: '3' },
    encoding: 'utf8',
  });
  try {
    return JSON.parse(child.stdout.trim().split('\n').pop() ?? '') as BcryptLimit;
  } catch {
    console.error(`bcrypt limit not measured: ${child.stderr}`);
    return undefined;
  }
}

async function benchBackend(backend: BackendName, options: BenchOptions, progress: Progress, workDir: string, bcrypt: BcryptLimit | undefined): Promise<BackendReport> {
  const report: BackendReport = { backend, poolSize: POOL_SIZE, scenarios: [], scale: [], bulkSeedSeconds: {}, bcrypt };
  const logDir = join(workDir, backend);
  mkdirSync(logDir, { recursive: true });
  const profileDir = options.profile ? PROFILE_DIR : undefined;

  let mysql: BenchDatabase | undefined;
  let databaseUrl: string;
  if (backend === 'mysql') {
    mysql = await createBenchDatabase(options.mysqlUrl);
    report.databaseVersion = mysql.version;
    databaseUrl = mysql.url;
    progress.step(`[mysql] fresh database ${mysql.name} on ${new URL(options.mysqlUrl).host}`);
  } else {
    databaseUrl = `sqlite:${join(logDir, 'pizza.db')}`;
  }

  const admin = { email: 'bench-admin@bench.jwt', password: randomBytes(12).toString('hex') };
  const randomSecret = randomBytes(32).toString('hex');
  const serviceEnv = (extra: Record<string, string> = {}) => benchServiceEnv({ databaseUrl, dataDir: logDir, jwtSecret: randomSecret, admin, extra });
  // Processes holding a database pool right now, for the connection bound.
  const pools = new Map<ChildServer, number>();
  const serverPid = mysql ? localDatabaseServerPid(options.mysqlUrl) : undefined;
  const runner = new Runner(
    options,
    progress,
    `[${backend}]`,
    mysql
      ? {
          dbConnections: () => mysql!.connections(),
          dbBound: () => POOL_SIZE * [...pools.values()].reduce((a, b) => a + b, 0),
          dbCpuSeconds: serverPid === undefined ? undefined : () => treeCpuSeconds(serverPid),
          dbThreadCpuSeconds: serverPid === undefined ? undefined : () => mysql!.threadCpuSeconds(serverPid),
        }
      : {},
  );
  const started: ChildServer[] = [];
  const start = async (name: string, entry: string, env: Record<string, string>, poolProcesses: number, portEnv?: string, countStatements = false) => {
    const server = await spawnServer({ name: `${backend}-${name}`, entry, env, logDir, profileDir, portEnv, countStatements });
    started.push(server);
    if (poolProcesses) pools.set(server, poolProcesses);
    return server;
  };
  const stop = async (server: ChildServer) => {
    await server.stop();
    pools.delete(server);
  };

  try {
    progress.step(`[${backend}] starting the service (child process, embedded factory simulator)`);
    // The SQL statements the services send are counted (bench/servers/statementCounter.ts): round trips per order.
    const service = await start('service', 'src/server.ts', serviceEnv(), 1, undefined, true);
    const data = await seedThroughApi(service.url, admin, DEFAULT_SIZES, (m) => progress.step(`[${backend}] seed: ${m}`));
    report.seed = {
      franchises: data.franchiseIds.length,
      stores: data.stores.length,
      diners: data.diners.length,
      orders: data.orders,
      menuItems: data.menuIds.length,
      seconds: data.seconds,
    };
    progress.step(`[${backend}] seeded through the API in ${data.seconds.toFixed(1)} s`);

    const push = (...results: (ScenarioResult | undefined)[]) => {
      for (const r of results) if (r) report.scenarios.push(r);
    };

    // Yardsticks, in their own processes.
    const bareExpress = await start('bare-express', 'bench/servers/bare.ts', { BARE_MODE: 'express' }, 0);
    const bareQuery = await start('bare-query', 'bench/servers/bare.ts', { BARE_MODE: 'query', DATABASE_URL: databaseUrl, DB_POOL_SIZE: String(POOL_SIZE) }, 1);
    push(await runner.measure({ id: 'baseline', title: 'bare Express 5 {ok:true}', group: 'yardstick', server: bareExpress, shape: { path: '/' } }));
    push(
      await runner.measure({
        id: 'ceiling',
        title: backend === 'mysql' ? 'bare Express + 1 pooled mysql2 query' : 'bare Express + 1 better-sqlite3 query',
        group: 'yardstick',
        server: bareQuery,
        shape: { path: '/query' },
      }),
    );
    const yardsticks = {
      baseline: { server: bareExpress, shape: { path: '/' } },
      ceiling: { server: bareQuery, shape: { path: '/query' } },
    };
    /** A scenario run interleaved with a yardstick, which is measured again for it. */
    const paired = async (def: ScenarioDef, yardstick: 'baseline' | 'ceiling') => {
      const [scenario, stick] = await runner.measureTogether([def, { ...yardsticks[yardstick], id: `${yardstick}-beside-${def.id}`, title: `(${yardstick} again, beside ${def.id})`, group: def.group, companionOf: def.id }]);
      if (scenario && stick) {
        scenario.paired = { id: yardstick, reqPerSec: stick.result.reqPerSec, cpuMsPerRequest: stick.result.cpuMsPerRequest, ratio: pairedRatio(scenario.runs, stick.runs), cpuRatio: pairedCpuRatio(scenario.runs, stick.runs) };
      }
      return scenario;
    };

    if (runner.selected('menu', 'api')) push(await paired({ id: 'menu', title: 'GET /api/order/menu', group: 'api', server: service, shape: shapes.menu() }, 'baseline'));
    // Telemetry on vs off: two new processes with the same history (the seeded service has served every
    // kind of request, which alone makes its menu slower), interleaved over at least 5 runs each: the
    // difference judged (10%) is about the size of this machine's run-to-run noise, so more pairs.
    if (runner.selected('telemetry')) {
      const on = await start('service-telemetry-on', 'src/server.ts', serviceEnv(), 1);
      const off = await start('service-telemetry-off', 'src/server.ts', serviceEnv({ TELEMETRY_ENABLED: 'false' }), 1);
      const twins = new Runner({ ...options, runs: Math.max(5, options.runs) }, progress, `[${backend}]`);
      const [tOn, tOff] = await twins.measureTogether([
        { id: 'menu-telemetry-on', title: 'GET /api/order/menu, new process, telemetry on', group: 'telemetry', server: on, shape: shapes.menu() },
        { id: 'menu-telemetry-off', title: 'GET /api/order/menu, new process, TELEMETRY_ENABLED=false', group: 'telemetry', server: off, shape: shapes.menu() },
      ]);
      await stop(on);
      await stop(off);
      push(tOn, tOff);
      if (tOn && tOff) {
        report.telemetry = {
          onRps: tOn.result.reqPerSec,
          offRps: tOff.result.reqPerSec,
          costPercent: (1 - (pairedRatio(tOn.runs, tOff.runs) ?? tOn.result.reqPerSec / tOff.result.reqPerSec)) * 100,
          onP99: tOn.result.p99,
          offP99: tOff.result.p99,
          onCpuMs: tOn.result.cpuMsPerRequest,
          offCpuMs: tOff.result.cpuMsPerRequest,
        };
      }
    }

    // Tracing off, sampled at 10% and at 100%: three new processes with the same history, exporting to an
    // OTLP sink on loopback, interleaved over at least 5 runs each. The menu is the cheapest request (the
    // request span alone); /api/user/me adds the JWT and SQL spans of an authenticated read.
    if (runner.selected('tracing')) {
      const sink = await start('otlp-sink', 'bench/servers/otlpSink.ts', {}, 0);
      const traced = (ratio: string) => serviceEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: ratio });
      const off = await start('service-tracing-off', 'src/server.ts', serviceEnv(), 1);
      const at10 = await start('service-tracing-10', 'src/server.ts', traced('0.1'), 1);
      const at100 = await start('service-tracing-100', 'src/server.ts', traced('1'), 1);
      const triplets = new Runner({ ...options, runs: Math.max(5, options.runs) }, progress, `[${backend}]`);
      report.tracing = [];
      for (const [id, title, shape] of [['menu', 'GET /api/order/menu', shapes.menu()], ['me', 'GET /api/user/me', shapes.me(data)]] as const) {
        const [rOff, r10, r100] = await triplets.measureTogether([
          { id: `${id}-tracing-off`, title: `${title}, new process, tracing off`, group: 'tracing', server: off, shape },
          { id: `${id}-tracing-10`, title: `${title}, new process, tracing sampled at 10%`, group: 'tracing', server: at10, shape },
          { id: `${id}-tracing-100`, title: `${title}, new process, tracing sampled at 100%`, group: 'tracing', server: at100, shape },
        ]);
        push(rOff, r10, r100);
        if (rOff && r10 && r100) {
          report.tracing.push({
            scenario: title,
            offRps: rOff.result.reqPerSec,
            at10Rps: r10.result.reqPerSec,
            at100Rps: r100.result.reqPerSec,
            ratio10: pairedRatio(r10.runs, rOff.runs) ?? r10.result.reqPerSec / rOff.result.reqPerSec,
            ratio100: pairedRatio(r100.runs, rOff.runs) ?? r100.result.reqPerSec / rOff.result.reqPerSec,
            offCpuMs: rOff.result.cpuMsPerRequest,
            at10CpuMs: r10.result.cpuMsPerRequest,
            at100CpuMs: r100.result.cpuMsPerRequest,
            offP99: rOff.result.p99,
            at10P99: r10.result.p99,
            at100P99: r100.result.p99,
          });
        }
      }
      for (const server of [off, at10, at100]) await stop(server);
      // The services flushed their queues on SIGTERM: what reached the sink shows the spans really flowed.
      report.tracingExported = (await (await fetch(`${sink.url}/stats`)).json()) as { exports: number; bytes: number };
      await stop(sink);
    }

    // Reads before writes: POST /api/order adds orders, which the reads would then see.
    push(await paired({ id: 'franchise-anon', title: 'GET /api/franchise?page=0&limit=10 (anonymous)', group: 'api', server: service, shape: shapes.franchiseAnon() }, 'ceiling'));
    push(await paired({ id: 'franchise-admin', title: 'GET /api/franchise?page=0&limit=10 (admin)', group: 'api', server: service, shape: shapes.franchiseAdmin(data) }, 'ceiling'));
    push(await paired({ id: 'order-history', title: 'GET /api/order?page=1 (history)', group: 'api', server: service, shape: shapes.history(data.diners) }, 'ceiling'));
    push(await paired({ id: 'user-me', title: 'GET /api/user/me', group: 'api', server: service, shape: shapes.me(data) }, 'ceiling'));
    await stop(bareExpress);
    await stop(bareQuery);
    push(await runner.measure({ id: 'login', title: 'PUT /api/auth (login, bcrypt cost 10)', group: 'api', server: service, shape: shapes.login(data), maxRequests: 200 }));
    push(await runner.measure({ id: 'order-post', title: 'POST /api/order (1-3 items, factory + JWT check)', group: 'api', server: service, shape: shapes.placeOrder(data) }));
    if (runner.selected('order-post-external-factory', 'api')) {
      // The embedded simulator signs every pizza (RS256) on the service's own event loop; a real factory
      // is elsewhere. This run shows what the service itself costs per order.
      const apiKey = randomBytes(16).toString('hex');
      const factory = await start('factory', 'src/factory/simulator/main.ts', { FACTORY_HOST: '127.0.0.1', FACTORY_API_KEY: apiKey, FACTORY_ADMIN_KEY: randomBytes(16).toString('hex') }, 0, 'FACTORY_PORT');
      const withFactory = await start('service-external-factory', 'src/server.ts', serviceEnv({ FACTORY_URL: factory.url, FACTORY_API_KEY: apiKey }), 1, undefined, true);
      push(
        await runner.measure({
          id: 'order-post-external-factory',
          title: 'POST /api/order, factory in its own process',
          group: 'api',
          server: withFactory,
          companions: [{ name: 'factory', cpuSeconds: () => factory.cpuSeconds() }],
          shape: shapes.placeOrder(data),
        }),
      );
      await stop(withFactory);
      await stop(factory);
    }

    if (runner.selected('login-storm', 'storm')) {
      // prom-client's event-loop delay histogram restarts at every scrape: scrape, load, scrape.
      await eventLoopLag(service);
      const alone = await runner.measure({ id: 'login-storm', title: 'GET /api/order/menu (before the storm)', group: 'storm', server: service, shape: shapes.menu() });
      const lagAlone = await eventLoopLag(service);
      const [menu, login] = await runner.concurrently([
        { id: 'storm-menu', title: 'menu', group: 'storm', server: service, shape: shapes.menu() },
        { id: 'storm-login', title: 'login', group: 'storm', server: service, shape: shapes.login(data), connections: 16 },
      ]);
      const lagStorm = await eventLoopLag(service);
      if (alone) {
        report.loginStorm = {
          menuAloneP99: alone.result.p99,
          menuStormP99: menu.p99,
          menuAloneRps: alone.result.reqPerSec,
          menuStormRps: menu.reqPerSec,
          loginRps: login.reqPerSec,
          loginNon2xx: login.non2xx + menu.non2xx,
          eventLoopLagP99MsAlone: lagAlone?.p99,
          eventLoopLagP99MsStorm: lagStorm?.p99,
          eventLoopLagMaxMsStorm: lagStorm?.max,
        };
      }
    }

    if (options.soak && runner.selected('soak')) {
      progress.step(`[${backend}] soak: ${options.soakSeconds} s of mixed reads, RSS sampled every second`);
      const samples: number[] = [];
      const timer = setInterval(() => samples.push(service.rss() / 2 ** 20), 1000);
      const soakRunner = new Runner({ ...options, duration: options.soakSeconds, warmup: 0, runs: 1 }, progress, `[${backend}]`);
      const soak = await soakRunner.measure({ id: 'soak', title: `soak (menu, franchises, me, history mix) ${options.soakSeconds}s`, group: 'soak', server: service, shape: shapes.soakMix(data) });
      clearInterval(timer);
      if (soak && samples.length > 2) {
        // RSS saws up and down with garbage collection: compare the median of the first and last quarter,
        // after the first seconds (JIT, pools and caches warming up).
        const settled = samples.slice(Math.min(5, Math.floor(samples.length / 4)));
        const quarter = Math.max(1, Math.floor(settled.length / 4));
        const startMiB = median(settled.slice(0, quarter));
        const endMiB = median(settled.slice(-quarter));
        report.soak = {
          seconds: options.soakSeconds,
          samplesMiB: samples.map((s) => Math.round(s * 10) / 10),
          startMiB,
          endMiB,
          maxMiB: Math.max(...samples),
          growthPercent: (endMiB / startMiB - 1) * 100,
          result: soak.result,
        };
        push(soak);
      }
    }

    if (options.cluster && runner.selected('cluster')) {
      progress.step(`[${backend}] starting the service with WEB_CONCURRENCY=2`);
      const cluster = await start('cluster-2', 'src/server.ts', serviceEnv({ WEB_CONCURRENCY: '2' }), 2);
      const [menu1, menu2, fr1, fr2] = await runner.measureTogether([
        { id: 'cluster-menu-1', title: 'GET /api/order/menu, 1 worker', group: 'cluster', server: service, shape: shapes.menu() },
        { id: 'cluster-menu-2', title: 'GET /api/order/menu, 2 workers', group: 'cluster', server: cluster, shape: shapes.menu() },
        { id: 'cluster-franchise-1', title: 'GET /api/franchise (anonymous), 1 worker', group: 'cluster', server: service, shape: shapes.franchiseAnon() },
        { id: 'cluster-franchise-2', title: 'GET /api/franchise (anonymous), 2 workers', group: 'cluster', server: cluster, shape: shapes.franchiseAnon() },
      ]);
      push(menu1, menu2, fr1, fr2);
      report.cluster = {
        oneWorker: { menu: menu1?.result.reqPerSec ?? NaN, franchise: fr1?.result.reqPerSec ?? NaN },
        twoWorkers: { menu: menu2?.result.reqPerSec ?? NaN, franchise: fr2?.result.reqPerSec ?? NaN },
        metricsCheck: await clusterMetricsCheck(cluster),
      };
      await stop(cluster);
    }

    if (options.scale && runner.selected('scale')) {
      const heavy = data.diners.slice(0, HEAVY_DINERS);
      const byId = (id: string) => report.scenarios.find((s) => s.id === id)?.result.reqPerSec;
      report.scale.push({ size: '1x', franchises: data.franchiseIds.length, ordersPerDiner: `~${DEFAULT_SIZES.averageOrdersPerDiner}`, franchiseAnon: byId('franchise-anon'), franchiseAdmin: byId('franchise-admin'), history: byId('order-history') });
      for (const step of SCALE_STEPS) {
        progress.step(`[${backend}] scale ${step.size}: bulk-inserting up to ${step.franchises} franchises and ${step.ordersPerDiner} orders for each of ${heavy.length} diners`);
        const t0 = performance.now();
        const seeder = openBulkSeeder(databaseUrl);
        try {
          await seeder.growFranchises(step.franchises, DEFAULT_SIZES.storesPerFranchise);
          await seeder.growOrders(heavy.map((d) => d.id), step.ordersPerDiner, data.stores);
        } finally {
          await seeder.close();
        }
        report.bulkSeedSeconds[step.size] = (performance.now() - t0) / 1000;
        const row: ScaleRow = { size: step.size, franchises: step.franchises, ordersPerDiner: step.ordersPerDiner.toLocaleString('en-US') };
        const [anon, adminList, history] = await runner.measureTogether([
          { id: `scale-franchise-anon-${step.size}`, title: `GET /api/franchise (anonymous), ${step.size}`, group: 'scale', server: service, shape: shapes.franchiseAnon() },
          { id: `scale-franchise-admin-${step.size}`, title: `GET /api/franchise (admin), ${step.size}`, group: 'scale', server: service, shape: shapes.franchiseAdmin(data) },
          { id: `scale-history-${step.size}`, title: `GET /api/order (${step.ordersPerDiner} orders/diner), ${step.size}`, group: 'scale', server: service, shape: shapes.history(heavy) },
        ]);
        push(anon, adminList, history);
        row.franchiseAnon = anon?.result.reqPerSec;
        row.franchiseAdmin = adminList?.result.reqPerSec;
        row.history = history?.result.reqPerSec;
        report.scale.push(row);
      }
    }
  } finally {
    for (const server of started) await server.stop().catch(() => undefined);
    if (mysql) await mysql.drop().catch((error: unknown) => console.error(`could not drop ${mysql!.name}:`, error));
  }

  annotate(report);
  return report;
}

/** The service's own event-loop delay since the previous scrape (prom-client default metrics), in ms. */
async function eventLoopLag(server: ChildServer): Promise<{ p99: number; max: number } | undefined> {
  try {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const read = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1]) * 1000;
    return { p99: read('nodejs_eventloop_lag_p99_seconds'), max: read('nodejs_eventloop_lag_max_seconds') };
  } catch {
    return undefined;
  }
}

/** GET /metrics on the 2-worker service must count the requests of both workers. */
async function clusterMetricsCheck(cluster: ChildServer): Promise<string> {
  try {
    const text = await (await fetch(`${cluster.url}/metrics`)).text();
    let menu = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith('http_requests_total{') && line.includes('route="/api/order/menu"')) menu += Number(line.split(' ').pop());
    }
    return `GET /metrics on the 2-worker service counts ${menu.toLocaleString('en-US')} menu requests (both workers aggregated).`;
  } catch (error) {
    return `GET /metrics on the cluster failed: ${(error as Error).message}`;
  }
}

/** Ratios to the yardsticks and the targets of the brief (never asserted in tests: the machine varies). */
function annotate(report: BackendReport): void {
  const byId = (id: string) => report.scenarios.find((s) => s.id === id)?.result;
  const baseline = byId('baseline');
  const ceiling = byId('ceiling');
  const reads = new Set(['franchise-anon', 'franchise-admin', 'order-history', 'user-me']);
  for (const s of report.scenarios) {
    const r = s.result.reqPerSec;
    // Targets are judged against the yardstick re-measured beside the scenario when there is one.
    const base = s.paired?.id === 'baseline' ? s.paired.reqPerSec : baseline?.reqPerSec;
    const ceil = s.paired?.id === 'ceiling' ? s.paired.reqPerSec : ceiling?.reqPerSec;
    // ... and as the median of the per-run ratios to it (pairedRatio): runs seconds apart, not medians minutes apart.
    if (base) s.ratioBaseline = s.paired?.id === 'baseline' && s.paired.ratio !== undefined ? s.paired.ratio : r / base;
    if (ceil) s.ratioCeiling = s.paired?.id === 'ceiling' && s.paired.ratio !== undefined ? s.paired.ratio : r / ceil;
    // The service's CPU per request against bare Express's, measured the same way (/proc, all threads).
    const bareCpu = baseline?.cpuMsPerRequest;
    if (s.paired?.id === 'baseline' && s.paired.cpuRatio !== undefined) s.cpuVsBare = s.paired.cpuRatio;
    else if (bareCpu && s.result.cpuMsPerRequest !== undefined) s.cpuVsBare = s.result.cpuMsPerRequest / bareCpu;
    if (s.id === 'menu' && s.cpuVsBare !== undefined) s.target = { text: `CPU <= ${MENU_CPU_TARGET}x bare Express`, met: s.cpuVsBare <= MENU_CPU_TARGET };
    if (reads.has(s.id) && s.ratioCeiling !== undefined) s.target = { text: '>= 50% of the pooled query', met: s.ratioCeiling >= 0.5 };
    if (s.id === 'order-post') s.target = { text: `>= 5x the old service (${5 * OLD_SERVICE_ORDER_RPS} req/s)`, met: r >= 5 * OLD_SERVICE_ORDER_RPS };
    if (s.id === 'order-post-external-factory' && report.backend === 'sqlite' && s.result.cpuMsPerRequest !== undefined) {
      s.target = { text: `service CPU <= ${ORDER_CPU_TARGET_MS} ms per order`, met: s.result.cpuMsPerRequest <= ORDER_CPU_TARGET_MS };
    }
    if (s.id === 'login' && report.bcrypt) s.target = { text: `~ bcrypt limit (${Math.round(report.bcrypt.comparesPerSecond)}/s)`, met: r >= 0.8 * report.bcrypt.comparesPerSecond };
    if (s.id === 'menu-telemetry-on' && report.telemetry) s.target = { text: 'telemetry cost < 10%', met: report.telemetry.costPercent < 10 };
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const progress = new Progress();
  const machine = machineInfo();
  // Another job on the machine skews every figure; say so in the report rather than hide it.
  const noisy = machine.loadAverage[0] > machine.cores * 0.3;
  const started = Date.now();
  progress.step(
    `jwt-pizza-service benchmark: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}; ` +
      `${options.connections} connections, ${options.duration} s x ${options.runs} run(s), warm-up ${options.warmup} s; backends ${options.backends.join(', ')}` +
      (noisy ? `\nWARNING: load average ${machine.loadAverage.join(' / ')} on ${machine.cores} cores: figures will be noisy` : ''),
  );
  progress.step('compiling the service (npm run build) and the yardstick servers');
  buildForBench();
  const workDir = mkdtempSync(join(os.tmpdir(), 'jwt-pizza-bench-'));
  const bcrypt = options.only && !options.only.has('login') && !options.only.has('api') ? undefined : measureBcryptLimit();
  if (bcrypt) progress.step(`bcrypt limit: ${Math.round(bcrypt.comparesPerSecond)} compares/s at cost ${bcrypt.rounds} (${bcrypt.threads} pool threads, ${bcrypt.cores} cores)`);

  const backends: BackendReport[] = [];
  try {
    for (const backend of options.backends) backends.push(await benchBackend(backend, options, progress, workDir, bcrypt));
  } finally {
    if (!options.keepLogs) rmSync(workDir, { recursive: true, force: true });
    else progress.step(`service logs kept in ${workDir}`);
  }

  const report: FullReport = {
    date: new Date().toISOString(),
    machine,
    options: { duration: options.duration, warmup: options.warmup, connections: options.connections, runs: options.runs, quick: options.quick },
    noisy,
    backends,
  };
  for (const b of backends) printTable(b);
  printHeadline(report);
  const files = writeJson(report, RESULTS_DIR, !options.only);
  if (options.writeDocs && !options.only) writeMarkdown(join(ROOT, 'docs', 'performance.md'), markdown(report));
  console.log(`\nwrote ${files.map((f) => f.replace(`${ROOT}/`, '')).join(', ')}${options.writeDocs && !options.only ? ' and docs/performance.md' : ''} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
