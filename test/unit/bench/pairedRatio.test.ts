import { pairedRatio, type LoadResult } from '../../../bench/lib/load';

const run = (reqPerSec: number) => ({ reqPerSec }) as LoadResult;

describe('bench: pairedRatio', () => {
  test('when the machine drifts between pairs, then the ratio follows the pairs, not the medians', () => {
    // Pairs at 80%, 80% and 67% on a machine that got twice as fast in the middle: the ratio of the two
    // medians (1,000 / 1,500) would pair the first scenario run with the third yardstick run.
    const scenario = [run(800), run(1600), run(1000)];
    const yardstick = [run(1000), run(2000), run(1500)];

    expect(pairedRatio(scenario, yardstick)).toBeCloseTo(0.8, 10);
  });

  test('when the count is even, then the two middle ratios are averaged', () => {
    expect(pairedRatio([run(50), run(60), run(70), run(90)], [run(100), run(100), run(100), run(100)])).toBeCloseTo(0.65, 10);
  });

  test('when a side has no runs, then there is no ratio', () => {
    expect(pairedRatio([run(1)], [])).toBeUndefined();
  });
});
