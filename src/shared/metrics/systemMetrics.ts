import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { Metrics } from './metrics';

export interface CpuTimes {
  idle: number;
  total: number;
}

/** Idle and total CPU time summed over all cores (ms since boot). */
export function readCpuTimes(cpus: os.CpuInfo[] = os.cpus()): CpuTimes {
  let idle = 0;
  let total = 0;
  for (const { times } of cpus) {
    idle += times.idle;
    total += times.user + times.nice + times.sys + times.idle + times.irq;
  }
  return { idle, total };
}

/** Busy share of all cores between two readings, in percent (0 when no time has passed). */
export function cpuPercent(previous: CpuTimes, current: CpuTimes): number {
  const total = current.total - previous.total;
  const idle = current.idle - previous.idle;
  if (total <= 0) return 0;
  return Math.min(100, Math.max(0, (100 * (total - idle)) / total));
}

/**
 * Memory in use from /proc/meminfo: MemAvailable counts reclaimable page cache as free, which
 * os.freemem() does not, so a busy Linux box does not look permanently full.
 */
export function memoryPercentFromMeminfo(meminfo: string): number | undefined {
  const kb = (key: string) => {
    const match = new RegExp(`^${key}:\\s+(\\d+)\\s*kB`, 'm').exec(meminfo);
    return match ? Number(match[1]) : undefined;
  };
  const total = kb('MemTotal');
  const available = kb('MemAvailable');
  if (!total || available === undefined) return undefined;
  return Math.min(100, Math.max(0, (100 * (total - available)) / total));
}

async function memoryPercent(): Promise<number> {
  if (process.platform === 'linux') {
    const fromProc = await readFile('/proc/meminfo', 'utf8').then(memoryPercentFromMeminfo, () => undefined);
    if (fromProc !== undefined) return fromProc;
  }
  const total = os.totalmem();
  return total > 0 ? (100 * (total - os.freemem())) / total : 0;
}

/** Samples host CPU and memory into their gauges every `intervalMs`; returns stop(). */
export function startSystemMetrics(metrics: Pick<Metrics, 'systemCpu' | 'systemMemory'>, options: { intervalMs?: number } = {}): () => void {
  // The first reading is the average since boot; later ones cover the last interval.
  let previous: CpuTimes = { idle: 0, total: 0 };
  let stopped = false;
  const sample = () => {
    const current = readCpuTimes();
    metrics.systemCpu.set(cpuPercent(previous, current));
    previous = current;
    void memoryPercent().then((percent) => {
      if (!stopped) metrics.systemMemory.set(percent);
    });
  };
  sample();
  const timer = setInterval(sample, options.intervalMs ?? 5000);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
