// Debian's Prometheus on loopback for the game day: a remote_write receiver that evaluates the
// (time-scaled) alert rules. It starts without rules; once the service's pushes have arrived, the
// rule files are added and the configuration is reloaded, so no alert evaluates an empty database.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { toYaml } from '../../grafana/src/yamlFile';

export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
  activeAt?: string;
  value?: string;
}

export interface PromRule {
  name: string;
  type: 'alerting' | 'recording';
  duration?: number;
  keepFiringFor?: number;
  health: string;
  lastError?: string;
}

export interface RunningPrometheus {
  baseUrl: string;
  writeUrl: string;
  pid: number;
  logFile: string;
  query(promql: string): Promise<PromSample[]>;
  alerts(): Promise<PromAlert[]>;
  rules(): Promise<{ name: string; file: string; interval: number; rules: PromRule[] }[]>;
  /** Rewrites the configuration with these rule files and reloads it; throws with Prometheus' reason if it refuses. */
  loadRules(ruleFiles: string[]): Promise<void>;
  logTail(): string;
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

function configYaml(evaluationInterval: string, ruleFiles: string[], alertmanagerTarget?: string): string {
  return toYaml({
    global: { scrape_interval: '1m', evaluation_interval: evaluationInterval },
    // Prometheus 2.x has no --alertmanager.url flag: Alertmanagers are named in the configuration.
    ...(alertmanagerTarget ? { alerting: { alertmanagers: [{ api_version: 'v2', static_configs: [{ targets: [alertmanagerTarget] }] }] } } : {}),
    ...(ruleFiles.length ? { rule_files: ruleFiles } : {}),
    // No scrape jobs: every sample arrives by remote_write, exactly as in production.
    scrape_configs: [],
  });
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export interface ReadyDaemon {
  port: number;
  baseUrl: string;
  child: ChildProcess;
  logTail(): string;
}

/**
 * Starts a Prometheus-family daemon (Prometheus, Alertmanager) on a free loopback port, its output appended to
 * `logFile`, and waits for its `/-/ready`. The free port can be taken between probing and binding: up to three
 * attempts, each on a fresh port (`args` gets the attempt number, e.g. for a fresh storage directory).
 */
export async function startReadyDaemon(options: {
  name: string;
  bin: string;
  args: (port: number, attempt: number) => string[];
  logFile: string;
  readyTimeoutMs: number;
  onChild?: (child: ChildProcess) => void;
}): Promise<ReadyDaemon> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const log = createWriteStream(options.logFile, { flags: 'a' });
    const child = spawn(options.bin, options.args(port, attempt), { stdio: ['ignore', 'pipe', 'pipe'] });
    options.onChild?.(child);
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    child.once('exit', () => log.end());
    const logTail = () => {
      try {
        return readFileSync(options.logFile, 'utf8').slice(-4000);
      } catch {
        return '';
      }
    };

    const deadline = Date.now() + options.readyTimeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      try {
        if ((await fetch(`${baseUrl}/-/ready`, { signal: AbortSignal.timeout(1000) })).ok) return { port, baseUrl, child, logTail };
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    lastError = new Error(`${options.name} did not become ready on port ${port}:\n${logTail()}`);
    await stopChild(child);
  }
  throw lastError;
}

async function getJson<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  const body = (await response.json()) as { status: string; data?: T; error?: string };
  if (body.status !== 'success' || body.data === undefined) throw new Error(`${url}: ${body.error ?? `HTTP ${response.status}`}`);
  return body.data;
}

export interface PrometheusOptions {
  dir: string;
  evaluationInterval: string;
  /** host:port of an Alertmanager to send firing and resolved alerts to. */
  alertmanagerTarget?: string;
  /** --rules.alert.resend-delay (default 1m): how often a still-firing alert is sent again. */
  resendDelay?: string;
  onChild?: (child: ChildProcess) => void;
}

export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  if (!existsSync(PROMETHEUS_BIN)) {
    throw new Error(`${PROMETHEUS_BIN} not found: install Debian's prometheus package (apt-get install prometheus) or set PROMETHEUS_BIN`);
  }
  const configFile = path.join(options.dir, 'prometheus.yml');
  const logFile = path.join(options.dir, 'prometheus.log');
  await writeFile(configFile, configYaml(options.evaluationInterval, [], options.alertmanagerTarget));

  const { baseUrl, child, logTail } = await startReadyDaemon({
    name: 'prometheus',
    bin: PROMETHEUS_BIN,
    args: (port, attempt) => [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(options.dir, `prometheus-data-${attempt}`)}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
      '--web.enable-lifecycle',
      ...(options.resendDelay ? [`--rules.alert.resend-delay=${options.resendDelay}`] : []),
      '--log.level=warn',
    ],
    logFile,
    readyTimeoutMs: 60_000,
    onChild: options.onChild,
  });
  return {
    baseUrl,
    writeUrl: `${baseUrl}/api/v1/write`,
    pid: child.pid!,
    logFile,
    logTail,
    async query(promql) {
      const data = await getJson<{ resultType: string; result: PromSample[] }>(`${baseUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
      // A scalar comes back as a bare [time, value]: shaped as one sample so callers read one form.
      return data.resultType === 'scalar' ? [{ metric: {}, value: data.result as unknown as [number, string] }] : data.result;
    },
    async alerts() {
      return (await getJson<{ alerts: PromAlert[] }>(`${baseUrl}/api/v1/alerts`)).alerts;
    },
    async rules() {
      return (await getJson<{ groups: { name: string; file: string; interval: number; rules: PromRule[] }[] }>(`${baseUrl}/api/v1/rules`)).groups;
    },
    async loadRules(ruleFiles) {
      await writeFile(configFile, configYaml(options.evaluationInterval, ruleFiles, options.alertmanagerTarget));
      const response = await fetch(`${baseUrl}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(15_000) });
      if (!response.ok) throw new Error(`prometheus refused the rule files: ${(await response.text()).trim()}`);
    },
    stop: () => stopChild(child),
  };
}
