export interface WindowCount {
  count: number;
  resetMs: number;
}

/** Fixed-window counters behind one interface, so limits are per process by default and shared through Redis when configured. */
export interface RateLimitStore {
  /**
   * Counts one hit in the key's current window. A store that can answer at once (the in-memory one) may
   * return the result itself rather than a promise: the general limiter runs on every request.
   */
  hit(key: string, windowMs: number): WindowCount | Promise<WindowCount>;
  peek(key: string): Promise<WindowCount | undefined>;
  /** Takes back one hit (never below zero), e.g. an attempt counted up front that turned out not to count. */
  release(key: string): Promise<void>;
  reset(key: string): Promise<void>;
  /** A shared store that cannot reach its backend right now (see redisStore.ts); absent: never degraded. */
  degraded?(): boolean;
  close(): Promise<void>;
}

export function createMemoryRateLimitStore(now: () => number = Date.now): RateLimitStore {
  const windows = new Map<string, { count: number; resetAt: number }>();
  // Expired windows are swept so a scan of many IPs cannot grow memory without bound.
  const sweeper = setInterval(() => {
    const t = now();
    for (const [key, w] of windows) if (w.resetAt <= t) windows.delete(key);
  }, 60_000);
  sweeper.unref();

  const live = (key: string) => {
    const w = windows.get(key);
    if (w && w.resetAt > now()) return w;
    if (w) windows.delete(key);
    return undefined;
  };

  return {
    hit(key, windowMs) {
      const t = now();
      let w = live(key);
      if (!w) {
        w = { count: 0, resetAt: t + windowMs };
        windows.set(key, w);
      }
      w.count += 1;
      return { count: w.count, resetMs: w.resetAt - t };
    },
    async peek(key) {
      const w = live(key);
      return w ? { count: w.count, resetMs: w.resetAt - now() } : undefined;
    },
    async release(key) {
      const w = live(key);
      if (w && w.count > 0) w.count -= 1;
    },
    async reset(key) {
      windows.delete(key);
    },
    async close() {
      clearInterval(sweeper);
    },
  };
}
