// Locating and running Debian's prometheus-alertmanager package (0.25+: amtool and the
// Alertmanager binary) for the grafana tests. The tests that need them go through requiring():
// under CI=true a missing binary fails them; elsewhere they are skipped with a warning.

import { ChildProcess, spawn } from 'node:child_process';
import type { Requirement } from '../helpers/requirements';
import { findExecutable, runTool, type RunResult } from './promtool';

export const ALERTMANAGER_MISSING_MESSAGE =
  'amtool / prometheus-alertmanager not found. The notification tests need them: install Debian\'s prometheus-alertmanager ' +
  'package (apt-get install prometheus-alertmanager, 0.25+) or set AMTOOL and ALERTMANAGER to the binaries.';

export function findAmtool(env: NodeJS.ProcessEnv = process.env): string | null {
  return findExecutable(env.AMTOOL, ['amtool'], env);
}

export function findAlertmanager(env: NodeJS.ProcessEnv = process.env): string | null {
  return findExecutable(env.ALERTMANAGER, ['prometheus-alertmanager', 'alertmanager'], env);
}

/** amtool and Alertmanager both found (for requiring()). */
export function alertmanagerTools(env: NodeJS.ProcessEnv = process.env): Requirement {
  return { available: findAmtool(env) !== null && findAlertmanager(env) !== null, missing: ALERTMANAGER_MISSING_MESSAGE };
}

export function runAmtool(args: string[], cwd?: string): Promise<RunResult> {
  const amtool = findAmtool();
  if (!amtool) throw new Error(ALERTMANAGER_MISSING_MESSAGE);
  return runTool(amtool, args, { cwd, timeoutMs: 30_000 });
}

export interface RunningAlertmanager {
  url: string;
  /** Everything the process wrote to stderr so far (its log). */
  log: () => string;
  stop: () => Promise<void>;
}

/** Starts Alertmanager on a free loopback port, without clustering, storing in `dataDir`. */
export async function startAlertmanager(configFile: string, dataDir: string, timeoutMs = 15_000): Promise<RunningAlertmanager> {
  const binary = findAlertmanager();
  if (!binary) throw new Error(ALERTMANAGER_MISSING_MESSAGE);
  const child: ChildProcess = spawn(
    binary,
    [`--config.file=${configFile}`, `--storage.path=${dataDir}`, '--web.listen-address=127.0.0.1:0', '--cluster.listen-address=', '--log.level=info'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.setEncoding('utf8');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    }
  };
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Alertmanager did not listen within ${timeoutMs} ms:\n${log}`)), timeoutMs);
    child.stderr?.on('data', (chunk: string) => {
      log += chunk;
      const match = /msg="Listening on" address=127\.0\.0\.1:(\d+)/.exec(log);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Alertmanager exited with ${code}:\n${log}`));
    });
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Alertmanager at ${url} not ready within ${timeoutMs} ms:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, log: () => log, stop };
}
