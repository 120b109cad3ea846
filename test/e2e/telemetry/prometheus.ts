// Runs Debian's Prometheus on loopback as a remote_write receiver for end-to-end tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface RunningPrometheus {
  baseUrl: string;
  writeUrl: string;
  query(promql: string): Promise<PromSample[]>;
  /** Polls the query until `accept` holds or the deadline passes (samples land asynchronously in the head). */
  queryUntil(promql: string, accept: (result: PromSample[]) => boolean, timeoutMs?: number): Promise<PromSample[]>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForReady(baseUrl: string, child: ChildProcess, logTail: () => string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`prometheus exited (${child.exitCode ?? child.signalCode}) before ready:\n${logTail()}`);
    }
    try {
      const response = await fetch(`${baseUrl}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`prometheus not ready after ${timeoutMs} ms:\n${logTail()}`);
}

async function stopChild(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export async function startPrometheus(): Promise<RunningPrometheus> {
  // A missing binary is a failure, not a skip: CI must prove the pipeline against the real receiver.
  if (!existsSync(PROMETHEUS_BIN)) {
    throw new Error(`${PROMETHEUS_BIN} not found: install Debian's prometheus package (apt-get install prometheus) or set PROMETHEUS_BIN`);
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'prom-e2e-'));
  const configFile = path.join(dir, 'prometheus.yml');
  await writeFile(configFile, 'global:\n  scrape_interval: 1m\nscrape_configs: []\n');

  let lastError: unknown;
  // The free port can be taken between probing and binding; a fresh port fixes that.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const child = spawn(
      PROMETHEUS_BIN,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(dir, `data-${attempt}`)}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--web.enable-remote-write-receiver',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    // Safety net if the test process dies without afterAll: never leave a Prometheus behind.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.removeListener('exit', killOnExit));
    const log: string[] = [];
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      log.push(chunk);
      if (log.length > 50) log.shift();
    });
    const logTail = () => log.join('').slice(-4000);
    try {
      await waitForReady(baseUrl, child, logTail, 30_000);
    } catch (error) {
      lastError = error;
      await stopChild(child);
      continue;
    }

    const query = async (promql: string): Promise<PromSample[]> => {
      const response = await fetch(`${baseUrl}/api/v1/query?query=${encodeURIComponent(promql)}`, { signal: AbortSignal.timeout(5000) });
      const body = (await response.json()) as { status: string; data?: { resultType: string; result: PromSample[] }; error?: string };
      if (body.status !== 'success' || !body.data) throw new Error(`query ${promql} failed: ${body.error ?? response.status}`);
      if (body.data.resultType === 'scalar') return [{ metric: {}, value: body.data.result as unknown as [number, string] }];
      return body.data.result;
    };

    return {
      baseUrl,
      writeUrl: `${baseUrl}/api/v1/write`,
      query,
      async queryUntil(promql, accept, timeoutMs = 10_000) {
        const deadline = Date.now() + timeoutMs;
        let result = await query(promql);
        while (!accept(result)) {
          if (Date.now() > deadline) throw new Error(`query ${promql} never matched; last result: ${JSON.stringify(result)}`);
          await new Promise((r) => setTimeout(r, 100));
          result = await query(promql);
        }
        return result;
      },
      async stop() {
        await stopChild(child);
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}
