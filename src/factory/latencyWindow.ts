/** The last `capacity` latencies in a ring, with nearest-rank percentiles for the client's state(). */
export interface LatencyWindow {
  record(latencyMs: number): void;
  summary(): { p50: number | null; p99: number | null; samples: number };
}

export function createLatencyWindow(capacity = 200): LatencyWindow {
  const ring: number[] = [];
  let next = 0;

  function percentile(sorted: number[], fraction: number): number {
    const rank = Math.ceil(fraction * sorted.length);
    return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
  }

  return {
    record(latencyMs) {
      if (ring.length < capacity) ring.push(latencyMs);
      else ring[next] = latencyMs;
      next = (next + 1) % capacity;
    },
    summary() {
      if (ring.length === 0) return { p50: null, p99: null, samples: 0 };
      const sorted = [...ring].sort((a, b) => a - b);
      return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), samples: sorted.length };
    },
  };
}
