import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { report, ROOT, tempDir } from './support';

// The soak as CI runs it: `tsx scripts/soak.ts` in a child process with a short profile. The script
// starts the real server, drives mixed traffic through chaos bursts and reconciles orders, revenue and
// memory; its exit code is the verdict and its JSON summary says why.

const DURATION_S = Number(process.env.SOAK_TEST_DURATION ?? 25);
jest.setTimeout((DURATION_S + 60) * 1000);

describe('soak (short profile)', () => {
  const dir = tempDir('jwt-pizza-soak-test-');
  let child: ChildProcess | undefined;

  afterAll(async () => {
    // A timed-out test must not leave the soak (and its server) running: SIGTERM makes it clean up.
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child!.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    dir.remove();
  });

  test(`when ${DURATION_S} s of mixed traffic meet chaos bursts, then every order reconciles, revenue matches, nothing is pending and memory stays bounded`, async () => {
    const summaryFile = join(dir.path, 'summary.json');
    const output: string[] = [];
    child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), join(ROOT, 'scripts', 'soak.ts'), `--duration=${DURATION_S}`, `--json=${summaryFile}`], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child!.once('exit', (exitCode) => resolve(exitCode)));
    if (code !== 0) throw new Error(`soak exited ${code}:\n${output.join('')}`);

    const summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
    expect(summary.ok).toBe(true);
    expect(summary.checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
    expect(summary.orders.pending).toBe(0);
    expect(summary.orders.fulfilled).toBeGreaterThan(0);
    // The chaos really bit: some orders failed at the factory, and they were all answered as such.
    expect(summary.orders.failed).toBeGreaterThan(0);
    expect(summary.violations).toEqual([]);
    report(`soak ${DURATION_S}s: ${summary.requests} requests, ${summary.orders.total} orders (${summary.orders.fulfilled} fulfilled, ${summary.orders.failed} failed), RSS ${summary.rssMb.warm.toFixed(0)} → ${summary.rssMb.end.toFixed(0)} MB`);
  });
});
