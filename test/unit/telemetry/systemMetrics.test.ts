import { createMetrics } from '../../../src/shared/metrics/metrics';
import { cpuPercent, memoryPercentFromMeminfo, readCpuTimes, startSystemMetrics } from '../../../src/shared/metrics/systemMetrics';

const cpu = (user: number, idle: number) => ({ model: 'x', speed: 1, times: { user, nice: 0, sys: 0, idle, irq: 0 } });

describe('system metrics', () => {
  test('CPU percent is the busy share of all cores between two readings', () => {
    const before = readCpuTimes([cpu(100, 900), cpu(100, 900)]);
    const after = readCpuTimes([cpu(175, 925), cpu(100, 1000)]);
    // busy +75 of total +200
    expect(cpuPercent(before, after)).toBeCloseTo(37.5);
    expect(cpuPercent(after, after)).toBe(0);
  });

  test('memory percent uses MemAvailable, not MemFree', () => {
    const meminfo = 'MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    12000000 kB\n';
    expect(memoryPercentFromMeminfo(meminfo)).toBeCloseTo(25);
    expect(memoryPercentFromMeminfo('MemTotal: 100 kB\n')).toBeUndefined();
  });

  test('when started, then both gauges hold plausible host values', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const stop = startSystemMetrics(metrics, { intervalMs: 20 });
    try {
      const deadline = Date.now() + 5000;
      let memory = 0;
      while (Date.now() < deadline) {
        memory = (await metrics.systemMemory.get()).values[0]?.value ?? 0;
        if (memory > 0) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const cpuValue = (await metrics.systemCpu.get()).values[0]?.value ?? -1;
      expect(memory).toBeGreaterThan(0);
      expect(memory).toBeLessThanOrEqual(100);
      expect(cpuValue).toBeGreaterThanOrEqual(0);
      expect(cpuValue).toBeLessThanOrEqual(100);
    } finally {
      stop();
    }
  });
});
