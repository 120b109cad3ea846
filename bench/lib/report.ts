import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadResult } from './load';
import type { MachineInfo } from './machine';
import type { BackendName, BenchOptions } from './options';

/** The older reference service's POST /api/order throughput on the same kind of machine. */
export const OLD_SERVICE_ORDER_RPS = 197;
/** Issue 27: the service's own CPU per order (SQLite, the factory in its own process), in ms. */
export const ORDER_CPU_TARGET_MS = 0.7;
/** Issue 27: the menu's CPU per request at most this multiple of bare Express 5's, measured beside it. */
export const MENU_CPU_TARGET = 1.2;

export interface Target {
  text: string;
  met: boolean;
}

export interface ScenarioResult {
  id: string;
  title: string;
  group: 'yardstick' | 'api' | 'telemetry' | 'tracing' | 'storm' | 'scale' | 'cluster' | 'soak';
  result: LoadResult;
  runs: LoadResult[];
  rssMaxMiB?: number;
  dbConnectionsMax?: number;
  /** Upper bound of database connections for the processes alive during the scenario. */
  dbConnectionsBound?: number;
  ratioBaseline?: number;
  ratioCeiling?: number;
  /**
   * The yardstick measured again, interleaved with this scenario: the ratio its target is judged by uses
   * this figure, not one taken minutes earlier (a shared 2-core machine drifts by tens of percent).
   */
  paired?: { id: 'baseline' | 'ceiling'; reqPerSec: number; cpuMsPerRequest?: number; ratio?: number; cpuRatio?: number };
  /**
   * The service's CPU per request over bare Express 5's (both from /proc, all threads): the median of the per-run
   * ratios to the bare process measured beside it when it was, else to the bare Express row of the run.
   */
  cpuVsBare?: number;
  target?: Target;
  /** Why non-2xx or errors happened, from the service's log (warn/error lines). */
  diagnosis?: string[];
}

export interface ScaleRow {
  size: '1x' | '10x' | '100x';
  franchises: number;
  ordersPerDiner: string;
  franchiseAnon?: number;
  franchiseAdmin?: number;
  history?: number;
}

export interface BackendReport {
  backend: BackendName;
  databaseVersion?: string;
  poolSize: number;
  seed?: { franchises: number; stores: number; diners: number; orders: number; menuItems: number; seconds: number };
  bcrypt?: { rounds: number; threads: number; comparesPerSecond: number; msPerCompare: number };
  scenarios: ScenarioResult[];
  scale: ScaleRow[];
  bulkSeedSeconds: Record<string, number>;
  loginStorm?: {
    menuAloneP99: number;
    menuStormP99: number;
    menuAloneRps: number;
    menuStormRps: number;
    loginRps: number;
    loginNon2xx: number;
    /** The service's event-loop delay (ms): bcrypt in the thread pool must leave it near zero. */
    eventLoopLagP99MsAlone?: number;
    eventLoopLagP99MsStorm?: number;
    eventLoopLagMaxMsStorm?: number;
  };
  /** Two new service processes with the same history, telemetry on and off, interleaved (median of >= 5 runs). */
  /** costPercent: 1 minus the median of the per-run on/off ratios (pairedRatio), in percent. */
  telemetry?: { onRps: number; offRps: number; costPercent: number; onP99: number; offP99: number; onCpuMs?: number; offCpuMs?: number };
  /**
   * Three new service processes with the same history, tracing off, sampled at 10% and at 100% (exporting to
   * an OTLP sink on loopback), interleaved; ratios are medians of the per-run ratios to the off process.
   */
  tracing?: TracingCost[];
  tracingExported?: { exports: number; bytes: number };
  cluster?: { oneWorker: Record<string, number>; twoWorkers: Record<string, number>; metricsCheck?: string };
  soak?: { seconds: number; samplesMiB: number[]; startMiB: number; endMiB: number; maxMiB: number; growthPercent: number; result: LoadResult };
}

