// The game day: the 2025-11-26 incident replayed against the real service, the real factory simulator
// and a real Prometheus evaluating our (time-scaled) alert rules, received by remote_write.
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readdirSync, readFileSync, rmSync, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config';
import { redactReportUrl } from '../../src/factory/redact';
import { startService, type RunningService } from '../../src/service';
import { AlertTracker, type AlertState, type Transition } from './alerts';
import { createDisplay, type Display } from './display';
import { clock, oncallAtMs, realTime, scaled, type Plan } from './profile';
import { startPrometheus, type RunningPrometheus } from './prometheus';
import { scaleRuleFile } from './scale';
import { ApiClient, OrderPlacer, prepareDiners } from './traffic';

export const OURS = 'PizzaPurchaseFailures';
export const NAIVE = 'NaivePizzaPurchaseFailures';
export const ROOT = path.resolve(__dirname, '..', '..');
const ALERTS_DIR = path.join(ROOT, 'grafana', 'alerts');
const NAIVE_RULES = path.join(ALERTS_DIR, 'tests', 'naive.rules.yml');
const PROMTOOL = process.env.PROMTOOL_BIN ?? '/usr/bin/promtool';
const SOURCE = 'jwt-pizza-service';

export interface TimelineEntry {
  at: number;
  /** ms since the warm-up started. */
  t: number;
  text: string;
}

export interface GamedaySummary {
  pass: boolean;
  failures: string[];
  profile: string;
  factor: number;
  durationMs: number;
  ours: { firings: number; firingsDuringWarmup: number; pendingDuringWarmup: boolean; firingsAfterResolve: number; resolved: boolean; finalState: AlertState; transitions: { t: number; from: string; to: string }[] };
  naive: { loaded: boolean; firings: number; transitions: { t: number; from: string; to: string }[] };
  otherAlerts: Record<string, number>;
  timeToFireMs?: number;
  timeToResolveMs?: number;
  orders: { ok: number; failed: number; byReason: Record<string, number>; okDuringWarmup: number; okAfterFix: number; failedAfterFix: number };
  reportUrlFoundVia: string[];
  timeline: { t: number; text: string }[];
  scaledRule?: { for: string; keepFiringFor: string; groupInterval: string };
}

export interface GamedayOptions {
  plan: Plan;
  display?: Display;
  keepTmp?: boolean;
  /** Aborts the run (SIGINT); cleanup still happens. */
  signal?: AbortSignal;
}

class Aborted extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'Aborted';
  }
}

// Last-resort cleanup if the process exits without the normal path (uncaught error, process.exit).
const emergency = { children: new Set<ChildProcess>(), dirs: new Set<string>() };
let emergencyHooked = false;
function hookEmergencyCleanup() {
  if (emergencyHooked) return;
  emergencyHooked = true;
  process.once('exit', () => {
    for (const child of emergency.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const dir of emergency.dirs) rmSync(dir, { recursive: true, force: true });
  });
}

const fmtSeconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export async function runGameday(options: GamedayOptions): Promise<GamedaySummary> {
  const { plan } = options;
  const display = options.display ?? createDisplay(process.stdout, { plainEveryMs: Math.max(5000, scaled(plan, 4 * 60_000)) });
  const c = display.color.bind(display);
  hookEmergencyCleanup();

  const runAbort = new AbortController();
  const onOuterAbort = () => runAbort.abort(new Aborted('interrupted'));
  if (options.signal?.aborted) onOuterAbort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const signal = runAbort.signal;
  const fail = (reason: string) => runAbort.abort(new Aborted(reason));
  const checkAbort = () => {
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Aborted(String(signal.reason));
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  const sleepUntil = (at: number) => sleep(at - Date.now());

  const started = Date.now();
  let t0 = started;
  const timeline: TimelineEntry[] = [];
  const stamp = (at: number) => `${new Date(at).toISOString().slice(11, 19)}Z ${clock(at - t0)} ${c('dim', `≈${realTime(plan, Math.max(0, at - t0)).padStart(6)}`)}`;
  const event = (text: string, at = Date.now()) => {
    timeline.push({ at, t: at - t0, text });
    display.line(`${stamp(at)}  ${text}`);
  };
  const setup = (text: string) => display.line(`${c('dim', 'setup')}  ${text}`);

  const dir = await mkdtemp(path.join(os.tmpdir(), 'gameday-'));
  emergency.dirs.add(dir);
  let prometheus: RunningPrometheus | undefined;
  let promChild: ChildProcess | undefined;
  let service: RunningService | undefined;
  let serviceLog: WriteStream | undefined;
  const loops: Promise<void>[] = [];
  let stopLoops = false;
  let placer: OrderPlacer | undefined;

  const tracker = new AlertTracker((transition: Transition) => {
    const label = transition.alertname === OURS ? c('bold', `${OURS} (ours)`) : transition.alertname === NAIVE ? `${NAIVE} (naive anti-example)` : c('dim', `${transition.alertname} (other)`);
    const to = transition.to === 'firing' ? c('red', 'FIRING') : transition.to === 'pending' ? c('yellow', 'pending') : c('green', 'inactive');
    const count = transition.to === 'firing' ? `  [firing #${tracker.get(transition.alertname).firings}]` : '';
    event(`${label}: ${transition.from} → ${to}${count}`, transition.at);
  });

  let phase = 'setup';
  let chaosStart = 0;
  let warmupEnd = 0;
  let fixAt: number | undefined;
  let resolvedAt: number | undefined;
  let okAtFix = 0;
  let failedAtFix = 0;
  let okDuringWarmup = 0;
  const reportUrlFoundVia: string[] = [];
  let scaledRule: GamedaySummary['scaledRule'];
  let naiveLoaded = false;
  let lastLogReport: { time?: string; msg?: string; reason?: string; status?: number; reportUrl?: string; orderId?: number } | undefined;

  try {
    // ---- Prometheus: a remote_write receiver, no rules yet ------------------------------------------
    prometheus = await startPrometheus({
      dir,
      evaluationInterval: plan.evaluationInterval,
      onChild: (child) => {
        promChild = child;
        emergency.children.add(child);
        child.once('exit', (code, sig) => {
          emergency.children.delete(child);
          if (!stopLoops) fail(`prometheus exited unexpectedly (${code ?? sig}):\n${prometheus?.logTail() ?? ''}`);
        });
      },
    });
    setup(`prometheus ${prometheus.baseUrl} (pid ${prometheus.pid}, remote_write receiver, data in ${dir})`);

    // ---- The service, configured through its environment as in production ---------------------------
    const adminKey = randomBytes(16).toString('hex');
    serviceLog = createWriteStream(path.join(dir, 'service.log'));
    const logDestination = {
      write(line: string) {
        serviceLog?.write(line);
        if (line.includes('"reportUrl"')) {
          try {
            const parsed = JSON.parse(line) as NonNullable<typeof lastLogReport> & { type?: string; outcome?: string };
            if (parsed.type === 'factory' && parsed.outcome === 'failed' && parsed.reportUrl) lastLogReport = parsed;
          } catch {
            // not JSON: ignore
          }
        }
      },
    };
    const config = loadConfig(
      {
        NODE_ENV: 'development',
        HOST: '127.0.0.1',
        PORT: '0',
        FACTORY_PORT: '0',
        FACTORY_ADMIN_KEY: adminKey,
        FACTORY_CIRCUIT_COOLDOWN_MS: String(plan.circuitCooldownMs),
        DATA_DIR: dir,
        DATABASE_URL: `sqlite:${path.join(dir, 'gameday.db')}`,
        LOG_LEVEL: 'info',
        LOG_PRETTY: 'false',
        BCRYPT_ROUNDS: '4',
        RATE_LIMIT_PER_MINUTE: '1000000',
        METRICS_SOURCE: SOURCE,
        METRICS_PUSH_URL: prometheus.writeUrl,
        METRICS_PUSH_INTERVAL: String(plan.pushIntervalSeconds),
        SHUTDOWN_TIMEOUT_MS: '3000',
      },
      { isTty: false },
    );
    service = await startService(config, { logDestination, isTty: false });
    const simulatorUrl = service.simulator?.url;
    if (!simulatorUrl) throw new Error('the service did not start the embedded factory simulator (FACTORY_URL must be unset)');
    setup(`service ${service.url}, factory simulator ${simulatorUrl}, metrics pushed every ${plan.pushIntervalSeconds} s, circuit cooldown ${plan.circuitCooldownMs} ms`);

    // The pipeline works before any rule evaluates: the service's counters are in Prometheus.
    const pipelineDeadline = Date.now() + 30_000;
    for (;;) {
      checkAbort();
      const found = await prometheus.query(`pizza_purchases_total{source="${SOURCE}"}`).catch(() => []);
      if (found.length > 0) break;
      if (Date.now() > pipelineDeadline) throw new Error(`no pizza_purchases_total{source="${SOURCE}"} in Prometheus 30 s after start: the remote_write push is not arriving.\nprometheus log:\n${prometheus.logTail()}`);
      await sleep(250);
    }
    setup('remote_write pipeline OK: pizza_purchases_total series are in Prometheus');

    // ---- Time-scaled copies of the rule files -------------------------------------------------------
    const rulesDir = path.join(dir, 'rules');
    await mkdir(rulesDir);
    const sources = readdirSync(ALERTS_DIR).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(ALERTS_DIR, f));
    if (!sources.length) throw new Error(`no rule files in ${ALERTS_DIR}`);
    naiveLoaded = existsSync(NAIVE_RULES);
    if (naiveLoaded) sources.push(NAIVE_RULES);
    const ruleFiles: string[] = [];
    for (const source of sources) {
      const relative = path.relative(ALERTS_DIR, source);
      const target = path.join(rulesDir, relative.replace(/[\\/]/g, '__'));
      await writeFile(target, scaleRuleFile(readFileSync(source, 'utf8'), plan.factor, `grafana/alerts/${relative}`));
      ruleFiles.push(target);
    }
    if (existsSync(PROMTOOL)) {
      await promisify(execFile)(PROMTOOL, ['check', 'rules', ...ruleFiles], { timeout: 60_000 }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`promtool check rules rejected the time-scaled rule files:\n${error.stdout ?? ''}${error.stderr ?? error.message}`);
      });
    }
    await prometheus.loadRules(ruleFiles);
    const groups = await prometheus.rules();
    const ourGroup = groups.find((g) => g.rules.some((r) => r.name === OURS));
    const ourRule = ourGroup?.rules.find((r) => r.name === OURS);
    if (!ourGroup || !ourRule) throw new Error(`${OURS} is not among the loaded rules (${groups.map((g) => g.name).join(', ')})`);
    scaledRule = { for: `${ourRule.duration ?? 0}s`, keepFiringFor: `${ourRule.keepFiringFor ?? 0}s`, groupInterval: `${ourGroup.interval}s` };
    setup(
      `loaded ${groups.length} rule groups from ${ruleFiles.length} files, time-scaled ÷${plan.factor}: ${OURS} for ${scaledRule.for}, keep_firing_for ${scaledRule.keepFiringFor}, evaluated every ${scaledRule.groupInterval}` +
        (naiveLoaded ? `; naive anti-example ${NAIVE} loaded beside it` : `; ${path.relative(ROOT, NAIVE_RULES)} missing: no naive comparison`),
    );

    // ---- Diners and on-call ------------------------------------------------------------------------
    const api = new ApiClient(service.url);
    const { diners, shop } = await prepareDiners(api, 4);
    const { token: adminToken } = await api.expect<{ token: string }>('PUT', '/api/auth', { body: { email: 'a@jwt.com', password: 'admin' } });
    setup(`${diners.length} diners registered; ordering from ${shop.franchiseName}/${shop.storeName}; on-call logged in as the dev admin a@jwt.com`);

    placer = new OrderPlacer(api, diners, shop, (result) => {
      if (!result.ok && placer!.stats.failed === 1) event(`first failed order: HTTP ${result.status}, reason ${result.reason}; the diner reads "${result.message ?? ''}"`, result.at);
    });
    const orderEveryMs = scaled(plan, 60_000 / plan.ordersPerMinute);
    const cycleMs = scaled(plan, plan.burstMs + plan.gapMs);
    const burstWallMs = scaled(plan, plan.burstMs);
    // Orders stop a moment before a burst ends, so none lands in the quiet gap.
    const edgeGuardMs = Math.min(500, burstWallMs * 0.05);
    let traffic: 'off' | 'on' | 'bursts' = 'off';
    let cadenceFrom = 0;
    const trafficOn = (now: number) => traffic === 'on' || (traffic === 'bursts' && now >= chaosStart && (now - chaosStart) % cycleMs < burstWallMs - edgeGuardMs);

    loops.push(
      (async () => {
        let anchor = -1;
        let tick = 0;
        while (!stopLoops) {
          if (anchor !== cadenceFrom) {
            anchor = cadenceFrom;
            tick = 0;
          }
          const due = anchor + tick * orderEveryMs;
          if (Date.now() >= due) {
            tick++;
            if (trafficOn(Date.now())) placer!.placeOne();
          }
          await new Promise((r) => setTimeout(r, Math.max(5, Math.min(100, due + orderEveryMs - Date.now()))));
        }
      })(),
    );
    let consecutivePollErrors = 0;
    const knownNames = naiveLoaded ? [OURS, NAIVE] : [OURS];
    loops.push(
      (async () => {
        while (!stopLoops) {
          const at = Date.now();
          try {
            tracker.observe(await prometheus!.alerts(), at, knownNames);
            consecutivePollErrors = 0;
          } catch (error) {
            tracker.pollErrors++;
            if (++consecutivePollErrors >= 30) fail(`GET /api/v1/alerts failed 30 times in a row: ${(error as Error).message}`);
          }
          await new Promise((r) => setTimeout(r, Math.max(50, at + plan.pollMs - Date.now())));
        }
      })(),
    );
    const statusText = () => {
      const stats = placer!.stats;
      const ours = tracker.get(OURS);
      const oursState = ours.state === 'firing' ? c('red', 'FIRING') : ours.state === 'pending' ? c('yellow', 'pending') : c('green', 'inactive');
      const naive = naiveLoaded ? ` │ naive ${tracker.state(NAIVE)} (${tracker.get(NAIVE).firings} firings)` : '';
      return `${clock(Date.now() - t0)} ≈${realTime(plan, Math.max(0, Date.now() - t0))} │ ${phase} │ orders ok ${stats.ok} · failed ${stats.failed} │ ${OURS} ${oursState} (${ours.firings} firing${ours.firings === 1 ? '' : 's'})${naive}`;
    };
    loops.push(
      (async () => {
        while (!stopLoops) {
          display.status(statusText());
          await new Promise((r) => setTimeout(r, 250));
        }
      })(),
    );

    display.line();
    display.line(
      c('bold', `Timeline`) +
        c('dim', ` (UTC, elapsed, ≈ real incident time at factor ${plan.factor}; ${plan.ordersPerMinute} orders per real minute = one every ${fmtSeconds(orderEveryMs)})`),
    );

    // ---- 1. Healthy warm-up ------------------------------------------------------------------------
    t0 = Date.now();
    phase = 'warm-up (healthy)';
    traffic = 'on';
    cadenceFrom = t0;
    event(`warm-up: healthy traffic for ${realTime(plan, scaled(plan, plan.warmupMs))} real (${fmtSeconds(scaled(plan, plan.warmupMs))})`);
    await sleep(scaled(plan, plan.warmupMs));
    warmupEnd = Date.now();
    okDuringWarmup = placer.stats.ok;

    // ---- 2. Bursty `fail` chaos, no traffic in the gaps --------------------------------------------
    const chaosBody = { ratio: 1, burstMs: Math.round(burstWallMs), gapMs: Math.round(scaled(plan, plan.gapMs)) };
    const chaos = await fetch(`${simulatorUrl}/api/chaos/fail`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(chaosBody),
      signal: AbortSignal.timeout(10_000),
    });
    if (!chaos.ok) throw new Error(`PUT ${simulatorUrl}/api/chaos/fail answered ${chaos.status}: ${await chaos.text()}`);
    // The fix code in the answer is the chaos monkey's secret: on-call must find it the runbook's way.
    const chaosState = (await chaos.json()) as { chaos: { startsAt: string } };
    chaosStart = Date.parse(chaosState.chaos.startsAt);
    traffic = 'bursts';
    cadenceFrom = chaosStart;
    event(
      `chaos: factory 'fail' in bursts of ${realTime(plan, burstWallMs)} (${fmtSeconds(burstWallMs)}) with ${realTime(plan, scaled(plan, plan.gapMs))} gaps (${fmtSeconds(scaled(plan, plan.gapMs))}), no traffic in the gaps`,
      chaosStart,
    );
    for (let k = 1; k <= plan.oncallInBurst; k++) {
      const burstStart = chaosStart + (k - 1) * cycleMs;
      await sleepUntil(burstStart);
      phase = `chaos: burst ${k}`;
      if (k > 1) event(`burst ${k}: every order fails again`, burstStart);
      if (k === plan.oncallInBurst) break;
      await sleepUntil(burstStart + burstWallMs);
      phase = `chaos: gap ${k} (no traffic)`;
      event(`gap ${k}: no traffic, no failures`, burstStart + burstWallMs);
    }
    await sleepUntil(chaosStart + oncallAtMs(plan));

    // ---- 3. On-call ends the chaos the runbook's way -----------------------------------------------
    phase = 'on-call';
    const { failures } = await api.expect<{ failures: { orderId: number; reason: string; factoryStatus?: number; date: string; reportUrl?: string | null }[] }>('GET', '/api/order/failures?limit=20', { token: adminToken });
    const withUrl = failures.find((f) => f.reportUrl);
    if (withUrl?.reportUrl) {
      reportUrlFoundVia.push('GET /api/order/failures');
      event(`on-call: GET /api/order/failures → order ${withUrl.orderId} failed (${withUrl.reason}, factory ${withUrl.factoryStatus ?? '-'}) with reportUrl ${redactReportUrl(withUrl.reportUrl)}`);
    }
    const factoryView = await api.call<{ circuit?: string; activeReportUrl?: string | null; lastError?: { reason?: string } | null }>('GET', '/api/order/factory', { token: adminToken });
    if (factoryView.status === 200) {
      if (factoryView.body.activeReportUrl) reportUrlFoundVia.push('GET /api/order/factory (activeReportUrl, redacted)');
      event(`on-call: GET /api/order/factory → circuit ${factoryView.body.circuit}, last error ${factoryView.body.lastError?.reason ?? '-'}, activeReportUrl ${factoryView.body.activeReportUrl ?? '-'}`);
    }
    if (lastLogReport?.reportUrl) {
      reportUrlFoundVia.push('log line {type:"factory", outcome:"failed", reportUrl}');
      event(`on-call: the log line says the same: ${JSON.stringify({ time: lastLogReport.time, type: 'factory', msg: lastLogReport.msg, orderId: lastLogReport.orderId, reason: lastLogReport.reason, reportUrl: lastLogReport.reportUrl })}`);
    }
    if (!withUrl) {
      // Should not happen: end the chaos as the factory admin so the drill still cleans up, and fail.
      await fetch(`${simulatorUrl}/api/chaos`, { method: 'DELETE', headers: { Authorization: `Bearer ${adminKey}` } }).catch(() => undefined);
      throw new Error('on-call found no failed order with a reportUrl in GET /api/order/failures; chaos ended through the factory admin API instead');
    }
    const report = await api.call<{ message?: string; factoryStatus?: number }>('POST', '/api/order/factory/report', { token: adminToken });
    if (report.status !== 200) throw new Error(`POST /api/order/factory/report answered ${report.status}: ${JSON.stringify(report.body)}`);
    fixAt = Date.now();
    okAtFix = placer.stats.ok;
    failedAtFix = placer.stats.failed;
    event(`on-call: POST /api/order/factory/report → "${report.body.message}" (factory ${report.body.factoryStatus}); ${OURS} is ${tracker.state(OURS)}`, fixAt);

    // ---- 4. Recovery: purchases succeed, the alert resolves -----------------------------------------
    phase = 'recovery';
    traffic = 'on';
    cadenceFrom = fixAt;
    let firstOkLogged = false;
    const recoveryDeadline = fixAt + Math.max(60_000, scaled(plan, plan.recoveryDeadlineMs));
    for (;;) {
      checkAbort();
      if (!firstOkLogged && placer.stats.ok > okAtFix) {
        firstOkLogged = true;
        event(`recovery: purchases succeed again`);
      }
      const ours = tracker.get(OURS);
      const resolution = ours.transitions.find((t) => t.at >= fixAt! && t.to === 'inactive' && t.from === 'firing');
      if (resolution && ours.state === 'inactive') {
        resolvedAt = resolution.at;
        break;
      }
      if (ours.firings === 0 && ours.state === 'inactive') break; // never fired: nothing to resolve
      if (Date.now() > recoveryDeadline) {
        event(c('red', `${OURS} still ${ours.state} ${fmtSeconds(Date.now() - fixAt)} after the fix: giving up waiting`));
        break;
      }
      await sleep(100);
    }
    if (resolvedAt !== undefined) {
      phase = 'recovery: holding';
      await sleep(scaled(plan, plan.holdAfterResolveMs));
      event(`end: traffic stops (${OURS} stayed ${tracker.state(OURS)} for ${realTime(plan, Date.now() - resolvedAt)} real after resolving)`);
    }
    traffic = 'off';
    await placer.drain();
  } catch (error) {
    if (error instanceof Aborted || signal.aborted) {
      const reason = signal.reason instanceof Aborted ? signal.reason.reason : (error as Error).message;
      display.close();
      display.line(c('red', `game day aborted: ${reason}`));
      throw new Aborted(reason);
    }
    throw error;
  } finally {
    stopLoops = true;
    options.signal?.removeEventListener('abort', onOuterAbort);
    await Promise.allSettled(loops);
    display.close();
    if (placer) await Promise.race([placer.drain(), new Promise((r) => setTimeout(r, 10_000))]);
    if (service) await Promise.race([service.shutdown('game day over').catch(() => undefined), new Promise((r) => setTimeout(r, 15_000))]);
    await new Promise<void>((resolve) => (serviceLog ? serviceLog.end(() => resolve()) : resolve()));
    if (prometheus) await prometheus.stop().catch(() => undefined);
    else if (promChild && promChild.exitCode === null) promChild.kill('SIGKILL');
    if (options.keepTmp) display.line(c('dim', `kept ${dir} (service.log, prometheus.log, rules/)`));
    else await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    emergency.dirs.delete(dir);
  }

  // ---- Verdict -------------------------------------------------------------------------------------
  const ours = tracker.get(OURS);
  const naive = tracker.get(NAIVE);
  const stats = placer.stats;
  const firingsDuringWarmup = tracker.firingsBetween(OURS, 0, warmupEnd);
  const pendingDuringWarmup = ours.transitions.some((t) => t.to === 'pending' && t.at < warmupEnd);
  const firingsAfterResolve = resolvedAt === undefined ? 0 : tracker.firingsBetween(OURS, resolvedAt + 1, Number.MAX_SAFE_INTEGER);
  const failures: string[] = [];
  if (stats.failed === 0) failures.push('no order failed: the chaos did not take effect');
  if (firingsDuringWarmup > 0) failures.push(`${OURS} fired during the healthy warm-up`);
  if (ours.firings !== 1) failures.push(`${OURS} fired ${ours.firings} times (expected exactly once)`);
  if (resolvedAt === undefined) failures.push(`${OURS} did not resolve after the fix`);
  if (firingsAfterResolve > 0) failures.push(`${OURS} fired again after resolving`);
  const otherAlerts: Record<string, number> = {};
  for (const [name, history] of tracker.history) if (name !== OURS && name !== NAIVE && history.firings > 0) otherAlerts[name] = history.firings;
  const transitions = (name: string) => (tracker.history.get(name)?.transitions ?? []).map((t) => ({ t: t.at - t0, from: t.from, to: t.to }));

  return {
    pass: failures.length === 0,
    failures,
    profile: plan.profile,
    factor: plan.factor,
    durationMs: Date.now() - started,
    ours: { firings: ours.firings, firingsDuringWarmup, pendingDuringWarmup, firingsAfterResolve, resolved: resolvedAt !== undefined, finalState: ours.state, transitions: transitions(OURS) },
    naive: { loaded: naiveLoaded, firings: naive.firings, transitions: transitions(NAIVE) },
    otherAlerts,
    timeToFireMs: ours.firstFiringAt !== undefined && stats.firstFailureAt !== undefined ? ours.firstFiringAt - stats.firstFailureAt : undefined,
    timeToResolveMs: resolvedAt !== undefined && fixAt !== undefined ? resolvedAt - fixAt : undefined,
    orders: { ok: stats.ok, failed: stats.failed, byReason: stats.byReason, okDuringWarmup, okAfterFix: stats.ok - okAtFix, failedAfterFix: stats.failed - failedAtFix },
    reportUrlFoundVia,
    timeline: timeline.map(({ t, text }) => ({ t, text: text.replace(/\x1b\[[0-9;]*m/g, '') })), // eslint-disable-line no-control-regex
    scaledRule,
  };
}

