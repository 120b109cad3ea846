import Redis from 'ioredis';
import type { Logger } from '../logging/logger';
import { createMemoryRateLimitStore, type RateLimitStore } from './store';

export interface RedisStoreOptions {
  /**
   * Keys under these prefixes fail open while Redis is unreachable (counted as 0: nothing is refused).
   * Every other key falls back to this process's memory, so its limit still holds, per instance.
   */
  failOpenPrefixes?: string[];
}

/**
 * Fixed windows in Redis so every instance counts against the same limit. INCR and PEXPIRE run in one
 * MULTI. While Redis is unreachable the store is degraded, a documented choice per limit: the general
 * per-IP limit fails open (the service keeps serving rather than refusing everyone), and the login limits
 * fall back to in-memory windows in each instance, so brute force stays bounded (by the limit times the
 * number of instances) and logins keep working. Counts made in memory meanwhile are not carried back to
 * Redis when it returns.
 */
export function createRedisRateLimitStore(url: string, logger: Logger, prefix = 'jwt-pizza:rl:', options: RedisStoreOptions = {}): RateLimitStore {
  const failOpenPrefixes = options.failOpenPrefixes ?? ['general:'];
  // commandTimeout: a Redis that hangs (not just one that is gone) must not hold a login for long.
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false, connectTimeout: 2000, commandTimeout: 1000 });
  const memory = createMemoryRateLimitStore();
  // Degraded until the first connection is ready; said in the log only once something has failed. Over
  // when the connection is ready again, or when a call succeeds after calls timed out on a connection
  // that stayed up (a Redis that hung for a moment is not reconnected to, so 'ready' never comes).
  let degraded = true;
  let warned = false;
  const degrade = (error: Error) => {
    degraded = true;
    if (warned) return;
    warned = true;
    logger.warn(
      { type: 'security', event: 'rate_limit_store', state: 'degraded', err: { message: error.message } },
      'rate-limit store (Redis) unavailable: limits fail open, login limits fall back to this instance\'s memory',
    );
  };
  const recover = () => {
    if (!degraded) return;
    if (warned) logger.info({ type: 'security', event: 'rate_limit_store', state: 'ok' }, 'rate-limit store (Redis) reachable again: limits are shared');
    degraded = false;
    warned = false;
  };
  redis.on('error', degrade);
  redis.on('ready', recover);

  const failsOpen = (key: string) => failOpenPrefixes.some((p) => key.startsWith(p));
  // One round trip and atomic: never below zero, and a window that already expired is not brought back.
  const RELEASE = "local v = redis.call('GET', KEYS[1]) if v and tonumber(v) > 0 then return redis.call('DECR', KEYS[1]) end return 0";
  return {
    async hit(key, windowMs) {
      try {
        const result = await redis.multi().incr(prefix + key).pexpire(prefix + key, windowMs, 'NX').pttl(prefix + key).exec();
        const count = Number(result?.[0]?.[1] ?? 0);
        const ttl = Number(result?.[2]?.[1] ?? windowMs);
        recover();
        return { count, resetMs: ttl > 0 ? ttl : windowMs };
      } catch (error) {
        degrade(error as Error);
        return failsOpen(key) ? { count: 0, resetMs: windowMs } : memory.hit(key, windowMs);
      }
    },
    async peek(key) {
      try {
        const [count, ttl] = await Promise.all([redis.get(prefix + key), redis.pttl(prefix + key)]);
        recover();
        return count === null ? undefined : { count: Number(count), resetMs: ttl > 0 ? ttl : 0 };
      } catch (error) {
        degrade(error as Error);
        return failsOpen(key) ? undefined : memory.peek(key);
      }
    },
    async release(key) {
      try {
        await redis.eval(RELEASE, 1, prefix + key);
        recover();
      } catch (error) {
        degrade(error as Error);
        await memory.release(key);
      }
    },
    async reset(key) {
      await memory.reset(key);
      await redis.del(prefix + key).catch((error: Error) => degrade(error));
    },
    degraded: () => degraded,
    async close() {
      await memory.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