export interface TracingCost {
  scenario: string;
  offRps: number;
  at10Rps: number;
  at100Rps: number;
  ratio10: number;
  ratio100: number;
  offCpuMs?: number;
  at10CpuMs?: number;
  at100CpuMs?: number;
  offP99: number;
  at10P99: number;
  at100P99: number;
}

/** One line per traced scenario: throughput and CPU at 10% and 100% sampling against tracing off. */
export function tracingLines(costs: TracingCost[]): string[] {
  return costs.map(
    (t) =>
      `${t.scenario}: ${fmt(t.offRps)} req/s off, ${fmt(t.at10Rps)} at 10% (ratio ${(t.ratio10 * 100).toFixed(1)}%), ${fmt(t.at100Rps)} at 100% (ratio ${(t.ratio100 * 100).toFixed(1)}%); ` +
      `CPU ${fmt(t.offCpuMs, 3)} / ${fmt(t.at10CpuMs, 3)} / ${fmt(t.at100CpuMs, 3)} ms per request; p99 ${fmt(t.offP99, 1)} / ${fmt(t.at10P99, 1)} / ${fmt(t.at100P99, 1)} ms`,
  );
}

export interface FullReport {
  date: string;
  machine: MachineInfo;
  options: Pick<BenchOptions, 'duration' | 'warmup' | 'connections' | 'runs' | 'quick'>;
  noisy: boolean;
  backends: BackendReport[];
}

const fmt = (n: number | undefined, digits = 0) => (n === undefined || !Number.isFinite(n) ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const ratio = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '-' : `${(n * 100).toFixed(0)}%`);
const targetCell = (t: Target | undefined) => (t ? `${t.met ? 'met' : 'MISSED'}: ${t.text}` : '');

/**
 * MariaDB's own CPU per request, when it was measured (a server on this machine): the threads serving the bench
 * database's connections when they could be read, else the whole server (which other users of it move too).
 */
const dbCpu = (r: LoadResult) => r.dbThreadCpuMsPerRequest ?? r.dbCpuMsPerRequest;
const hasDbCpu = (report: BackendReport) => report.scenarios.some((s) => dbCpu(s.result) !== undefined);
const hasSql = (report: BackendReport) => report.scenarios.some((s) => s.result.sqlPerRequest !== undefined);
const xBare = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '-' : `${n.toFixed(2)}x`);

function header(report: BackendReport): string[] {
  return [
    'scenario',
    'req/s',
    'p50 ms',
    'p99 ms',
    'CPU ms/req',
    'CPU vs bare',
    ...(hasDbCpu(report) ? ['DB CPU ms/req'] : []),
    ...(hasSql(report) ? [report.backend === 'mysql' ? 'SQL round trips/req' : 'SQL statements/req'] : []),
    'errors',
    'non-2xx',
    'vs bare Express',
    'vs pooled query',
    'target',
  ];
}

function tableRows(report: BackendReport): string[][] {
  const db = hasDbCpu(report);
  const sqlColumn = hasSql(report);
  return report.scenarios.map((s) => [
    s.title,
    fmt(s.result.reqPerSec),
    fmt(s.result.p50, 1),
    fmt(s.result.p99, 1),
    fmt(s.result.cpuMsPerRequest, 3),
    xBare(s.cpuVsBare),
    ...(db ? [fmt(dbCpu(s.result), 3)] : []),
    ...(sqlColumn ? [sqlCell(s.result)] : []),
    String(s.result.errors),
    String(s.result.non2xx),
    ratio(s.ratioBaseline),
    ratio(s.ratioCeiling),
    targetCell(s.target),
  ]);
}

/** Statements, and the transaction control (BEGIN, COMMIT, savepoints) apart: `4.0 + 2.0`. */
function sqlCell(r: LoadResult): string {
  if (r.sqlPerRequest === undefined) return '-';
  return r.sqlControlPerRequest ? `${r.sqlPerRequest.toFixed(1)} + ${r.sqlControlPerRequest.toFixed(1)}` : r.sqlPerRequest.toFixed(1);
}

