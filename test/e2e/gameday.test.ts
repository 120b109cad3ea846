// The game day as CI runs it: `tsx scripts/gameday.ts --profile=short` in a child process (its own
// event loop, its own exit code, its own cleanup), replaying the 2025-11-26 flapping-alert incident
// against the real service, the factory simulator and Debian's Prometheus with our time-scaled rules.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GamedaySummary } from '../../scripts/gameday/run';

const ROOT = path.join(__dirname, '..', '..');
const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

let child: ChildProcess | undefined;
let dir: string | undefined;

afterAll(async () => {
  // A timed-out test must not leave the drill (and its Prometheus) running: SIGINT makes it clean up.
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGINT');
    const timer = setTimeout(() => child!.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

test('game day (short profile): the purchase alert fires once through bursty failures and resolves after on-call ends the chaos', async () => {
  // A missing Prometheus fails the test: the drill's whole point is the real rule evaluation.
  if (!existsSync(PROMETHEUS_BIN)) {
    throw new Error(`${PROMETHEUS_BIN} not found: the game day needs Debian's prometheus package (apt-get install prometheus) or PROMETHEUS_BIN`);
  }
  dir = mkdtempSync(path.join(os.tmpdir(), 'gameday-test-'));
  const summaryFile = path.join(dir, 'summary.json');
  const output: string[] = [];
  child = spawn(TSX, ['scripts/gameday.ts', '--profile=short', `--json=${summaryFile}`], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
  const code = await new Promise<number | null>((resolve) => child!.once('exit', (exitCode) => resolve(exitCode)));
  const log = output.join('');

  if (code !== 0) throw new Error(`npm run gameday -- --profile=short exited ${code}:\n${log.slice(-6000)}`);
  const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as GamedaySummary;
  expect(summary.pass).toBe(true);
  expect(summary.ours).toMatchObject({ firings: 1, firingsDuringWarmup: 0, firingsAfterResolve: 0, resolved: true, finalState: 'inactive' });
  expect(summary.ours.transitions.map((t) => t.to)).toEqual(expect.arrayContaining(['pending', 'firing', 'inactive']));
  // The anti-example pages once per burst on the same data (4 bursts; at least 2 even on a busy machine).
  expect(summary.naive.loaded).toBe(true);
  expect(summary.naive.firings).toBeGreaterThanOrEqual(2);
  expect(summary.timeToFireMs).toBeGreaterThan(0);
  expect(summary.timeToResolveMs).toBeGreaterThan(0);
  expect(summary.orders.failed).toBeGreaterThan(0);
  expect(summary.orders.okDuringWarmup).toBeGreaterThan(0);
  expect(summary.orders.okAfterFix).toBeGreaterThan(0);
  expect(summary.reportUrlFoundVia).toContain('GET /api/order/failures');
  // The report URL embeds the factory key: the drill's output shows it redacted only.
  expect(log).toMatch(/\/api\/support\/\[REDACTED\]\/report\//);
  expect(log).not.toMatch(/\/api\/support\/(?!\[REDACTED\])[^/\s]+\/report\//);
  expect(log).toContain('PASS: one fault, one page');
}, 6 * 60_000);
