import { openSync, closeSync, readSync, statSync, truncateSync } from 'node:fs';
import type { ChildServer } from './children';
import { medianRun, runLoad, type LoadResult } from './load';
import type { BenchOptions } from './options';
import type { Progress } from './progress';
import type { ScenarioResult } from './report';
import type { RequestShape } from './scenarios';

export interface ScenarioDef {
  id: string;
  title: string;
  group: ScenarioResult['group'];
  server: ChildServer;
  shape: RequestShape;
  connections?: number;
  /** Runs whenever the scenario with this id runs (a yardstick measured again beside it). */
  companionOf?: string;
  /** Other processes whose CPU per request is reported beside the server's (an external factory). */
  companions?: { name: string; cpuSeconds(): number }[];
  /** At most this many requests per run under --requests (slow scenarios: logins at the bcrypt limit). */
  maxRequests?: number;
}

export interface Samplers {
  /** Connections open on the bench database (MariaDB only). */
  dbConnections?: () => Promise<number>;
  /** Upper bound for the processes alive now (pool size x processes with a pool). */
  dbBound?: () => number;
  /** CPU seconds used so far by the database server, when it runs on this machine. */
  dbCpuSeconds?: () => number;
  /** CPU seconds so far of each database server thread serving the bench database, by thread id. */
  dbThreadCpuSeconds?: () => Promise<Map<number, number>>;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * Runs scenarios: a warm-up each, then `runs` measured runs, interleaved when several scenarios are
 * measured together (so slow drift of a shared, noisy machine hits both sides of a comparison alike).
 * While a run goes, the server's RSS and the database's connection count are sampled.
 */
export class Runner {
  constructor(
    private readonly options: BenchOptions,
    private readonly progress: Progress,
    private readonly prefix: string,
    private readonly samplers: Samplers = {},
  ) {}

  /** `--only` names scenario ids or whole groups (yardstick, api, telemetry, tracing, storm, scale, cluster, soak). */
  selected(idOrGroup: string, group?: string): boolean {
    return !this.options.only || this.options.only.has(idOrGroup) || (group !== undefined && this.options.only.has(group));
  }

  async measure(def: ScenarioDef): Promise<ScenarioResult | undefined> {
    return (await this.measureTogether([def]))[0];
  }

