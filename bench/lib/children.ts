import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

/** A server under test, in its own process so the load generator never shares its event loop. */
export interface ChildServer {
  name: string;
  url: string;
  pid: number;
  logFile: string;
  /** Resident memory of the process and its descendants (cluster workers), in bytes. */
  rss(): number;
  /** SIGTERM, wait for the exit (graceful shutdown), SIGKILL after the timeout. */
  stop(timeoutMs?: number): Promise<number | null>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function childPids(pid: number): number[] {
  const found: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (children) found.push(...children.split(/\s+/).map(Number));
    }
  } catch {
    // The process is gone or /proc is not there (not Linux): no children to count.
  }
  return found;
}

function processRss(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function treeRss(pid: number): number {
  let total = processRss(pid);
  for (const child of childPids(pid)) total += treeRss(child);
  return total;
}

async function waitUntilReady(url: string, child: ChildProcess, name: string, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  while (Date.now() < deadline) {
    if (exited !== undefined) break;
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  let tail = '';
  try {
    tail = readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    // no log yet
  }
  child.kill('SIGKILL');
  throw new Error(`${name} did not become ready${exited !== undefined ? ` (exited with ${exited})` : ''}; last log lines:\n${tail}`);
}

export interface SpawnOptions {
  name: string;
  /** A TypeScript entry, relative to the repository root; run with node --import tsx. */
  entry: string;
  env: Record<string, string>;
  logDir: string;
  profileDir?: string;
  readyTimeoutMs?: number;
}

/** Starts `entry` on a free port (PORT) and waits for GET /healthz. stdout and stderr go to a log file. */
export async function spawnServer(options: SpawnOptions): Promise<ChildServer> {
  const port = await freePort();
  mkdirSync(options.logDir, { recursive: true });
  const logFile = join(options.logDir, `${options.name}-${randomBytes(3).toString('hex')}.log`);
  const logFd = openSync(logFile, 'a');
  const nodeArgs = ['--import', 'tsx'];
  if (options.profileDir) {
    mkdirSync(options.profileDir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${options.profileDir}`, `--cpu-prof-name=${options.name}-${Date.now()}.cpuprofile`);
  }
  // A clean environment: nothing from the caller's shell (no telemetry push URLs, no .env surprises).
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', HOST: '127.0.0.1', PORT: String(port), ...options.env };
  const child = spawn(process.execPath, [...nodeArgs, options.entry], { cwd: ROOT, env, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  const url = `http://127.0.0.1:${port}`;
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await waitUntilReady(url, child, options.name, logFile, options.readyTimeoutMs ?? 60_000);
  const pid = child.pid!;
  return {
    name: options.name,
    url,
    pid,
    logFile,
    rss: () => treeRss(pid),
    async stop(timeoutMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
  };
}
