// The game day: a fault (the 2025-11-26 incident, or another scenario) replayed against the real service,
// the real factory simulator, a real Prometheus evaluating our (time-scaled) alert rules received by
// remote_write, and a real Alertmanager routing its alerts to a webhook receiver that plays the pager.
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readdirSync, readFileSync, rmSync, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseYaml } from '../../grafana/src/yamlFile';
import { loadConfig } from '../../src/config';
import { redactReportUrl } from '../../src/factory/redact';
import { startService, type RunningService } from '../../src/service';
import { renderAlertmanagerConfig } from '../alertmanager-config';
import { AlertTracker, type AlertState, type Transition } from './alerts';
import { startAlertmanager, type RunningAlertmanager } from './alertmanager';
import { createDisplay, type Display } from './display';
import { clock, oncallAtMs, realTime, scaled, type Plan } from './profile';
import { startPrometheus, type RunningPrometheus } from './prometheus';
import { addRuleLabels, parseDuration, scaleNotificationDuration, scaleRuleFile } from './scale';
import { ApiClient, OrderPlacer, prepareDiners } from './traffic';
import { alertnameOf, isAntiExample, notificationChecks, PAGE_RECEIVER, TICKET_RECEIVER, type Check } from './verdict';
import { startWebhookReceiver, type Notification, type WebhookReceiver } from './webhook';

export const OURS = 'PizzaPurchaseFailures';
export const NAIVE = 'NaivePizzaPurchaseFailures';
export const ROOT = path.resolve(__dirname, '..', '..');
const ALERTS_DIR = path.join(ROOT, 'grafana', 'alerts');
const NAIVE_RULES = path.join(ALERTS_DIR, 'tests', 'naive.rules.yml');
export const ALERTMANAGER_CONFIG = path.join(ROOT, 'grafana', 'alertmanager', 'alertmanager.yml');
const PROMTOOL = process.env.PROMTOOL_BIN ?? '/usr/bin/promtool';
const SOURCE = 'jwt-pizza-service';

export interface TimelineEntry {
  at: number;
  /** ms since the warm-up started. */
  t: number;
  text: string;
}

/** A notification as the summary keeps it (no raw body: the checks searched that already). */
export interface NotificationRecord {
  t: number;
  receiver: string;
  status: 'firing' | 'resolved';
  alertname: string;
  antiExample: boolean;
  alerts: { status: string; labels: Record<string, string>; summary?: string; runbookUrl?: string; action?: string }[];
}

export interface GamedaySummary {
  pass: boolean;
  failures: string[];
  scenario: string;
  profile: string;
  factor: number;
  /** The pager's checks (and, for bursty-fail, the Prometheus ones), each with its detail. */
  checks: Check[];
  /** Every notification the webhook receiver got, in order: the pager's timeline. */
  notifications: NotificationRecord[];
  /** Every alert state change inside Prometheus, in order: the firing timeline. */
  firing: { t: number; alertname: string; from: string; to: string }[];
  pager: { pages: number; tickets: number; resolves: number; naivePages: number; rejectedRequests: number };
  /** Alert names Alertmanager held as inhibited at some poll. */
  inhibited: string[];
  alertmanager?: { groupWait: string; groupInterval: string; repeatInterval: Record<string, string>; resendDelay: string };
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
  /** The routing tree to load; default grafana/alertmanager/alertmanager.yml. */
  alertmanagerConfig?: string;
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
  let alertmanager: RunningAlertmanager | undefined;
  let amChild: ChildProcess | undefined;
  let webhook: WebhookReceiver | undefined;
  let amTiming: GamedaySummary['alertmanager'];
  const inhibited = new Set<string>();
  const secrets: string[] = [];
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
  let firstOkAfterFixAt: number | undefined;
  let okAtFix = 0;
  let failedAtFix = 0;
  let okDuringWarmup = 0;
  const reportUrlFoundVia: string[] = [];
  let scaledRule: GamedaySummary['scaledRule'];
  let naiveLoaded = false;
  let lastLogReport: { time?: string; msg?: string; event?: string; reason?: string; status?: number; reportUrl?: string; orderId?: number } | undefined;

