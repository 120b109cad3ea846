import Redis from 'ioredis';
import pino from 'pino';
import { buildAdmin, buildTestApp, unique, type TestApp } from '../helpers/app';
import { redisReachable, requiring } from '../helpers/requirements';
import { createRedisRateLimitStore } from '../../src/shared/rateLimit/redisStore';
import { sharedStoreReady } from './support';

// The login-protection counters (issue 25) are shared by every instance through Redis, like the limits
// before them: a per-(account, address) block and the per-account slow-down cannot be escaped by
// spreading the guesses over instances.

const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';
const withRedis = requiring(redisReachable(REDIS_URL));


withRedis.describe('login protection shared by two instances through Redis', () => {
  let a: TestApp;
  let b: TestApp;
  const prefix = `jwt-pizza-test:${unique()}:`;
  // Each instance alone would see 10 failures, under the threshold of 12; together they see 20.
  const env = { TRUST_PROXY: '127.0.0.1', LOGIN_SLOWDOWN_AFTER_ACCOUNT_FAILURES: '12', LOGIN_SLOWDOWN_MAX_MS: '300' };

  beforeAll(async () => {
    const silent = pino({ level: 'silent' });
    a = await buildTestApp({ env, rateLimits: await sharedStoreReady(createRedisRateLimitStore(REDIS_URL, silent, prefix), REDIS_URL) });
    b = await buildTestApp({ env, databaseUrl: a.databaseUrl, rateLimits: await sharedStoreReady(createRedisRateLimitStore(REDIS_URL, silent, prefix), REDIS_URL) });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  const login = (t: TestApp, ip: string, email: string, password: string) => t.http.put('/api/auth').set('X-Forwarded-For', ip).send({ email, password });

  test('when guesses at one account are spread over both instances, then the pair block and the account slow-down count them together, and the owner still logs in', async () => {
    const admin = await buildAdmin(a);
    // One address alternating instances: blocked after 5 in all, not 5 per instance.
    const pair: number[] = [];
    for (let i = 0; i < 8; i++) pair.push((await login(i % 2 ? b : a, '198.51.100.5', admin.email, `pair-${i}`)).status);
    expect(pair).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);

    // Three more addresses, 5 each, alternating: 20 failures on the account in all, 10 through each instance.
    for (const ip of ['198.51.100.6', '198.51.100.7', '198.51.100.8']) {
      for (let i = 0; i < 5; i++) expect((await login(i % 2 ? b : a, ip, admin.email, `spread-${i}`)).status).toBe(401);
    }

    const started = performance.now();
    const owner = await login(b, '203.0.113.50', admin.email, admin.password);
    const tookMs = performance.now() - started;
    expect(owner.status).toBe(200);
    // Slowed down by the shared count (only an instance-local count of 10 would mean no delay), never refused.
    expect(tookMs).toBeGreaterThanOrEqual(290);
    expect(tookMs).toBeLessThan(300 + 1500);
  });
});
