import { createLatencyWindow } from '../../../src/factory/latencyWindow';

describe('latency window', () => {
  test('when empty, then it reports no percentiles', () => {
    expect(createLatencyWindow(10).summary()).toEqual({ p50: null, p99: null, samples: 0 });
  });

  test('when filled with 1..100, then p50 and p99 are the nearest ranks', () => {
    const window = createLatencyWindow(200);
    for (let ms = 100; ms >= 1; ms--) window.record(ms);

    expect(window.summary()).toEqual({ p50: 50, p99: 99, samples: 100 });
  });

  test('when more samples than its capacity arrive, then only the newest are kept', () => {
    const window = createLatencyWindow(3);
    for (const ms of [1000, 1000, 1000, 1, 2, 3]) window.record(ms);

    expect(window.summary()).toEqual({ p50: 2, p99: 3, samples: 3 });
  });
});