/** The rows the issue judges, first in the results: service CPU per order and per menu request, with their targets. */
export function headlineRows(report: FullReport): string[][] {
  const rows: string[][] = [];
  const name = (b: BackendReport) => (b.backend === 'mysql' ? 'MariaDB' : 'SQLite');
  for (const b of report.backends) {
    const order = b.scenarios.find((s) => s.id === 'order-post-external-factory');
    const bare = b.scenarios.find((s) => s.id === 'baseline')?.result.cpuMsPerRequest;
    if (order?.result.cpuMsPerRequest !== undefined) {
      const r = order.result;
      const parts = [`${fmt(r.cpuMsPerRequest, 3)} ms (${xBare(order.cpuVsBare)} bare Express's ${fmt(bare, 3)} ms)`];
      if (dbCpu(r) !== undefined) parts.push(`MariaDB ${fmt(dbCpu(r), 3)} ms`);
      if (r.sqlPerRequest !== undefined) parts.push(`${sqlCell(r)} SQL ${b.backend === 'mysql' ? 'round trips' : 'statements'}${r.commitsPerRequest !== undefined ? `, ${r.commitsPerRequest.toFixed(2)} commits` : ''} per order`);
      if (r.companionCpuMsPerRequest?.factory !== undefined) parts.push(`factory ${fmt(r.companionCpuMsPerRequest.factory, 3)} ms`);
      const target = b.backend === 'sqlite' ? `<= ${ORDER_CPU_TARGET_MS} ms` : 'reported';
      const verdict = order.target ? (order.target.met ? 'met' : 'MISSED') : '';
      rows.push([`Service CPU per order, ${name(b)}, factory in its own process (${fmt(r.reqPerSec)} orders/s, ${r.errors + r.non2xx} errors)`, parts.join('; '), target, verdict]);
    }
    const menu = b.scenarios.find((s) => s.id === 'menu');
    if (menu?.result.cpuMsPerRequest !== undefined) {
      const beside = menu.paired?.id === 'baseline' ? menu.paired.cpuMsPerRequest : bare;
      rows.push([
        `Service CPU per menu request, ${name(b)} (request metrics and access log on)`,
        `${fmt(menu.result.cpuMsPerRequest, 3)} ms; bare Express 5 beside it ${fmt(beside, 3)} ms: ${xBare(menu.cpuVsBare)}`,
        `<= ${MENU_CPU_TARGET}x bare`,
        menu.target ? (menu.target.met ? 'met' : 'MISSED') : '',
      ]);
    }
  }
  return rows;
}

export function printHeadline(report: FullReport): void {
  const rows = headlineRows(report);
  if (!rows.length) return;
  console.log('\nHEADLINE');
  for (const [what, measured, target, verdict] of rows) console.log(`  ${verdict.padEnd(6)} ${what}: ${measured} (target ${target})`);
}

