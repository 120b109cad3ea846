// Debian's Alertmanager on loopback for the game day: our routing tree (grafana/alertmanager/alertmanager.yml,
// rendered with loopback webhook URLs and time-scaled timing), fed by the game day's Prometheus.
import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { startReadyDaemon, stopChild } from './prometheus';

export const ALERTMANAGER_BIN = process.env.ALERTMANAGER_BIN ?? '/usr/bin/prometheus-alertmanager';
export const AMTOOL_BIN = process.env.AMTOOL_BIN ?? '/usr/bin/amtool';

/** An alert as Alertmanager holds it (GET /api/v2/alerts). */
export interface AmAlert {
  labels: Record<string, string>;
  status: { state: 'active' | 'suppressed' | 'unprocessed'; inhibitedBy: string[]; silencedBy: string[] };
  fingerprint: string;
}

export interface RunningAlertmanager {
  baseUrl: string;
  /** host:port, as Prometheus' alerting config names it. */
  target: string;
  pid: number;
  configFile: string;
  logFile: string;
  alerts(): Promise<AmAlert[]>;
  logTail(): string;
  stop(): Promise<void>;
}

/** `amtool check-config` on a rendered file; throws with amtool's output if it refuses it. */
export async function checkAlertmanagerConfig(configFile: string): Promise<string> {
  if (!existsSync(AMTOOL_BIN)) throw new Error(`${AMTOOL_BIN} not found: install Debian's prometheus-alertmanager package or set AMTOOL_BIN`);
  try {
    const { stdout } = await promisify(execFile)(AMTOOL_BIN, ['check-config', configFile], { timeout: 30_000 });
    return stdout;
  } catch (error) {
    const err = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`amtool check-config rejected the rendered Alertmanager configuration:\n${err.stdout ?? ''}${err.stderr ?? err.message}`);
  }
}

export async function startAlertmanager(options: { dir: string; config: string; onChild?: (child: ChildProcess) => void }): Promise<RunningAlertmanager> {
  if (!existsSync(ALERTMANAGER_BIN)) {
    throw new Error(`${ALERTMANAGER_BIN} not found: install Debian's prometheus-alertmanager package (apt-get install prometheus-alertmanager) or set ALERTMANAGER_BIN`);
  }
  const configFile = path.join(options.dir, 'alertmanager.yml');
  const logFile = path.join(options.dir, 'alertmanager.log');
  await writeFile(configFile, options.config);
  await checkAlertmanagerConfig(configFile);

  const { baseUrl, port, child, logTail } = await startReadyDaemon({
    name: 'alertmanager',
    bin: ALERTMANAGER_BIN,
    args: (port, attempt) => [
      `--config.file=${configFile}`,
      `--storage.path=${path.join(options.dir, `alertmanager-data-${attempt}`)}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // One instance, no gossip: an empty address turns clustering off (and its settle wait).
      '--cluster.listen-address=',
      '--log.level=debug',
    ],
    logFile,
    readyTimeoutMs: 30_000,
    onChild: options.onChild,
  });
  return {
    baseUrl,
    target: `127.0.0.1:${port}`,
    pid: child.pid!,
    configFile,
    logFile,
    logTail,
    async alerts() {
      const response = await fetch(`${baseUrl}/api/v2/alerts`, { signal: AbortSignal.timeout(5000) });
      if (!response.ok) throw new Error(`GET /api/v2/alerts answered ${response.status}`);
      return (await response.json()) as AmAlert[];
    },
    stop: () => stopChild(child),
  };
}
