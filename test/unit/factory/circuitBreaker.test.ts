import { createCircuitBreaker } from '../../../src/factory/circuitBreaker';
import type { CircuitState } from '../../../src/factory/types';

function buildBreaker() {
  let now = 0;
  const transitions: string[] = [];
  const breaker = createCircuitBreaker({
    failureThreshold: 3,
    cooldownMs: 1000,
    now: () => now,
    onTransition: (from: CircuitState, to: CircuitState) => transitions.push(`${from}->${to}`),
  });
  return { breaker, transitions, advance: (ms: number) => void (now += ms) };
}

function failTimes(breaker: ReturnType<typeof buildBreaker>['breaker'], times: number): void {
  for (let i = 0; i < times; i++) {
    expect(breaker.tryAcquire()).toBe(true);
    breaker.recordFailure();
  }
}

describe('circuit breaker', () => {
  test('when failures stay below the threshold, then calls keep going through', () => {
    const { breaker } = buildBreaker();
    failTimes(breaker, 2);

    expect(breaker.state()).toBe('closed');
    expect(breaker.consecutiveFailures()).toBe(2);
    expect(breaker.tryAcquire()).toBe(true);
  });

  test('when the threshold is reached, then it opens and refuses calls until the cooldown has passed', () => {
    const { breaker, transitions, advance } = buildBreaker();
    failTimes(breaker, 3);

    expect(breaker.state()).toBe('open');
    expect(breaker.tryAcquire()).toBe(false);
    advance(999);
    expect(breaker.tryAcquire()).toBe(false);
    advance(1);
    expect(breaker.state()).toBe('half_open');
    expect(transitions).toEqual(['closed->open']);
  });

  test('when half-open, then exactly one probe goes through and its success closes the circuit', () => {
    const { breaker, transitions, advance } = buildBreaker();
    failTimes(breaker, 3);
    advance(1000);

    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.recordSuccess();

    expect(breaker.state()).toBe('closed');
    expect(breaker.consecutiveFailures()).toBe(0);
    expect(breaker.tryAcquire()).toBe(true);
    expect(transitions).toEqual(['closed->open', 'open->half_open', 'half_open->closed']);
  });

  test('when the probe fails, then the circuit re-opens for a whole new cooldown', () => {
    const { breaker, transitions, advance } = buildBreaker();
    failTimes(breaker, 3);
    advance(1500);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.recordFailure();

    expect(breaker.state()).toBe('open');
    advance(999);
    expect(breaker.tryAcquire()).toBe(false);
    advance(1);
    expect(breaker.tryAcquire()).toBe(true);
    expect(transitions).toEqual(['closed->open', 'open->half_open', 'half_open->open', 'open->half_open']);
  });

  test('when a success comes between failures, then the count starts over', () => {
    const { breaker } = buildBreaker();
    failTimes(breaker, 2);
    breaker.recordSuccess();
    failTimes(breaker, 2);

    expect(breaker.state()).toBe('closed');
    expect(breaker.consecutiveFailures()).toBe(2);
  });
});
