// Locating and running promtool (Debian's `prometheus` package, 2.42+) for the grafana tests.
// A missing promtool is a failure, never a skip: the rule tests are the proof the alerts work.

import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const PROMTOOL_MISSING_MESSAGE =
  'promtool not found. The alert rule tests need it: install Debian\'s prometheus package (apt-get install prometheus, ' +
  'provides /usr/bin/promtool 2.42+) or set PROMTOOL=/path/to/promtool.';

/** The first executable among `override` (when set) or `names` on the PATH. */
export function findExecutable(override: string | undefined, names: string[], env: NodeJS.ProcessEnv = process.env): string | null {
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  const candidates = override ? [override] : names.flatMap((name) => dirs.map((dir) => join(dir, name)));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return null;
}

export function findPromtool(env: NodeJS.ProcessEnv = process.env): string | null {
  return findExecutable(env.PROMTOOL, ['promtool'], env);
}

export function requirePromtool(env: NodeJS.ProcessEnv = process.env): string {
  const promtool = findPromtool(env);
  if (!promtool) throw new Error(PROMTOOL_MISSING_MESSAGE);
  return promtool;
}

export interface RunResult {
  code: number;
  output: string;
}

/** Runs a command line tool to its end; its exit code and everything it wrote, stdout then stderr. */
export function runTool(binary: string, args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(binary, args, { cwd: options.cwd, timeout: options.timeoutMs, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

export function runPromtool(args: string[], cwd?: string): Promise<RunResult> {
  return runTool(requirePromtool(), args, { cwd });
}