  async measureTogether(defs: ScenarioDef[]): Promise<(ScenarioResult | undefined)[]> {
    const active = defs.filter((d) => this.selected(d.id, d.group) || (d.companionOf !== undefined && this.selected(d.companionOf, d.group)));
    if (!active.length) return defs.map(() => undefined);
    const logOffsets = new Map(active.map((d) => [d.server.logFile, logSize(d.server.logFile)]));
    const collected = new Map<string, { runs: LoadResult[]; rss: number; db: number; bound: number }>();

    for (const def of active) {
      await def.server.idle();
      if (this.options.warmup > 0) {
        const tick = this.progress.start(`${this.prefix} ${def.title} (warm-up)`, this.options.warmup);
        await runLoad({ ...def.shape, url: def.server.url, connections: def.connections ?? this.options.connections, duration: this.options.warmup }, tick);
        this.progress.clear();
      }
      collected.set(def.id, { runs: [], rss: 0, db: 0, bound: 0 });
    }
    for (let run = 1; run <= this.options.runs; run++) {
      for (const def of active) {
        const entry = collected.get(def.id)!;
        const label = `${this.prefix} ${def.title}${this.options.runs > 1 ? ` run ${run}/${this.options.runs}` : ''}`;
        await def.server.idle();
        const stopSampling = this.sample(def.server, entry);
        const cpuBefore = def.server.cpuSeconds();
        const dbCpuBefore = this.samplers.dbCpuSeconds?.();
        const dbThreadsBefore = await this.samplers.dbThreadCpuSeconds?.().catch(() => undefined);
        const statementsBefore = await def.server.statements?.().catch(() => undefined);
        const companionsBefore = (def.companions ?? []).map((c) => c.cpuSeconds());
        const amount = this.options.requests === undefined ? undefined : Math.min(this.options.requests, def.maxRequests ?? Infinity);
        const result = await runLoad(
          { ...def.shape, url: def.server.url, connections: def.connections ?? this.options.connections, duration: this.options.duration, amount },
          this.progress.start(label, this.options.duration),
        );
        // CPU over the same window as the requests counted: in steady state, the work of requests still in
        // flight at the end balances the ramp-up at the start (the server was idle before the run).
        const cpuAfter = def.server.cpuSeconds();
        const dbCpuAfter = this.samplers.dbCpuSeconds?.();
        const companionsAfter = (def.companions ?? []).map((c) => c.cpuSeconds());
        const dbThreadsAfter = dbThreadsBefore && (await this.samplers.dbThreadCpuSeconds?.().catch(() => undefined));
        const statementsAfter = statementsBefore && (await def.server.statements?.().catch(() => undefined));
        await stopSampling();
        if (result.total > 0) {
          const perRequest = (before: number, after: number) => ((after - before) * 1000) / result.total;
          result.cpuMsPerRequest = perRequest(cpuBefore, cpuAfter);
          if (dbCpuBefore !== undefined && dbCpuAfter !== undefined) result.dbCpuMsPerRequest = perRequest(dbCpuBefore, dbCpuAfter);
          if (dbThreadsBefore && dbThreadsAfter) {
            // A thread that started during the run (a new pool connection) counts from zero.
            let seconds = 0;
            for (const [tid, after] of dbThreadsAfter) seconds += after - (dbThreadsBefore.get(tid) ?? 0);
            result.dbThreadCpuMsPerRequest = (seconds * 1000) / result.total;
          }
          if (statementsBefore && statementsAfter) {
            result.sqlPerRequest = (statementsAfter.statements - statementsBefore.statements) / result.total;
            result.sqlControlPerRequest = (statementsAfter.control - statementsBefore.control) / result.total;
            result.commitsPerRequest = (statementsAfter.commits - statementsBefore.commits) / result.total;
          }
          if (def.companions?.length) result.companionCpuMsPerRequest = Object.fromEntries(def.companions.map((c, i) => [c.name, perRequest(companionsBefore[i], companionsAfter[i])]));
        }
        entry.runs.push(result);
        this.progress.done(`${fmt(result.reqPerSec)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms  cpu ${result.cpuMsPerRequest?.toFixed(3) ?? '-'} ms/req${result.dbThreadCpuMsPerRequest !== undefined ? `  db ${result.dbThreadCpuMsPerRequest.toFixed(3)} ms/req` : result.dbCpuMsPerRequest !== undefined ? `  db ${result.dbCpuMsPerRequest.toFixed(3)} ms/req` : ''}${result.sqlPerRequest !== undefined ? `  sql ${result.sqlPerRequest.toFixed(2)}/req` : ''}${result.errors || result.non2xx ? `  errors ${result.errors} non-2xx ${result.non2xx}` : ''}`);
      }
    }

    const results = active.map((def) => {
      const entry = collected.get(def.id)!;
      const result = medianRun(entry.runs);
      const scenario: ScenarioResult = { id: def.id, title: def.title, group: def.group, result, runs: entry.runs, rssMaxMiB: round1(entry.rss / 2 ** 20) };
      if (this.samplers.dbConnections) {
        scenario.dbConnectionsMax = entry.db;
        scenario.dbConnectionsBound = entry.bound;
      }
      const troubled = entry.runs.some((r) => r.errors > 0 || r.non2xx > 0);
      if (troubled) scenario.diagnosis = diagnose(entry.runs, def.server.logFile, logOffsets.get(def.server.logFile) ?? 0);
      return scenario;
    });
    if (!this.options.keepLogs) for (const file of logOffsets.keys()) truncateLog(file);
    return defs.map((d) => results.find((r) => r.id === d.id));
  }

