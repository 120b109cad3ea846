// Debian's Prometheus on loopback as a remote_write receiver for end-to-end tests: the game day's
// launcher, in a temp dir of its own, with a polling query on top.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, type PromSample, startPrometheus as startReceiver } from '../../../scripts/gameday/prometheus';

export { freePort, type PromSample };

export interface RunningPrometheus {
  baseUrl: string;
  writeUrl: string;
  query(promql: string): Promise<PromSample[]>;
  /** Polls the query until `accept` holds or the deadline passes (samples land asynchronously in the head). */
  queryUntil(promql: string, accept: (result: PromSample[]) => boolean, timeoutMs?: number): Promise<PromSample[]>;
  stop(): Promise<void>;
}

/** A missing binary is a failure, not a skip: CI must prove the pipeline against the real receiver. */
export async function startPrometheus(): Promise<RunningPrometheus> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'prom-e2e-'));
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  try {
    receiver = await startReceiver({ dir, evaluationInterval: '1m' });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  // Safety net if the test process dies without afterAll: never leave a Prometheus behind.
  const killOnExit = () => {
    try {
      process.kill(receiver.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', killOnExit);

  return {
    baseUrl: receiver.baseUrl,
    writeUrl: receiver.writeUrl,
    query: (promql) => receiver.query(promql),
    async queryUntil(promql, accept, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      let result = await receiver.query(promql);
      while (!accept(result)) {
        if (Date.now() > deadline) throw new Error(`query ${promql} never matched; last result: ${JSON.stringify(result)}`);
        await new Promise((r) => setTimeout(r, 100));
        result = await receiver.query(promql);
      }
      return result;
    },
    async stop() {
      await receiver.stop();
      process.removeListener('exit', killOnExit);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
