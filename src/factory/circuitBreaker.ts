import type { CircuitState } from './types';

export interface CircuitBreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
  now: () => number;
  onTransition?: (from: CircuitState, to: CircuitState, consecutiveFailures: number) => void;
}

export interface CircuitBreaker {
  /** True when a call may go to the network; in half_open only the single probe gets true. */
  tryAcquire(): boolean;
  recordSuccess(): void;
  recordFailure(): void;
  state(): CircuitState;
  consecutiveFailures(): number;
}

export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  const { failureThreshold, cooldownMs, now, onTransition } = options;
  let circuit: CircuitState = 'closed';
  let failures = 0;
  let openedAt = 0;
  let probeInFlight = false;

  function moveTo(next: CircuitState): void {
    if (next === circuit) return;
    const previous = circuit;
    circuit = next;
    onTransition?.(previous, next, failures);
  }

  function cooldownElapsed(): boolean {
    return now() - openedAt >= cooldownMs;
  }

  return {
    tryAcquire() {
      if (circuit === 'closed') return true;
      if (circuit === 'open') {
        if (!cooldownElapsed()) return false;
        moveTo('half_open');
      }
      if (probeInFlight) return false;
      probeInFlight = true;
      return true;
    },
    recordSuccess() {
      probeInFlight = false;
      failures = 0;
      moveTo('closed');
    },
    recordFailure() {
      failures += 1;
      const probeFailed = circuit === 'half_open' && probeInFlight;
      probeInFlight = false;
      if (probeFailed || (circuit === 'closed' && failures >= failureThreshold)) {
        openedAt = now();
        moveTo('open');
      }
    },
    // Reported lazily so on-call sees half_open as soon as the next call would be let through as a probe.
    state() {
      return circuit === 'open' && cooldownElapsed() ? 'half_open' : circuit;
    },
    consecutiveFailures() {
      return failures;
    },
  };
}
