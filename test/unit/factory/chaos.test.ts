import { activateChaos, chaosInWindow, chaosRequestSchema, chaosStrikes, productionChaosStart } from '../../../src/factory/simulator/chaos';

const minute = 60_000;

describe('chaos schedule', () => {
  test('when activated without settings, then it strikes every order from now on with the default throttle delay', () => {
    const chaos = activateChaos('throttle', {}, 1000, 32_000);

    expect(chaos).toMatchObject({ type: 'throttle', ratio: 1, delayMs: 32_000, startsAt: 1000, activatedAt: 1000 });
    expect(chaos.fixCode).toMatch(/^[a-z0-9]{8}$/);
    expect(chaosStrikes(chaos, 1000, () => 0.999)).toBe(true);
    expect(chaosStrikes(chaos, 999, () => 0)).toBe(false);
  });

  test('when bursts of 6 minutes alternate with 2-minute gaps, then only burst times are in the window', () => {
    const chaos = activateChaos('fail', { burstMs: 6 * minute, gapMs: 2 * minute }, 0, 0);
    const inWindow = [0, 5.99, 6, 7.99, 8, 14, 14.01, 16].map((at) => chaosInWindow(chaos, at * minute));

    expect(inWindow).toEqual([true, true, false, false, true, false, false, true]);
  });

  test('when the ratio is partial, then the dice decide per order', () => {
    const chaos = activateChaos('fail', { ratio: 0.3 }, 0, 0);

    expect([0, 0.29, 0.3, 0.9].map((roll) => chaosStrikes(chaos, 0, () => roll))).toEqual([true, true, false, false]);
  });

  test('when two activations happen, then each has its own fix code', () => {
    expect(activateChaos('fail', {}, 0, 0).fixCode).not.toBe(activateChaos('fail', {}, 0, 0).fixCode);
  });

  test('when a vendor chaos is initiated, then it starts on the next UTC day between 15:00 and 20:59, at the minute the dice pick', () => {
    const at = (iso: string, roll: number) => new Date(productionChaosStart(Date.parse(iso), () => roll)).toISOString();

    expect(at('2026-12-04T22:47:01.421Z', 0)).toBe('2026-12-05T15:00:00.000Z');
    expect(at('2026-12-04T00:00:00.000Z', 0.5)).toBe('2026-12-05T18:00:00.000Z');
    expect(at('2026-12-31T23:59:59.999Z', 0.99999)).toBe('2027-01-01T20:59:00.000Z');
  });

  test('when settings are out of range or half a burst, then the schema refuses them', () => {
    expect(chaosRequestSchema.safeParse({ ratio: 1.5 }).success).toBe(false);
    expect(chaosRequestSchema.safeParse({ delayMs: -1 }).success).toBe(false);
    expect(chaosRequestSchema.safeParse({ gapMs: 1000 }).success).toBe(false);
    expect(chaosRequestSchema.safeParse({ ratio: 0.5, burstMs: 1000, gapMs: 1000, startInMs: 0 }).success).toBe(true);
  });
});
