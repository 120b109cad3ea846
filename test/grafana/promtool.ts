// Locating and running promtool (Debian's `prometheus` package, 2.42+) for the grafana tests.
// A missing promtool is a failure, never a skip: the rule tests are the proof the alerts work.

import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const PROMTOOL_MISSING_MESSAGE =
  'promtool not found. The alert rule tests need it: install Debian\'s prometheus package (apt-get install prometheus, ' +
  'provides /usr/bin/promtool 2.42+) or set PROMTOOL=/path/to/promtool.';

export function findPromtool(env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = env.PROMTOOL ? [env.PROMTOOL] : (env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'promtool'));
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

export function requirePromtool(): string {
  const promtool = findPromtool();
  if (!promtool) throw new Error(PROMTOOL_MISSING_MESSAGE);
  return promtool;
}

export interface RunResult {
  code: number;
  output: string;
}

export function runPromtool(args: string[], cwd?: string): Promise<RunResult> {
  const promtool = requirePromtool();
  return new Promise((resolve) => {
    execFile(promtool, args, { cwd, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}
