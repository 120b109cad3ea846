// The game day as CI runs it: `tsx scripts/gameday.ts --scenario=NAME` in a child process (its own
// event loop, its own exit code, its own cleanup) for each scenario, one after the other, against the
// real service, the factory simulator, Debian's Prometheus with our time-scaled rules and Debian's
// Alertmanager with our time-scaled routing tree, whose notifications a webhook receiver records.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GamedaySummary } from '../../scripts/gameday/run';

const ROOT = path.join(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const BINARIES = {
  prometheus: process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus',
  'prometheus-alertmanager': process.env.ALERTMANAGER_BIN ?? '/usr/bin/prometheus-alertmanager',
  amtool: process.env.AMTOOL_BIN ?? '/usr/bin/amtool',
};
const ADMIN_ACTION = 'POST /api/order/factory/report';
// The drill's recognisable secrets start with these; the output and the summary must never show one.
const SECRET_PREFIXES = ['gameday-factory-api-key-', 'gameday-factory-admin-key-'];

let child: ChildProcess | undefined;
const dirs: string[] = [];

async function stopChild(): Promise<void> {
  // A timed-out test must not leave the drill (and its Prometheus, Alertmanager) running: SIGINT makes it clean up.
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGINT');
    const timer = setTimeout(() => child!.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
}

afterAll(async () => {
  await stopChild();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}, 30_000);

/** Runs one scenario; fails with the drill's output if it does not exit 0 within `limitMs`. */
async function runScenario(scenario: string, limitMs: number): Promise<{ summary: GamedaySummary; log: string }> {
  // A missing Prometheus or Alertmanager fails the test: the drill's whole point is the real rule evaluation and routing.
  for (const [pkg, bin] of Object.entries(BINARIES)) {
    if (!existsSync(bin)) throw new Error(`${bin} not found: the game day needs Debian's ${pkg === 'amtool' ? 'prometheus-alertmanager' : pkg} package`);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gameday-test-'));
  dirs.push(dir);
  const summaryFile = path.join(dir, 'summary.json');
  const output: string[] = [];
  child = spawn(TSX, ['scripts/gameday.ts', `--scenario=${scenario}`, '--profile=short', `--json=${summaryFile}`], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void stopChild();
  }, limitMs);
  const code = await new Promise<number | null>((resolve) => child!.once('exit', (exitCode) => resolve(exitCode)));
  clearTimeout(timer);
  const log = output.join('');
  if (timedOut) throw new Error(`game day --scenario=${scenario} did not finish within ${limitMs / 1000} s:\n${log.slice(-6000)}`);
  if (code !== 0) throw new Error(`game day --scenario=${scenario} exited ${code}:\n${log.slice(-8000)}`);
  const text = readFileSync(summaryFile, 'utf8');
  for (const prefix of SECRET_PREFIXES) {
    expect(log).not.toContain(prefix);
    expect(text).not.toContain(prefix);
  }
  return { summary: JSON.parse(text) as GamedaySummary, log };
}

const realPages = (summary: GamedaySummary) => summary.notifications.filter((n) => n.receiver === 'pizza-oncall-pages' && n.status === 'firing' && !n.antiExample);
const notified = (summary: GamedaySummary, alertname: string) => summary.notifications.filter((n) => n.alertname === alertname);

/** Every page shows the runbook and the admin action that ends the chaos in its first lines. */
function expectActionablePages(summary: GamedaySummary) {
  for (const page of realPages(summary)) {
    for (const alert of page.alerts.filter((a) => a.status === 'firing')) {
      expect(alert.runbookUrl).toMatch(/^https:\/\/.+\/docs\/runbooks\/.+\.md$/);
      expect(alert.action).toContain(ADMIN_ACTION);
    }
  }
}

/** The page arrived, was the only one, and resolved once, after purchases succeeded again. */
function expectOnePageOneResolve(summary: GamedaySummary, alertname: string) {
  const pages = realPages(summary);
  expect(pages.map((n) => n.alertname)).toEqual([alertname]);
  const resolves = summary.notifications.filter((n) => n.status === 'resolved' && !n.antiExample);
  expect(resolves.map((n) => n.alertname)).toEqual([alertname]);
  expect(resolves[0]!.t).toBeGreaterThan(pages[0]!.t);
  const check = (name: string) => summary.checks.find((k) => k.name === name);
  expect(check('paged within 3 minutes (scaled) of the first failure')?.pass).toBe(true);
  expect(check('exactly one resolve, only after purchases succeed again')?.pass).toBe(true);
  expectActionablePages(summary);
}

/** Fired inside Prometheus (when it fires at all) but never reached the pager: Alertmanager held it inhibited. */
function expectQuiet(summary: GamedaySummary, alertname: string) {
  expect(notified(summary, alertname)).toEqual([]);
  if (summary.firing.some((f) => f.alertname === alertname && f.to === 'firing')) expect(summary.inhibited).toContain(alertname);
}

describe('game day: the pager path through a real Alertmanager', () => {
  test('bursty-fail (2025-11-26): one page within 3 minutes (scaled), one resolve after recovery; the naive rule pages several times', async () => {
    const { summary, log } = await runScenario('bursty-fail', 5 * 60_000);
    expect(summary.pass).toBe(true);
    // Inside Prometheus, what the drill showed before Alertmanager joined it.
    expect(summary.ours).toMatchObject({ firings: 1, firingsDuringWarmup: 0, firingsAfterResolve: 0, resolved: true, finalState: 'inactive' });
    expect(summary.ours.transitions.map((t) => t.to)).toEqual(expect.arrayContaining(['pending', 'firing', 'inactive']));
    expect(summary.naive.loaded).toBe(true);
    expect(summary.naive.firings).toBeGreaterThanOrEqual(2);
    expect(summary.orders.failed).toBeGreaterThan(0);
    expect(summary.orders.okDuringWarmup).toBeGreaterThan(0);
    expect(summary.orders.okAfterFix).toBeGreaterThan(0);
    expect(summary.reportUrlFoundVia).toContain('GET /api/order/failures');
    // The pager: one page, one resolve; the naive rule routed the same way pages more than once.
    expectOnePageOneResolve(summary, 'PizzaPurchaseFailures');
    expect(summary.pager.pages).toBe(1);
    expect(summary.pager.naivePages).toBeGreaterThanOrEqual(2);
    expectQuiet(summary, 'PizzaFactoryCircuitOpen');
    // The firing timeline beside the pager's: our alert fired before its page and resolved before its resolve.
    const ours = summary.firing.filter((f) => f.alertname === 'PizzaPurchaseFailures');
    const page = realPages(summary)[0]!;
    const resolve = summary.notifications.find((n) => n.status === 'resolved' && !n.antiExample)!;
    expect(ours.find((f) => f.to === 'firing')!.t).toBeLessThanOrEqual(page.t + 3000); // a poll every second sees the state a little late
    expect(ours.find((f) => f.from === 'firing' && f.to === 'inactive')!.t).toBeLessThanOrEqual(resolve.t + 3000);
    // The report URL embeds the factory key: the drill's output shows it redacted only.
    expect(log).toMatch(/\/api\/support\/\[REDACTED\]\/report\//);
    expect(log).not.toMatch(/\/api\/support\/(?!\[REDACTED\])[^/\s]+\/report\//);
    expect(log).toContain('Notification timeline — what the pager showed');
    expect(log).toContain('PASS: one fault, one page');
  }, 5.5 * 60_000);

  test('badjwt: one page (PizzaInvalidJwt, the cause); the purchase page and the circuit ticket are inhibited', async () => {
    const { summary } = await runScenario('badjwt', 3 * 60_000);
    expect(summary.pass).toBe(true);
    expect(summary.orders.byReason.invalid_jwt).toBeGreaterThan(0);
    expectOnePageOneResolve(summary, 'PizzaInvalidJwt');
    // PizzaPurchaseFailures fires inside Prometheus (the failures are real) but PizzaInvalidJwt inhibits it.
    expect(summary.ours.firings).toBeGreaterThanOrEqual(1);
    expectQuiet(summary, 'PizzaPurchaseFailures');
    expectQuiet(summary, 'PizzaFactoryCircuitOpen');
    expect(summary.pager.tickets).toBe(0);
  }, 3.5 * 60_000);

  test('throttle: one page (PizzaPurchaseFailures); the circuit ticket and the latency page are inhibited', async () => {
    const { summary } = await runScenario('throttle', 3 * 60_000);
    expect(summary.pass).toBe(true);
    expect(summary.orders.byReason.timeout).toBeGreaterThan(0);
    // The factory's late answers carry the report URL: on-call ends the chaos with the admin action.
    expect(summary.reportUrlFoundVia).toContain('GET /api/order/failures');
    expectOnePageOneResolve(summary, 'PizzaPurchaseFailures');
    expectQuiet(summary, 'PizzaFactoryCircuitOpen');
    expectQuiet(summary, 'PizzaFactoryLatencyHigh');
    expect(summary.pager.tickets).toBe(0);
  }, 3.5 * 60_000);

  test('scanner probes: one ticket notification, no page', async () => {
    const { summary } = await runScenario('scanner', 3 * 60_000);
    expect(summary.pass).toBe(true);
    expect(summary.notifications.map((n) => `${n.receiver} ${n.status} ${n.alertname}`)).toEqual(['pizza-oncall-tickets firing ScannerProbesDetected']);
    // All the probed categories arrive in that one ticket.
    expect(summary.notifications[0]!.alerts.map((a) => a.labels.category).sort()).toEqual(['admin', 'dotenv', 'git', 'php', 'wordpress']);
    expect(summary.notifications[0]!.alerts[0]!.runbookUrl).toMatch(/scanner-probes-detected\.md$/);
  }, 3.5 * 60_000);

  test('healthy: 1% of purchases fail, zero notifications', async () => {
    const { summary } = await runScenario('healthy', 3 * 60_000);
    expect(summary.pass).toBe(true);
    expect(summary.orders.failed).toBeGreaterThan(0);
    expect(summary.orders.failed / (summary.orders.ok + summary.orders.failed)).toBeLessThanOrEqual(0.05);
    expect(summary.notifications).toEqual([]);
    expect(summary.ours.firings).toBe(0);
  }, 3.5 * 60_000);
});