export function printTable(report: BackendReport): void {
  const head = header(report);
  const rows = [head, ...tableRows(report)];
  const widths = head.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  // Every column but the first (scenario) and the last (target) is a number.
  const line = (r: string[]) => r.map((cell, i) => (i > 0 && i < head.length - 1 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ');
  console.log(`\n${report.backend.toUpperCase()}${report.databaseVersion ? ` (${report.databaseVersion})` : ''}`);
  console.log(line(rows[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows.slice(1)) console.log(line(r));
  if (report.scale.length > 1) {
    console.log('\nscale (req/s)     franchises  orders/diner  franchise anon  franchise admin  order history');
    for (const row of report.scale) {
      console.log(
        `  ${row.size.padEnd(16)}${fmt(row.franchises).padStart(10)}  ${row.ordersPerDiner.padStart(12)}  ${fmt(row.franchiseAnon).padStart(14)}  ${fmt(row.franchiseAdmin).padStart(15)}  ${fmt(row.history).padStart(13)}`,
      );
    }
  }
  if (report.loginStorm) {
    const s = report.loginStorm;
    console.log(
      `\nlogin storm: menu p99 ${fmt(s.menuAloneP99, 1)} ms alone, ${fmt(s.menuStormP99, 1)} ms with ${fmt(s.loginRps)} logins/s running (menu ${fmt(s.menuAloneRps)} -> ${fmt(s.menuStormRps)} req/s); ` +
        `event-loop delay p99 ${fmt(s.eventLoopLagP99MsAlone, 1)} -> ${fmt(s.eventLoopLagP99MsStorm, 1)} ms (max ${fmt(s.eventLoopLagMaxMsStorm, 1)} ms)`,
    );
  }
  if (report.telemetry) {
    const t = report.telemetry;
    console.log(`telemetry: menu ${fmt(t.onRps)} req/s on, ${fmt(t.offRps)} req/s off: cost ${t.costPercent.toFixed(1)}% (target < 10%); CPU ${fmt(t.onCpuMs, 3)} vs ${fmt(t.offCpuMs, 3)} ms/req`);
  }
  for (const line of tracingLines(report.tracing ?? [])) console.log(`tracing: ${line}`);
  if (report.tracingExported) console.log(`tracing: the OTLP sink received ${fmt(report.tracingExported.exports)} exports, ${fmt(report.tracingExported.bytes / 1024)} KiB`);
  if (report.bcrypt) console.log(`bcrypt limit: ${fmt(report.bcrypt.comparesPerSecond)} compares/s at cost ${report.bcrypt.rounds} (${report.bcrypt.threads} pool threads)`);
  const connections = report.scenarios.filter((s) => s.dbConnectionsMax !== undefined);
  if (connections.length) {
    const worst = connections.reduce((a, b) => ((a.dbConnectionsMax ?? 0) >= (b.dbConnectionsMax ?? 0) ? a : b));
    const over = connections.filter((s) => (s.dbConnectionsMax ?? 0) > (s.dbConnectionsBound ?? Infinity));
    console.log(`db connections: at most ${worst.dbConnectionsMax} (during ${worst.title}; bound ${worst.dbConnectionsBound}); ${over.length ? `OVER THE BOUND in ${over.map((s) => s.title).join(', ')}` : 'never over the pool bound'}`);
  }
  if (report.cluster) {
    const c = report.cluster;
    console.log(`cluster: ${Object.keys(c.oneWorker).map((k) => `${k} ${fmt(c.oneWorker[k])} -> ${fmt(c.twoWorkers[k])} req/s`).join(', ')} (1 -> 2 workers)`);
  }
  if (report.soak) {
    const s = report.soak;
    console.log(`soak ${s.seconds}s: RSS ${fmt(s.startMiB, 1)} -> ${fmt(s.endMiB, 1)} MiB (max ${fmt(s.maxMiB, 1)}, ${s.growthPercent >= 0 ? '+' : ''}${s.growthPercent.toFixed(1)}%) at ${fmt(s.result.reqPerSec)} req/s`);
  }
  for (const s of report.scenarios.filter((x) => x.diagnosis?.length)) console.log(`  ${s.title}: ${s.diagnosis!.join('; ')}`);
}

/** `dated`: also keep this run as <date>-<backend>.json (partial `--only` runs only update latest.json). */
export function writeJson(report: FullReport, resultsDir: string, dated = true): string[] {
  mkdirSync(resultsDir, { recursive: true });
  const stamp = report.date.slice(0, 16).replace(/:/g, '');
  const files: string[] = [];
  for (const backend of dated ? report.backends : []) {
    const file = join(resultsDir, `${stamp}-${backend.backend}.json`);
    writeFileSync(file, `${JSON.stringify({ ...report, backends: [backend] }, null, 2)}\n`);
    files.push(file);
  }
  const latest = join(resultsDir, 'latest.json');
  writeFileSync(latest, `${JSON.stringify(report, null, 2)}\n`);
  files.push(latest);
  return files;
}

function mdTable(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function markdown(report: FullReport): string {
  const m = report.machine;
  const out: string[] = [];
  out.push(
    `Measured ${report.date.slice(0, 10)} on ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node} (${m.os}); ` +
      `autocannon ${report.options.connections} connections, ${report.options.duration} s per run after ${report.options.warmup} s warm-up, ` +
      `${report.options.runs === 1 ? 'one run' : `median of ${report.options.runs} runs`}${report.options.quick ? ' (--quick)' : ''}. ` +
      `Load generator, service, factory simulator and database share the machine.` +
      (report.noisy ? ` **Noisy run**: the load average was ${m.loadAverage.join(' / ')} at the start (other work on the machine); treat the figures as indicative.` : ''),
  );
  const headline = headlineRows(report);
  if (headline.length) out.push('', mdTable(['The figures of issue 27', 'measured', 'target', ''], headline));
  for (const b of report.backends) {
    out.push('', `#### ${b.backend === 'mysql' ? `MariaDB${b.databaseVersion ? ` ${b.databaseVersion}` : ''}` : 'SQLite (better-sqlite3)'}`, '');
    if (b.seed) out.push(`Dataset (seeded through the API in ${b.seed.seconds.toFixed(0)} s): ${b.seed.menuItems} menu items, ${b.seed.franchises} franchises × 3 stores, ${b.seed.diners} diners, ${b.seed.orders} orders.`, '');
    out.push(mdTable(['Scenario', ...header(b).slice(1)], tableRows(b)));
    const notes: string[] = [];
    if (b.bcrypt) notes.push(`bcrypt limit of this machine: ${fmt(b.bcrypt.comparesPerSecond)} compares/s at cost ${b.bcrypt.rounds}.`);
    if (b.telemetry) {
      const t = b.telemetry;
      notes.push(
        `Telemetry (request metrics + one log line per request), two new service processes with the same history, interleaved: menu ${fmt(t.onRps)} req/s on vs ${fmt(t.offRps)} off (medians), ` +
          `cost ${t.costPercent.toFixed(1)}% (median of the per-run on/off ratios; target < 10%); CPU ${fmt(t.onCpuMs, 3)} vs ${fmt(t.offCpuMs, 3)} ms per request.`,
      );
    }
    if (b.tracing?.length) {
      notes.push(
        `Tracing (OTLP/HTTP protobuf to a sink on loopback), three new service processes with the same history, interleaved, ratios to tracing off (median of the per-run ratios): ` +
          tracingLines(b.tracing).join('; ') +
          (b.tracingExported ? ` (${fmt(b.tracingExported.exports)} exports, ${fmt(b.tracingExported.bytes / 1024)} KiB reached the sink).` : '.'),
      );
    }
    const paired = b.scenarios.filter((s) => s.paired);
    if (paired.length) {
      notes.push(
        `Yardsticks measured again beside each scenario with a target, interleaved with it; the target's ratio is the median of the per-run ratios (run i of the scenario to run i of the yardstick): ` +
          paired.map((s) => `${s.id} beside ${s.paired!.id === 'baseline' ? 'bare Express' : 'the pooled query'} ${fmt(s.paired!.reqPerSec)} req/s${s.paired!.ratio !== undefined ? ` (ratio ${Math.round(s.paired!.ratio * 100)}%)` : ''}`).join(', ') +
          '.',
      );
    }
    const withFactory = b.scenarios.find((s) => s.result.companionCpuMsPerRequest?.factory !== undefined);
    if (withFactory) {
      const r = withFactory.result;
      const parts = [['service', r.cpuMsPerRequest], ['factory simulator', r.companionCpuMsPerRequest?.factory], ['MariaDB', dbCpu(r)]] as const;
      const total = parts.reduce((sum, [, ms]) => sum + (ms ?? 0), 0);
      const target = 5 * OLD_SERVICE_ORDER_RPS;
      notes.push(
        `CPU per order, factory in its own process: ${parts.filter(([, ms]) => ms !== undefined).map(([name, ms]) => `${name} ${fmt(ms, 3)} ms`).join(', ')}; ` +
          `together ${fmt(total, 3)} ms, so ${fmt(target)} orders/s would need ${fmt((total * target) / 1000, 1)} cores for these processes alone (this machine has ${report.machine.cores}, shared with the load generator).`,
      );
    }
    if (b.loginStorm) {
      const s = b.loginStorm;
      notes.push(
        `Login storm: menu p99 ${fmt(s.menuAloneP99, 1)} ms alone vs ${fmt(s.menuStormP99, 1)} ms while ${fmt(s.loginRps)} logins/s run (menu ${fmt(s.menuAloneRps)} → ${fmt(s.menuStormRps)} req/s); ` +
          `the service's event-loop delay p99 ${fmt(s.eventLoopLagP99MsAlone, 1)} ms → ${fmt(s.eventLoopLagP99MsStorm, 1)} ms (max ${fmt(s.eventLoopLagMaxMsStorm, 1)} ms).`,
      );
    }
    const conn = b.scenarios.filter((s) => s.dbConnectionsMax !== undefined);
    if (conn.length) {
      const max = Math.max(...conn.map((s) => s.dbConnectionsMax ?? 0));
      const over = conn.filter((s) => (s.dbConnectionsMax ?? 0) > (s.dbConnectionsBound ?? Infinity));
      notes.push(`Database connections on the bench database: at most ${max} during any scenario (pool size ${b.poolSize} per process); ${over.length ? `over the bound in ${over.map((s) => s.title).join(', ')}` : 'never above the pool bound'}.`);
    }
    if (b.cluster) {
      const c = b.cluster;
      notes.push(`Cluster, 1 → 2 workers: ${Object.keys(c.oneWorker).map((k) => `${k} ${fmt(c.oneWorker[k])} → ${fmt(c.twoWorkers[k])} req/s`).join(', ')}.${c.metricsCheck ? ` ${c.metricsCheck}` : ''}`);
    }
    if (b.soak) {
      const s = b.soak;
      notes.push(`Soak (${s.seconds} s mixed load, ${fmt(s.result.reqPerSec)} req/s, ${s.result.non2xx} non-2xx): RSS ${fmt(s.startMiB, 1)} → ${fmt(s.endMiB, 1)} MiB, max ${fmt(s.maxMiB, 1)} (${s.growthPercent >= 0 ? '+' : ''}${s.growthPercent.toFixed(1)}%).`);
    }
    if (hasDbCpu(b) && b.scenarios.some((s) => s.result.dbThreadCpuMsPerRequest !== undefined)) {
      notes.push('DB CPU: the MariaDB threads serving the bench database\'s connections (PROCESSLIST TID, /proc task stat), which other users of the server do not move; InnoDB\'s background threads are not in it.');
    }
    if (hasSql(b)) {
      notes.push(
        b.backend === 'mysql'
          ? 'SQL round trips/req: statements the service sent (mysql2 query/execute, counted by a --require\'d hook), then + BEGIN/COMMIT.'
          : 'SQL statements/req: statements the service ran (better-sqlite3), then + transaction control (BEGIN/COMMIT, and the savepoints of the group commit: a commit serves the writes of one event-loop turn).',
      );
    }
    if (notes.length) out.push('', ...notes.map((n) => `- ${n}`));
    if (b.scale.length > 1) {
      out.push('', 'Scale (req/s; cost per request should stay flat):', '');
      out.push(
        mdTable(
          ['data', 'franchises', 'orders per diner', 'franchise list (anon)', 'franchise list (admin)', 'order history'],
          b.scale.map((r) => [r.size, fmt(r.franchises), r.ordersPerDiner, fmt(r.franchiseAnon), fmt(r.franchiseAdmin), fmt(r.history)]),
        ),
      );
      const seeded = Object.entries(b.bulkSeedSeconds);
      if (seeded.length) out.push('', `(10x/100x rows bulk-inserted with multi-row INSERTs: ${seeded.map(([k, v]) => `${k} in ${v.toFixed(1)} s`).join(', ')}.)`);
    }
  }
  return out.join('\n');
}

export const START_MARKER = '<!-- bench:start -->';
export const END_MARKER = '<!-- bench:end -->';

/** Replaces what is between the markers (appending them if missing); the prose around them is kept. */
export function writeMarkdown(file: string, generated: string): void {
  const block = `${START_MARKER}\n${generated}\n${END_MARKER}`;
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Performance\n\n';
  const start = current.indexOf(START_MARKER);
  const end = current.indexOf(END_MARKER);
  const next = start >= 0 && end > start ? current.slice(0, start) + block + current.slice(end + END_MARKER.length) : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
}