  try {
    // ---- The pager: a webhook receiver that records every notification -------------------------------
    webhook = await startWebhookReceiver((notification) => event(describeNotification(notification), notification.at));

    // ---- Alertmanager: our routing tree, receivers pointed at the webhook, timing scaled ------------
    const configSource = options.alertmanagerConfig ?? ALERTMANAGER_CONFIG;
    if (!existsSync(configSource)) throw new Error(`${path.relative(ROOT, configSource)} not found: generate it with npm run grafana:generate`);
    const amConfig = renderAlertmanagerConfig(
      {
        urls: { [PAGE_RECEIVER]: `${webhook.url}/${PAGE_RECEIVER}`, [TICKET_RECEIVER]: `${webhook.url}/${TICKET_RECEIVER}` },
        scale: (duration) => scaleNotificationDuration(duration, plan.factor),
      },
      readFileSync(configSource, 'utf8'),
    );
    alertmanager = await startAlertmanager({
      dir,
      config: amConfig,
      onChild: (child) => {
        amChild = child;
        emergency.children.add(child);
        child.once('exit', (code, sig) => {
          emergency.children.delete(child);
          if (!stopLoops) fail(`alertmanager exited unexpectedly (${code ?? sig}):\n${alertmanager?.logTail() ?? ''}`);
        });
      },
    });
    amTiming = { ...readAlertmanagerTiming(amConfig), resendDelay: plan.resendDelay };
    setup(
      `alertmanager ${alertmanager.baseUrl} (pid ${alertmanager.pid}, ${path.relative(ROOT, configSource)} checked by amtool, receivers → ${webhook.url}/<receiver>); ` +
        `timing ÷${plan.factor}: group_wait ${amTiming.groupWait}, group_interval ${amTiming.groupInterval}, repeat_interval ${Object.entries(amTiming.repeatInterval).map(([r, d]) => `${d} (${r})`).join(', ')}`,
    );

    // ---- Prometheus: a remote_write receiver sending alerts to Alertmanager, no rules yet -----------
    prometheus = await startPrometheus({
      dir,
      evaluationInterval: plan.evaluationInterval,
      alertmanagerTarget: alertmanager.target,
      resendDelay: plan.resendDelay,
      onChild: (child) => {
        promChild = child;
        emergency.children.add(child);
        child.once('exit', (code, sig) => {
          emergency.children.delete(child);
          if (!stopLoops) fail(`prometheus exited unexpectedly (${code ?? sig}):\n${prometheus?.logTail() ?? ''}`);
        });
      },
    });
    setup(`prometheus ${prometheus.baseUrl} (pid ${prometheus.pid}, remote_write receiver, alerts → alertmanager, resend delay ${plan.resendDelay}, data in ${dir})`);

    // ---- The service, configured through its environment as in production ---------------------------
    // Recognisable secrets: every notification is searched for them (none may carry a key).
    const factoryApiKey = `gameday-factory-api-key-${randomBytes(8).toString('hex')}`;
    const adminKey = `gameday-factory-admin-key-${randomBytes(8).toString('hex')}`;
    secrets.push(factoryApiKey, adminKey);
    serviceLog = createWriteStream(path.join(dir, 'service.log'));
    const logDestination = {
      write(line: string) {
        serviceLog?.write(line);
        if (line.includes('"reportUrl"')) {
          try {
            const parsed = JSON.parse(line) as NonNullable<typeof lastLogReport> & { type?: string; outcome?: string };
            // Throttle: the report URL comes with the factory's late answer, after the order failed `timeout`.
            if (parsed.type === 'factory' && (parsed.outcome === 'failed' || parsed.event === 'late_answer') && parsed.reportUrl) lastLogReport = parsed;
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
        FACTORY_API_KEY: factoryApiKey,
        FACTORY_ADMIN_KEY: adminKey,
        // FACTORY_LATE_ANSWER_MS keeps its production 45 s: past any scaled hold, so the late answers bring the report URL.
        ...(plan.scenario === 'throttle' ? { FACTORY_TIMEOUT_MS: String(throttleTiming(plan).timeoutMs) } : {}),
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
    // The anti-examples are the 2025-11-26 comparison; in other scenarios they would only add noise to the pager.
    naiveLoaded = plan.scenario === 'bursty-fail' && existsSync(NAIVE_RULES);
    if (naiveLoaded) sources.push(NAIVE_RULES);
    const ruleFiles: string[] = [];
    for (const source of sources) {
      const relative = path.relative(ALERTS_DIR, source);
      const target = path.join(rulesDir, relative.replace(/[\\/]/g, '__'));
      let text = readFileSync(source, 'utf8');
      // Routed the same way as ours: the anti-example pages the same on-call team.
      if (source === NAIVE_RULES) text = addRuleLabels(text, NAIVE, { severity: 'page', team: 'pizza-oncall' });
      await writeFile(target, scaleRuleFile(text, plan.factor, `grafana/alerts/${relative}`));
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
        (naiveLoaded
          ? `; naive anti-example ${NAIVE} loaded beside it, labelled severity=page to be routed like ours`
          : plan.scenario === 'bursty-fail'
            ? `; ${path.relative(ROOT, NAIVE_RULES)} missing: no naive comparison`
            : ''),
    );

    // ---- Diners and on-call ------------------------------------------------------------------------
    const api = new ApiClient(service.url);
    const { diners, shop } = await prepareDiners(api, 4);
    const { token: adminToken } = await api.expect<{ token: string }>('PUT', '/api/auth', { body: { email: 'a@jwt.com', password: 'admin' } });
    setup(`${diners.length} diners registered; ordering from ${shop.franchiseName}/${shop.storeName}; on-call logged in as the dev admin a@jwt.com`);

    placer = new OrderPlacer(api, diners, shop, (result) => {
      if (result.ok && fixAt !== undefined && result.at >= fixAt) firstOkAfterFixAt ??= result.at;
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
            const [promAlerts, amAlerts] = await Promise.all([prometheus!.alerts(), alertmanager!.alerts()]);
            tracker.observe(promAlerts, at, knownNames);
            const names = new Map(amAlerts.map((a) => [a.fingerprint, a.labels.alertname ?? '?']));
            for (const alert of amAlerts) {
              const name = alert.labels.alertname ?? '?';
              if (alert.status.inhibitedBy.length === 0 || inhibited.has(name)) continue;
              inhibited.add(name);
              const by = [...new Set(alert.status.inhibitedBy.map((f) => names.get(f) ?? f))].join(', ');
              event(c('dim', `alertmanager: ${name} received and inhibited by ${by}: no notification`), at);
            }
            consecutivePollErrors = 0;
          } catch (error) {
            tracker.pollErrors++;
            if (++consecutivePollErrors >= 30) fail(`polling the alerts of Prometheus and Alertmanager failed 30 times in a row: ${(error as Error).message}`);
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

    const startChaos = async (type: 'fail' | 'badjwt' | 'throttle', body: Record<string, number>) => {
      const chaos = await fetch(`${simulatorUrl}/api/chaos/${type}`, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      if (!chaos.ok) throw new Error(`PUT ${simulatorUrl}/api/chaos/${type} answered ${chaos.status}: ${await chaos.text()}`);
      // The fix code in the answer is the chaos monkey's secret: on-call must find it the runbook's way.
      const chaosState = (await chaos.json()) as { chaos: { startsAt: string } };
      return Date.parse(chaosState.chaos.startsAt);
    };

    // ---- 3. On-call ends the chaos the runbook's way -----------------------------------------------
    const oncall = async () => {
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
        const late = lastLogReport.event === 'late_answer';
        reportUrlFoundVia.push(late ? 'log line {type:"factory", event:"late_answer", reportUrl}' : 'log line {type:"factory", outcome:"failed", reportUrl}');
        event(`on-call: the log line says the same: ${JSON.stringify({ time: lastLogReport.time, type: 'factory', msg: lastLogReport.msg, orderId: lastLogReport.orderId, ...(late ? { event: 'late_answer' } : { reason: lastLogReport.reason }), reportUrl: lastLogReport.reportUrl })}`);
      }
      if (!withUrl) {
        // Throttle included: its timed-out calls stay open for the factory's late answer, which brings the URL.
        await fetch(`${simulatorUrl}/api/chaos`, { method: 'DELETE', headers: { Authorization: `Bearer ${adminKey}` }, signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
        throw new Error('on-call found no failed order with a reportUrl in GET /api/order/failures; chaos ended through the factory admin API instead');
      } else {
        const report = await api.call<{ message?: string; outcome?: string; factoryStatus?: number }>('POST', '/api/order/factory/report', { token: adminToken });
        if (report.status !== 200 || report.body.outcome !== 'resolved') throw new Error(`POST /api/order/factory/report answered ${report.status}: ${JSON.stringify(report.body)}`);
        fixAt = Date.now();
        event(`on-call: POST /api/order/factory/report → "${report.body.message}" (factory ${report.body.factoryStatus}); ${OURS} is ${tracker.state(OURS)}`, fixAt);
      }
      okAtFix = placer!.stats.ok;
      failedAtFix = placer!.stats.failed;
    };

    // ---- 4. Recovery: purchases succeed, the alerts resolve, the pager hears it ----------------------
    const recover = async () => {
      phase = 'recovery';
      traffic = 'on';
      cadenceFrom = fixAt!;
      let firstOkLogged = false;
      const recoveryDeadline = fixAt! + Math.max(60_000, scaled(plan, plan.recoveryDeadlineMs));
      let quietSince: number | undefined;
      for (;;) {
        checkAbort();
        if (!firstOkLogged && placer!.stats.ok > okAtFix) {
          firstOkLogged = true;
          event(`recovery: purchases succeed again`);
        }
        const ours = tracker.get(OURS);
        const resolution = ours.transitions.find((t) => t.at >= fixAt! && t.to === 'inactive' && t.from === 'firing');
        if (resolution && ours.state === 'inactive') resolvedAt ??= resolution.at;
        // Done when nothing fires in Prometheus and every group the pager heard of has resolved there too
        // (a resolve reaches the pager at its group's next flush, up to one group_interval later).
        const firing = [...tracker.history.entries()].filter(([, h]) => h.state !== 'inactive').map(([name]) => name);
        const open = openGroups(webhook!.notifications);
        if (firing.length === 0 && open.length === 0) {
          quietSince ??= Date.now();
          if (Date.now() - quietSince >= 2 * plan.pollMs) break;
        } else quietSince = undefined;
        if (Date.now() > recoveryDeadline) {
          event(c('red', `still firing ${fmtSeconds(Date.now() - fixAt!)} after the fix: ${firing.join(', ') || '-'}; pager not yet resolved: ${open.join(', ') || '-'}; giving up waiting`));
          break;
        }
        await sleep(100);
      }
      phase = 'recovery: holding';
      const holdFrom = Date.now();
      await sleep(scaled(plan, plan.holdAfterResolveMs));
      event(`end: traffic stops (${OURS} ${resolvedAt === undefined ? `is ${tracker.state(OURS)}` : `stayed ${tracker.state(OURS)} for ${realTime(plan, Date.now() - resolvedAt)} real after resolving`}; all quiet for ${realTime(plan, Date.now() - holdFrom)} real)`);
    };

    // ---- 2. The fault --------------------------------------------------------------------------------
    if (plan.scenario === 'bursty-fail') {
      // Bursty `fail` chaos, no traffic in the gaps (2025-11-26).
      chaosStart = await startChaos('fail', { ratio: 1, burstMs: Math.round(burstWallMs), gapMs: Math.round(scaled(plan, plan.gapMs)) });
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
      await oncall();
      await recover();
    } else if (plan.scenario === 'badjwt' || plan.scenario === 'throttle') {
      const throttle = throttleTiming(plan);
      chaosStart = await startChaos(plan.scenario, plan.scenario === 'throttle' ? { ratio: plan.chaosRatio, delayMs: throttle.delayMs } : { ratio: plan.chaosRatio });
      phase = `chaos: ${plan.scenario}`;
      event(
        plan.scenario === 'throttle'
          ? `chaos: factory 'throttle' on every call: held ${fmtSeconds(throttle.delayMs)}, the client times out after ${fmtSeconds(throttle.timeoutMs)} (production: 32 s and 8 s); on-call acts after ${realTime(plan, scaled(plan, plan.chaosMs))}`
          : `chaos: factory 'badjwt' on every call: HTTP 200 with a pizza JWT that does not verify; on-call acts after ${realTime(plan, scaled(plan, plan.chaosMs))}`,
        chaosStart,
      );
      await sleepUntil(chaosStart + scaled(plan, plan.chaosMs));
      await oncall();
      await recover();
    } else if (plan.scenario === 'scanner') {
      phase = 'scanner';
      chaosStart = Date.now();
      const probes = await scan(service.url, (text) => event(text));
      event(`scanner: ${probes} probes answered 404; watching the pager for ${realTime(plan, scaled(plan, plan.chaosMs))}`);
      await sleep(scaled(plan, plan.chaosMs));
      event('end: traffic stops');
    } else {
      chaosStart = await startChaos('fail', { ratio: plan.chaosRatio });
      phase = `healthy: ${Math.round(plan.chaosRatio * 100)}% failures`;
      event(`chaos: factory 'fail' on ${Math.round(plan.chaosRatio * 100)}% of calls at random, ${plan.ordersPerMinute} orders per real minute, for ${realTime(plan, scaled(plan, plan.chaosMs))}`, chaosStart);
      await sleepUntil(chaosStart + scaled(plan, plan.chaosMs));
      // The last notification could only come one group_wait after the last evaluation: wait that long too.
      await sleep(parseDuration(amTiming?.groupWait ?? '0s') + 2 * parseDuration(plan.resendDelay));
      event(`end: traffic stops (${placer.stats.failed} of ${placer.stats.ok + placer.stats.failed} orders failed)`);
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
    if (alertmanager) await alertmanager.stop().catch(() => undefined);
    else if (amChild && amChild.exitCode === null) amChild.kill('SIGKILL');
    if (webhook) await webhook.close();
    if (options.keepTmp) display.line(c('dim', `kept ${dir} (service.log, prometheus.log, alertmanager.log, alertmanager.yml, rules/)`));
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
  const checks: Check[] = [];
  const check = (name: string, pass: boolean, detail: string) => checks.push({ name, pass, detail });
  if (plan.scenario === 'bursty-fail') {
    // Inside Prometheus, as before Alertmanager joined: one firing through the gaps, resolved after the fix.
    check('orders failed under the chaos', stats.failed > 0, `${stats.failed} failed`);
    check(`${OURS} did not fire in the warm-up`, firingsDuringWarmup === 0, `${firingsDuringWarmup} firing(s) in the warm-up`);
    check(`${OURS} fired exactly once in Prometheus`, ours.firings === 1, `${ours.firings} firing(s)`);
    check(`${OURS} resolved after the fix and stayed resolved`, resolvedAt !== undefined && firingsAfterResolve === 0, resolvedAt === undefined ? 'never resolved' : `${firingsAfterResolve} firing(s) after resolving`);
  } else if (plan.scenario === 'badjwt' || plan.scenario === 'throttle') {
    check('orders failed under the chaos', stats.failed > 0, `${stats.failed} failed (${Object.entries(stats.byReason).map(([r, n]) => `${r} ${n}`).join(', ')})`);
    check('purchases succeed after the fix', firstOkAfterFixAt !== undefined, `${stats.ok - okAtFix} ok after the fix`);
  } else if (plan.scenario === 'healthy') {
    const total = stats.ok + stats.failed;
    // 750 orders at 1%: no failure at all has a chance of 0.05%; over 5% would be a broken simulator.
    check('some purchases failed, at most 5%', stats.failed > 0 && stats.failed / total <= 0.05, `${stats.failed} of ${total} failed (${total ? ((100 * stats.failed) / total).toFixed(1) : 0}%)`);
  } else {
    check('healthy traffic kept succeeding', stats.ok > 0 && stats.failed === 0, `${stats.ok} ok, ${stats.failed} failed`);
  }
  const firedInPrometheus: Record<string, number> = {};
  for (const [name, history] of tracker.history) if (history.firings > 0) firedInPrometheus[name] = history.firings;
  checks.push(
    ...notificationChecks({
      scenario: plan.scenario,
      notifications: webhook?.notifications ?? [],
      firedInPrometheus,
      inhibitedInAlertmanager: [...inhibited],
      firstFailureAt: stats.firstFailureAt,
      fixAt,
      firstOkAfterFixAt,
      pageBudgetMs: scaled(plan, plan.pageBudgetMs),
      secrets,
    }),
  );
  const failures = checks.filter((k) => !k.pass).map((k) => `${k.name}: ${k.detail}`);
  const otherAlerts: Record<string, number> = {};
  for (const [name, count] of Object.entries(firedInPrometheus)) if (name !== OURS && name !== NAIVE) otherAlerts[name] = count;
  const transitions = (name: string) => (tracker.history.get(name)?.transitions ?? []).map((t) => ({ t: t.at - t0, from: t.from, to: t.to }));
  const notifications = webhook?.notifications ?? [];
  const countOf = (pick: (n: Notification) => boolean) => notifications.filter(pick).length;

  return {
    pass: failures.length === 0,
    failures,
    scenario: plan.scenario,
    profile: plan.profile,
    factor: plan.factor,
    checks,
    notifications: notifications.map((n) => ({
      t: n.at - t0,
      receiver: n.receiver,
      status: n.status,
      alertname: alertnameOf(n),
      antiExample: isAntiExample(n),
      alerts: n.alerts.map((a) => ({ status: a.status, labels: a.labels, summary: a.annotations.summary, runbookUrl: a.annotations.runbook_url, action: a.annotations.action })),
    })),
    firing: [...tracker.history.values()]
      .flatMap((h) => h.transitions)
      .sort((a, b) => a.at - b.at)
      .map((tr) => ({ t: tr.at - t0, alertname: tr.alertname, from: tr.from, to: tr.to })),
    pager: {
      pages: countOf((n) => n.receiver === PAGE_RECEIVER && n.status === 'firing' && !isAntiExample(n)),
      tickets: countOf((n) => n.receiver === TICKET_RECEIVER && n.status === 'firing'),
      resolves: countOf((n) => n.status === 'resolved' && !isAntiExample(n)),
      naivePages: countOf((n) => n.receiver === PAGE_RECEIVER && n.status === 'firing' && isAntiExample(n)),
      rejectedRequests: webhook?.rejected ?? 0,
    },
    inhibited: [...inhibited],
    alertmanager: amTiming,
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

/** One line of the pager's timeline: what the notification would have shown first. */
export function describeNotification(n: Notification): string {
  const kind = n.receiver === PAGE_RECEIVER ? 'PAGE' : n.receiver === TICKET_RECEIVER ? 'TICKET' : n.receiver;
  const firing = n.alerts.filter((a) => a.status === 'firing');
  const first = firing[0] ?? n.alerts[0];
  const labels = first ? Object.entries(first.labels).filter(([k]) => !['alertname', 'source', 'severity', 'team'].includes(k)).map(([k, v]) => `${k}=${v}`).join(' ') : '';
  return (
    `pager: ${kind} → ${n.receiver}: [${n.status.toUpperCase()}${n.status === 'firing' ? `:${firing.length}` : ''}] ${alertnameOf(n)}` +
    (isAntiExample(n) ? ' (naive anti-example)' : '') +
    (first?.annotations.summary ? `: ${first.annotations.summary}` : '') +
    (labels ? ` {${labels}}` : '') +
    (n.status === 'firing' && first?.annotations.runbook_url ? ` · runbook ${first.annotations.runbook_url}` : '')
  );
}

/** Groups (by alert name) whose last notification was a firing one: the pager still shows them open. */
export function openGroups(notifications: Notification[]): string[] {
  const last = new Map<string, Notification['status']>();
  for (const n of notifications) last.set(`${n.receiver}/${alertnameOf(n)}`, n.status);
  return [...last.entries()].filter(([, status]) => status === 'firing').map(([key]) => key);
}

/** The timing a rendered configuration actually holds (route and child routes). */
export function readAlertmanagerTiming(config: string): { groupWait: string; groupInterval: string; repeatInterval: Record<string, string> } {
  type Route = { receiver?: string; group_wait?: string; group_interval?: string; repeat_interval?: string; routes?: Route[] };
  const route = (parseYaml(config) as { route?: Route }).route ?? {};
  const repeatInterval: Record<string, string> = {};
  for (const child of route.routes ?? []) if (child.receiver) repeatInterval[child.receiver] = child.repeat_interval ?? route.repeat_interval ?? '?';
  return { groupWait: route.group_wait ?? '30s', groupInterval: route.group_interval ?? '5m', repeatInterval };
}

/**
 * Throttle timing under scaling: the factory's hold and the client's timeout divided by the factor
 * like every other duration, but the timeout never below 1 s (a busy CI machine must not time out
 * healthy calls) and the hold always 4x the timeout, as in production (32 s against 8 s).
 */
export function throttleTiming(plan: Pick<Plan, 'factor'>): { timeoutMs: number; delayMs: number } {
  const timeoutMs = Math.max(1000, Math.round(8000 / plan.factor));
  return { timeoutMs, delayMs: 4 * timeoutMs };
}

/** What a scanner sweeps for, one path per category the service counts (see probeCategory). */
export const SCANNER_PATHS = ['/prod/.env', '/.git/config', '/wp-login.php', '/phpinfo.php', '/phpmyadmin/'];

/**
 * A scanner's sweep: 5 requests per path. The first 4 of each are sent, then the 5th of each together,
 * so every category crosses ScannerProbesDetected's threshold (>= 5) in the same metrics push: one
 * alert group gets all its label sets at once, as with a sweep inside one real evaluation interval.
 */
export async function scan(baseUrl: string, log: (text: string) => void = () => undefined): Promise<number> {
  let count = 0;
  const probe = async (p: string) => {
    const response = await fetch(`${baseUrl}${p}`, { signal: AbortSignal.timeout(10_000) });
    await response.arrayBuffer();
    if (response.status !== 404) throw new Error(`scanner probe GET ${p} answered ${response.status}, expected 404`);
    count++;
  };
  for (let round = 0; round < 4; round++) await Promise.all(SCANNER_PATHS.map(probe));
  // Two push intervals (at most 1 s each when scaled) let the first 4 of each arrive before the 5th.
  await new Promise((r) => setTimeout(r, 2500));
  await Promise.all(SCANNER_PATHS.map(probe));
  log(`scanner: GET ${SCANNER_PATHS.join(', ')} (5 each)`);
  return count;
}

const VERDICT: Record<string, string> = {
  'bursty-fail': 'one fault, one page',
  badjwt: 'bad pizza JWTs, one page, the rest inhibited',
  throttle: 'a throttling factory, one page, the rest inhibited',
  scanner: 'scanner probes, one ticket, no page',
  healthy: '1% failures, nobody woken',
};

export function printSummary(summary: GamedaySummary, plan: Plan, display: Display): void {
  const c = display.color.bind(display);
  const real = (ms: number | undefined) => (ms === undefined ? 'n/a' : `${fmtSeconds(ms)} (≈ ${realTime(plan, ms)} real)`);
  const at = (name: 'ours' | 'naive', to: string) => summary[name].transitions.filter((t) => t.to === to).map((t) => clock(t.t)).join(', ') || '-';
  display.line();
  display.line(c('bold', `Notification timeline — what the pager showed (${summary.notifications.length} notification${summary.notifications.length === 1 ? '' : 's'})`));
  if (summary.notifications.length === 0) display.line('  (none)');
  for (const n of summary.notifications) {
    const firing = n.alerts.filter((a) => a.status === 'firing');
    const first = firing[0] ?? n.alerts[0];
    const kind = n.receiver === PAGE_RECEIVER ? c('red', 'PAGE  ') : 'TICKET';
    const head = `[${n.status.toUpperCase()}${n.status === 'firing' ? `:${firing.length}` : ''}] ${n.alertname}${n.antiExample ? ' (naive anti-example)' : ''}`;
    display.line(`  ${clock(n.t)} ${c('dim', `≈${realTime(plan, Math.max(0, n.t)).padStart(6)}`)}  ${kind} ${head}${first?.summary ? `: ${first.summary}` : ''}`);
    if (n.status === 'firing' && !n.antiExample && n.receiver === PAGE_RECEIVER) {
      if (first?.runbookUrl) display.line(c('dim', `                         Runbook: ${first.runbookUrl}`));
      if (first?.action) display.line(c('dim', `                         Action: ${first.action}`));
    }
  }
  display.line();
  display.line(c('bold', `Game day summary — scenario ${summary.scenario}, profile ${summary.profile}, factor ${summary.factor} (1 s here ≈ ${summary.factor} s real), ran ${fmtSeconds(summary.durationMs)}`));
  display.line(`  firing timeline (Prometheus):`);
  display.line(`    ${`${OURS} (ours)`.padEnd(36)} fired ${c('bold', `${summary.ours.firings}×`)}  (firing at ${at('ours', 'firing')}; resolved at ${at('ours', 'inactive')})`);
  if (summary.naive.loaded && summary.naive.firings > 0) display.line(`    ${`${NAIVE} (naive)`.padEnd(36)} fired ${c('bold', `${summary.naive.firings}×`)}  (firing at ${at('naive', 'firing')})`);
  const others = Object.entries(summary.otherAlerts).map(([n, k]) => `${n} ${k}×`).join(', ');
  display.line(`    other alerts that fired: ${others || 'none'}`);
  const p = summary.pager;
  display.line(`  notification timeline (Alertmanager → pager): ${c('bold', `${p.pages} page${p.pages === 1 ? '' : 's'}`)}, ${p.tickets} ticket(s), ${p.resolves} resolve(s)` + (summary.naive.loaded && plan.scenario === 'bursty-fail' ? `; the naive rule routed the same way: ${c('bold', `${p.naivePages} pages`)}` : ''));
  display.line(`    inhibited in Alertmanager (fired, never notified): ${summary.inhibited.join(', ') || 'none'}`);
  if (summary.alertmanager) display.line(c('dim', `    timing ÷${summary.factor}: group_wait ${summary.alertmanager.groupWait}, group_interval ${summary.alertmanager.groupInterval}, resend delay ${summary.alertmanager.resendDelay}`));
  if (summary.timeToFireMs !== undefined) display.line(`  time to fire after the first failed order: ${real(summary.timeToFireMs)}`);
  if (summary.timeToResolveMs !== undefined) display.line(`  time to resolve after the fix:             ${real(summary.timeToResolveMs)}`);
  const reasons = Object.entries(summary.orders.byReason).map(([r, n]) => `${r} ${n}`).join(', ');
  const afterFix = summary.timeline.some((e) => e.text.startsWith('on-call:')) ? `, ${summary.orders.okAfterFix} ok / ${summary.orders.failedAfterFix} failed after the fix` : '';
  display.line(`  orders: ${summary.orders.ok} ok, ${summary.orders.failed} failed${reasons ? ` (${reasons})` : ''}; ${summary.orders.okDuringWarmup} ok in the warm-up${afterFix}`);
  if (summary.reportUrlFoundVia.length) display.line(`  report URL found via: ${summary.reportUrlFoundVia.join('; ')}`);
  display.line(`  checks:`);
  for (const k of summary.checks) display.line(`    ${k.pass ? c('green', 'ok  ') : c('red', 'FAIL')} ${k.name} — ${k.detail}`);
  if (summary.pass) display.line(c('green', `  PASS: ${VERDICT[summary.scenario] ?? summary.scenario}`));
  else for (const failure of summary.failures) display.line(c('red', `  FAIL: ${failure}`));
}