export function printSummary(summary: GamedaySummary, plan: Plan, display: Display): void {
  const c = display.color.bind(display);
  const real = (ms: number | undefined) => (ms === undefined ? 'n/a' : `${fmtSeconds(ms)} (≈ ${realTime(plan, ms)} real)`);
  const at = (name: 'ours' | 'naive', to: string) => summary[name].transitions.filter((t) => t.to === to).map((t) => clock(t.t)).join(', ') || '-';
  display.line();
  display.line(c('bold', `Game day summary — profile ${summary.profile}, factor ${summary.factor} (1 s here ≈ ${summary.factor} s of the incident), ran ${fmtSeconds(summary.durationMs)}`));
  display.line(`  ${`${OURS} (ours)`.padEnd(36)} fired ${c('bold', `${summary.ours.firings}×`)}  (firing at ${at('ours', 'firing')}; resolved at ${at('ours', 'inactive')})`);
  if (summary.naive.loaded) display.line(`  ${`${NAIVE} (naive)`.padEnd(36)} fired ${c('bold', `${summary.naive.firings}×`)}  (firing at ${at('naive', 'firing')})`);
  display.line(`  time to fire after the first failed order: ${real(summary.timeToFireMs)}`);
  display.line(`  time to resolve after the fix:             ${real(summary.timeToResolveMs)}`);
  const reasons = Object.entries(summary.orders.byReason).map(([r, n]) => `${r} ${n}`).join(', ');
  display.line(`  orders: ${summary.orders.ok} ok, ${summary.orders.failed} failed${reasons ? ` (${reasons})` : ''}; ${summary.orders.okDuringWarmup} ok in the warm-up, ${summary.orders.okAfterFix} ok / ${summary.orders.failedAfterFix} failed after the fix`);
  display.line(`  report URL found via: ${summary.reportUrlFoundVia.join('; ') || 'nothing'}`);
  const others = Object.entries(summary.otherAlerts).map(([n, k]) => `${n} ${k}×`).join(', ');
  display.line(`  other alerts that fired: ${others || 'none'}`);
  if (summary.pass) display.line(c('green', `  PASS: one fault, one page (${OURS} fired once, stayed firing through the gaps, resolved after recovery)`));
  else for (const failure of summary.failures) display.line(c('red', `  FAIL: ${failure}`));
}
