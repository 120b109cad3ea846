import Redis from 'ioredis';
import type { Logger } from '../logging/logger';
import type { RateLimitStore } from './store';

/**
 * Fixed windows in Redis so every instance counts against the same limit. INCR and PEXPIRE run in one
 * MULTI; if Redis is unreachable the limiter fails open (logged) rather than taking the service down.
 */
export function createRedisRateLimitStore(url: string, logger: Logger, prefix = 'jwt-pizza:rl:'): RateLimitStore {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false, connectTimeout: 2000 });
  let warned = false;
  redis.on('error', (error) => {
    if (!warned) logger.warn({ type: 'security', err: { message: error.message } }, 'rate-limit store (Redis) unavailable: limits fail open');
    warned = true;
  });
  redis.on('ready', () => (warned = false));

  const failOpen = (resetMs: number) => ({ count: 0, resetMs });
  // One round trip and atomic: never below zero, and a window that already expired is not brought back.
  const RELEASE = "local v = redis.call('GET', KEYS[1]) if v and tonumber(v) > 0 then return redis.call('DECR', KEYS[1]) end return 0";
  return {
    async hit(key, windowMs) {
      try {
        const result = await redis.multi().incr(prefix + key).pexpire(prefix + key, windowMs, 'NX').pttl(prefix + key).exec();
        const count = Number(result?.[0]?.[1] ?? 0);
        const ttl = Number(result?.[2]?.[1] ?? windowMs);
        return { count, resetMs: ttl > 0 ? ttl : windowMs };
      } catch {
        return failOpen(windowMs);
      }
    },
    async peek(key) {
      try {
        const [count, ttl] = await Promise.all([redis.get(prefix + key), redis.pttl(prefix + key)]);
        return count === null ? undefined : { count: Number(count), resetMs: ttl > 0 ? ttl : 0 };
      } catch {
        return undefined;
      }
    },
    async release(key) {
      await redis.eval(RELEASE, 1, prefix + key).catch(() => undefined);
    },
    async reset(key) {
      await redis.del(prefix + key).catch(() => undefined);
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
