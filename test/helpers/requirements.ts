// Tests that need a real component this machine may not have (Redis, redis-server, ...).
//
// The rule (see also jest.config.js): a test that cannot run never passes.
// - The component is there: the tests run.
// - It is not, outside CI: the tests are registered as skipped, so jest counts and shows them as skipped,
//   and a warning says what is missing. Never an early `return` in a test body: that shows as a pass.
// - It is not, under CI=true: the tests are registered and each one fails, naming what is missing.
// Availability is decided when the file is loaded (jest collects tests synchronously), so the probes here
// are synchronous.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export interface Requirement {
  available: boolean;
  /** What is missing and how to get it, e.g. "Redis at redis://127.0.0.1:6379 is not reachable". */
  missing: string;
}

const inCi = (env: NodeJS.ProcessEnv) => env.CI === 'true';

type Body = jest.ProvidesCallback;

export interface Guarded {
  /** `describe`, or one whose tests are skipped (outside CI) or fail (under CI=true) when the requirement is not met. */
  describe(name: string, fn: () => void): void;
  /** `test`, or a skipped (outside CI) or failing (under CI=true) one when the requirement is not met. */
  test(name: string, fn: Body, timeout?: number): void;
}

/**
 * `describe` and `test` that follow the rule above for one requirement (several: `allOf`). `env` is for the
 * helper's own tests; the suite leaves it to default.
 */
export function requiring(requirement: Requirement, env: NodeJS.ProcessEnv = process.env): Guarded {
  if (requirement.available) return { describe: (name, fn) => describe(name, fn), test: (name, fn, timeout) => test(name, fn, timeout) };
  const reason = `CI=true but ${requirement.missing}: these tests are mandatory in CI`;
  if (inCi(env)) {
    return {
      // Every test of the block fails with the reason; the block's own set-up and tear-down are not run.
      describe: (name, fn) =>
        describe(name, () => {
          beforeAll(() => {
            throw new Error(reason);
          });
          withoutHooks(fn);
        }),
      test: (name) =>
        test(name, () => {
          throw new Error(reason);
        }),
    };
  }
  console.warn(`${requirement.missing}: tests that need it are skipped (they fail under CI=true)`);
  return { describe: (name, fn) => describe.skip(name, fn), test: (name, fn, timeout) => test.skip(name, fn, timeout) };
}

const HOOKS = ['beforeAll', 'beforeEach', 'afterAll', 'afterEach'] as const;

/** Collects a block's tests with its hooks left out (jest runs describe bodies synchronously, at load). */
function withoutHooks(fn: () => void): void {
  const scope = globalThis as unknown as Record<(typeof HOOKS)[number], unknown>;
  const saved = HOOKS.map((hook) => scope[hook]);
  for (const hook of HOOKS) scope[hook] = () => undefined;
  try {
    fn();
  } finally {
    HOOKS.forEach((hook, i) => (scope[hook] = saved[i]));
  }
}

/** Every requirement met; otherwise what is missing, all of it. */
export function allOf(...requirements: Requirement[]): Requirement {
  const missing = requirements.filter((r) => !r.available).map((r) => r.missing);
  return { available: missing.length === 0, missing: missing.join('; ') };
}

const ROOT = join(__dirname, '..', '..');

// Run in a child node (with this repository's ioredis) so the probe can be synchronous.
const REDIS_PROBE = `
const Redis = require('ioredis');
const probe = new Redis(process.argv[1], { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null });
probe.on('error', () => undefined);
probe.connect().then(() => probe.ping()).then((pong) => { probe.disconnect(); process.exit(pong === 'PONG' ? 0 : 1); }, () => process.exit(1));
`;

const redisProbes = new Map<string, boolean>();

/** Whether a Redis server answers PING at `url` (decided once per url and process). */
export function redisReachable(url: string): Requirement {
  let available = redisProbes.get(url);
  if (available === undefined) {
    available = spawnSync(process.execPath, ['-e', REDIS_PROBE, url], { cwd: ROOT, stdio: 'ignore', timeout: 10_000 }).status === 0;
    redisProbes.set(url, available);
  }
  return { available, missing: `Redis at ${url} is not reachable (set REDIS_TEST_URL, or start redis-server)` };
}

/** Whether `command --version` runs, e.g. redis-server. */
export function commandInstalled(command: string, hint: string): Requirement {
  const available = spawnSync(command, ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  return { available, missing: `${command} is not installed (${hint})` };
}