  /** Runs several loads at the same time (e.g. menu reads during a login storm); no warm-up, one run. */
  async concurrently(defs: ScenarioDef[]): Promise<LoadResult[]> {
    for (const def of defs) await def.server.idle();
    const label = `${this.prefix} ${defs.map((d) => d.title).join(' + ')}`;
    const tick = this.progress.start(label, this.options.duration);
    const results = await Promise.all(
      defs.map((def, i) =>
        runLoad({ ...def.shape, url: def.server.url, connections: def.connections ?? this.options.connections, duration: this.options.duration }, i === 0 ? tick : undefined),
      ),
    );
    this.progress.done(results.map((r, i) => `${defs[i].title}: ${fmt(r.reqPerSec)} req/s p99 ${r.p99} ms`).join('; '));
    if (!this.options.keepLogs) for (const def of defs) truncateLog(def.server.logFile);
    return results;
  }

  private sample(server: ChildServer, into: { rss: number; db: number; bound: number }): () => Promise<void> {
    let pending: Promise<void> = Promise.resolve();
    const tick = () => {
      into.rss = Math.max(into.rss, server.rss());
      const { dbConnections, dbBound } = this.samplers;
      if (dbConnections) {
        into.bound = Math.max(into.bound, dbBound?.() ?? 0);
        pending = dbConnections().then(
          (n) => void (into.db = Math.max(into.db, n)),
          () => undefined,
        );
      }
    };
    tick();
    const timer = setInterval(tick, 500);
    return async () => {
      clearInterval(timer);
      tick();
      await pending;
    };
  }
}

const round1 = (n: number) => Math.round(n * 10) / 10;

function logSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function truncateLog(file: string): void {
  try {
    truncateSync(file, 0);
  } catch {
    // already gone
  }
}

/** The service's own account of non-2xx answers and errors: its warn/error lines, counted by message. */
function diagnose(runs: LoadResult[], logFile: string, offset: number): string[] {
  const lines: string[] = [];
  const codes = new Map<string, number>();
  for (const run of runs) for (const [code, count] of Object.entries(run.statusCodes)) if (!code.startsWith('2')) codes.set(code, (codes.get(code) ?? 0) + count);
  if (codes.size) lines.push(`status ${[...codes].map(([c, n]) => `${c} x${n}`).join(', ')}`);
  const errors = runs.reduce((sum, r) => sum + r.errors, 0);
  if (errors) lines.push(`${errors} connection errors (${runs.reduce((s, r) => s + r.timeouts, 0)} timeouts)`);
  const size = logSize(logFile);
  const length = Math.min(size - offset, 64 * 2 ** 20);
  if (length <= 0) return lines;
  const buffer = Buffer.alloc(length);
  const fd = openSync(logFile, 'r');
  readSync(fd, buffer, 0, length, offset);
  closeSync(fd);
  const messages = new Map<string, number>();
  for (const line of buffer.toString('utf8').split('\n')) {
    if (!line.includes('"level":"warn"') && !line.includes('"level":"error"') && !line.includes('"level":"fatal"')) continue;
    try {
      const entry = JSON.parse(line) as { level: string; msg?: string; error?: string; err?: { message?: string } };
      const key = `${entry.level}: ${entry.msg ?? ''}${entry.error ? ` (${entry.error})` : ''}${entry.err?.message ? ` (${entry.err.message})` : ''}`;
      messages.set(key, (messages.get(key) ?? 0) + 1);
    } catch {
      // a partial line at the edge of the window
    }
  }
  const top = [...messages].sort((a, b) => b[1] - a[1]).slice(0, 5);
  if (top.length) lines.push(`service log: ${top.map(([m, n]) => `${m} x${n}`).join('; ')}`);
  return lines;
}
