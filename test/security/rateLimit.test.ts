import Redis from 'ioredis';
import pino from 'pino';
import { buildAdmin, buildTestApp, buildUser, metricValue, unique, type TestApp } from '../helpers/app';
import { createRedisRateLimitStore } from '../../src/shared/rateLimit/redisStore';
import { sharedStoreReady } from './support';
import { redisReachable, requiring } from '../helpers/requirements';

// Brute force and flooding (OWASP A07 / API4): login limits per IP and per account, the general per-IP
// limit, and limits shared by several instances through Redis.

const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';

function expectTooMany(res: { status: number; headers: Record<string, string>; body: { message?: string } }, windowSeconds: number) {
  expect(res.status).toBe(429);
  const retryAfter = Number(res.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
  expect(typeof res.body.message).toBe('string');
}

const randomAddress = () => `${1 + Math.floor(Math.random() * 223)}.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 254)}`;

const securityEvents = (t: TestApp, limiter: string) => t.logs().filter((l) => l.type === 'security' && l.event === 'rate_limit' && l.limiter === limiter);

describe('login brute force', () => {
  test('when one IP fails 5 logins on different accounts, then the 6th login is refused with 429 and Retry-After, even with the right password', async () => {
    const t = await buildTestApp({ env: { LOGIN_MAX_FAILURES_PER_IP: '5', LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000', LOGIN_WINDOW_SECONDS: '600' } });
    try {
      const user = await buildUser(t);
      for (let i = 0; i < 5; i++) expect((await t.http.put('/api/auth').send({ email: `nobody${i}-${unique()}@test.jwt`, password: 'guess' })).status).toBe(401);
      const blocked = await t.http.put('/api/auth').send({ email: user.email, password: user.password });
      expectTooMany(blocked, 600);
      expect(blocked.body.token).toBeUndefined();
      expect(await metricValue(t, 'rate_limited_requests_total', { limiter: 'login' })).toBeGreaterThanOrEqual(1);
      expect(securityEvents(t, 'login').length).toBeGreaterThanOrEqual(1);
    } finally {
      await t.close();
    }
  });

  test('when one account fails 3 logins from one address, then that (account, address) pair is blocked (429) while other accounts from the same address still log in', async () => {
    const t = await buildTestApp({ env: { LOGIN_MAX_FAILURES_PER_IP: '1000', LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_WINDOW_SECONDS: '300' } });
    try {
      const victim = await buildUser(t);
      const bystander = await buildUser(t);
      for (let i = 0; i < 3; i++) expect((await t.http.put('/api/auth').send({ email: victim.email, password: `guess-${i}` })).status).toBe(401);
      expectTooMany(await t.http.put('/api/auth').send({ email: victim.email, password: victim.password }), 300);
      // The same account in another casing is the same account.
      expectTooMany(await t.http.put('/api/auth').send({ email: victim.email.toUpperCase(), password: victim.password }), 300);
      expect((await t.http.put('/api/auth').send({ email: bystander.email, password: bystander.password })).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  test('when 40 wrong passwords for one account arrive at once, then at most the limit (5) are checked and the rest get 429', async () => {
    // Real bcrypt cost, so the guesses overlap in time as they would against a production server.
    const t = await buildTestApp({ env: { LOGIN_MAX_FAILURES_PER_IP: '1000', LOGIN_MAX_FAILURES_PER_ACCOUNT: '5', BCRYPT_ROUNDS: '10' } });
    try {
      const email = `victim-${unique()}@test.jwt`;
      expect((await t.http.post('/api/auth').send({ name: 'victim', email, password: 'right-password' })).status).toBe(200);
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => t.http.put('/api/auth').send({ email, password: `parallel-guess-${i}` })));
      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
      expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    } finally {
      await t.close();
    }
  });

  test('when a successful login follows failures, then the account counter resets and successful logins never lock anyone out', async () => {
    const t = await buildTestApp({ env: { LOGIN_MAX_FAILURES_PER_IP: '3', LOGIN_MAX_FAILURES_PER_ACCOUNT: '3' } });
    try {
      const user = await buildUser(t);
      for (let round = 0; round < 2; round++) {
        expect((await t.http.put('/api/auth').send({ email: user.email, password: 'wrong' })).status).toBe(401);
        expect((await t.http.put('/api/auth').send({ email: user.email, password: user.password })).status).toBe(200);
      }
      for (let i = 0; i < 5; i++) expect((await t.http.put('/api/auth').send({ email: user.email, password: user.password })).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  test('when X-Forwarded-For is forged without a trusted proxy, then the attacker cannot rotate addresses', async () => {
    const t = await buildTestApp({ env: { LOGIN_MAX_FAILURES_PER_IP: '3', LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000' } });
    try {
      for (let i = 0; i < 3; i++) {
        expect((await t.http.put('/api/auth').set('X-Forwarded-For', `10.0.0.${i}`).send({ email: `x${i}-${unique()}@test.jwt`, password: 'guess' })).status).toBe(401);
      }
      expect((await t.http.put('/api/auth').set('X-Forwarded-For', '10.9.9.9').send({ email: `y-${unique()}@test.jwt`, password: 'guess' })).status).toBe(429);
    } finally {
      await t.close();
    }
  });
});

describe('login protection: no lockout anyone can trigger (documented defaults: 5 per account and address, 20 per address, slow-down after 10 per account up to 2 s)', () => {
  // The test is the trusted proxy (supertest connects from 127.0.0.1); X-Forwarded-For is each client's address.
  const env = { TRUST_PROXY: '127.0.0.1' };
  const from = (t: TestApp, ip: string, body: { email: string; password: string }) => t.http.put('/api/auth').set('X-Forwarded-For', ip).send(body);

  test('when 1,000 wrong passwords for the admin come from one address, then only the documented 5 are checked, the rest get 429, and the admin logs in from a fresh address on the first try', async () => {
    const t = await buildTestApp({ env });
    try {
      const admin = await buildAdmin(t);
      const statuses: number[] = [];
      for (let batch = 0; batch < 20; batch++) {
        const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => from(t, '198.51.100.66', { email: admin.email, password: `guess-${batch}-${i}` })));
        statuses.push(...answers.map((a) => a.status));
      }
      expect(statuses.filter((s) => s === 401)).toHaveLength(5);
      expect(statuses.filter((s) => s === 429)).toHaveLength(995);
      // Even the right password from the attacking address is refused: the pair is blocked.
      expect((await from(t, '198.51.100.66', { email: admin.email, password: admin.password })).status).toBe(429);

      const started = performance.now();
      const owner = await from(t, '203.0.113.200', { email: admin.email, password: admin.password });
      expect(owner.status).toBe(200);
      expect(owner.body.token).toEqual(expect.any(String));
      // 5 failures on the account: under the slow-down threshold (10), so no delay at all.
      expect(performance.now() - started).toBeLessThan(1000);
    } finally {
      await t.close();
    }
  });

  test('when 5 wrong passwords for the admin come from each of 50 addresses, then every one is answered 401 (never a lock), and the admin logs in from a fresh address within the documented 2 s slow-down', async () => {
    const t = await buildTestApp({ env });
    try {
      const admin = await buildAdmin(t);
      const statuses = (
        await Promise.all(
          Array.from({ length: 50 }, async (_, a) => {
            const answers: number[] = [];
            for (let i = 0; i < 5; i++) answers.push((await from(t, `192.0.2.${a + 1}`, { email: admin.email, password: `spread-${a}-${i}` })).status);
            return answers;
          }),
        )
      ).flat();
      expect(statuses).toEqual(Array(250).fill(401));

      const started = performance.now();
      const owner = await from(t, '203.0.113.201', { email: admin.email, password: admin.password });
      const tookMs = performance.now() - started;
      expect(owner.status).toBe(200);
      expect(owner.body.token).toEqual(expect.any(String));
      // 250 failures on the account: the slow-down is at its cap, LOGIN_SLOWDOWN_MAX_MS (2000 ms), and not more.
      expect(tookMs).toBeGreaterThanOrEqual(1900);
      expect(tookMs).toBeLessThan(2000 + 1500);
    } finally {
      await t.close();
    }
  });

  test('when one address guesses passwords of many accounts (credential stuffing), then it is stopped after the documented 20 failures, whatever accounts it names', async () => {
    const t = await buildTestApp({ env });
    try {
      const victim = await buildUser(t);
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) statuses.push((await from(t, '198.51.100.77', { email: `stuffed-${i}-${unique()}@test.jwt`, password: 'Winter2025!' })).status);
      expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
      expect(statuses.slice(20)).toEqual(Array(10).fill(429));
      expect((await from(t, '198.51.100.77', { email: victim.email, password: victim.password })).status).toBe(429);
      expect((await from(t, '198.51.100.78', { email: victim.email, password: victim.password })).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  test('when one address guesses one account, then the 6th attempt is refused even with the right password, and a success before the limit clears the pair\'s count', async () => {
    // The account-wide slow-down is off here: this test is about the pair.
    const t = await buildTestApp({ env: { ...env, LOGIN_SLOWDOWN_MAX_MS: '0' } });
    try {
      const user = await buildUser(t);
      const ip = '198.51.100.88';
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 4; i++) expect((await from(t, ip, { email: user.email, password: `wrong-${round}-${i}` })).status).toBe(401);
        expect((await from(t, ip, { email: user.email, password: user.password })).status).toBe(200);
      }
      for (let i = 0; i < 5; i++) expect((await from(t, ip, { email: user.email, password: `wrong-${i}` })).status).toBe(401);
      expectTooMany(await from(t, ip, { email: user.email, password: user.password }), 900);
      expect(securityEvents(t, 'login').some((l) => l.scope === 'account_ip')).toBe(true);
    } finally {
      await t.close();
    }
  });

  test('when an account has more failures than the slow-down threshold, then a login for it waits, and the delay grows with the failures up to the cap', async () => {
    const t = await buildTestApp({ env: { ...env, LOGIN_SLOWDOWN_AFTER_ACCOUNT_FAILURES: '2', LOGIN_SLOWDOWN_MAX_MS: '400' } });
    try {
      const user = await buildUser(t);
      const timed = async (ip: string, password: string) => {
        const started = performance.now();
        const res = await from(t, ip, { email: user.email, password });
        return { status: res.status, ms: performance.now() - started };
      };
      // Failures 1 and 2: no delay; 3rd attempt sees 2 failures → none; 4th sees 3 → 100 ms; 5th sees 4 → 200 ms.
      for (let i = 0; i < 3; i++) expect((await timed(`192.0.2.${10 + i}`, 'wrong')).status).toBe(401);
      const fourth = await timed('192.0.2.20', 'wrong');
      const fifth = await timed('192.0.2.21', 'wrong');
      expect(fourth.ms).toBeGreaterThanOrEqual(90);
      expect(fifth.ms).toBeGreaterThanOrEqual(190);
      for (let i = 0; i < 3; i++) await timed(`192.0.2.${30 + i}`, 'wrong');
      const owner = await timed('192.0.2.40', user.password);
      expect(owner.status).toBe(200);
      expect(owner.ms).toBeGreaterThanOrEqual(390);
      expect(owner.ms).toBeLessThan(400 + 1000);
    } finally {
      await t.close();
    }
  });
});

describe('general per-IP limit', () => {
  test('when one IP sends more than RATE_LIMIT_PER_MINUTE requests, then 429 with Retry-After, counted and logged once as a security event', async () => {
    const t = await buildTestApp({ env: { RATE_LIMIT_PER_MINUTE: '10' } });
    try {
      for (let i = 0; i < 10; i++) expect((await t.http.get('/api/order/menu')).status).toBe(200);
      for (let i = 0; i < 3; i++) expectTooMany(await t.http.get('/api/order/menu'), 60);
      // Rejected before the body is read or any database work is done.
      expectTooMany(await t.http.post('/api/auth').send({ name: 'x', email: `${unique()}@test.jwt`, password: 'pw' }), 60);
      expect(await t.ctx.db.selectFrom('users').select('id').execute()).toEqual([]);
      expect(await metricValue(t, 'rate_limited_requests_total', { limiter: 'general' })).toBe(4);
      expect(securityEvents(t, 'general')).toHaveLength(1);
      // Health and metrics stay reachable for the orchestrator and the scraper.
      expect((await t.http.get('/healthz')).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  test.each([['unset', {}], ['none', { TRUST_PROXY: 'none' }]])(
    'when a client sends a random X-Forwarded-For on every request and TRUST_PROXY is %s, then it is limited like any other, each such request is counted and the misconfiguration logged once',
    async (_label, trust: Record<string, string>) => {
      const t = await buildTestApp({ env: { RATE_LIMIT_PER_MINUTE: '60', ...trust } });
      try {
        // The outside test's measurement: 80 requests, a new forged address on each.
        const statuses: number[] = [];
        for (let i = 0; i < 80; i++) statuses.push((await t.http.get('/api/order/menu').set('X-Forwarded-For', randomAddress())).status);
        expect(statuses.filter((s) => s === 200)).toHaveLength(60);
        expect(statuses.filter((s) => s === 429)).toHaveLength(20);
        expect(await metricValue(t, 'http_untrusted_forwarded_requests_total')).toBe(80);
        expect(await metricValue(t, 'rate_limited_requests_total', { limiter: 'general' })).toBe(20);
        const warnings = t.logs().filter((l) => l.type === 'security' && l.event === 'untrusted_forwarded');
        expect(warnings).toHaveLength(1);
        expect(warnings[0].msg).toMatch(/TRUST_PROXY/);
        // Without the header the same peer is the same client: still limited.
        expectTooMany(await t.http.get('/api/order/menu'), 60);
      } finally {
        await t.close();
      }
    },
  );

  test('when TRUST_PROXY names the proxy and a client puts a random X-Forwarded-For in front of what the proxy appends, then the client is still limited as itself', async () => {
    const t = await buildTestApp({ env: { RATE_LIMIT_PER_MINUTE: '60', TRUST_PROXY: '127.0.0.1' } });
    try {
      const statuses: number[] = [];
      // The proxy (here: the test, from 127.0.0.1) appends the client's real address, 203.0.113.9.
      for (let i = 0; i < 80; i++) statuses.push((await t.http.get('/api/order/menu').set('X-Forwarded-For', `${randomAddress()}, 203.0.113.9`)).status);
      expect(statuses.filter((s) => s === 429)).toHaveLength(20);
      // Another real client behind the proxy has its own count.
      expect((await t.http.get('/api/order/menu').set('X-Forwarded-For', `${randomAddress()}, 203.0.113.10`)).status).toBe(200);
      expect(await metricValue(t, 'http_untrusted_forwarded_requests_total')).toBe(0);
    } finally {
      await t.close();
    }
  });

  test('when TRUST_PROXY names the proxy, then the general limit counts each client it forwards for, whatever the client wrote further left', async () => {
    // supertest connects from 127.0.0.1: here that is the proxy.
    const t = await buildTestApp({ env: { RATE_LIMIT_PER_MINUTE: '3', TRUST_PROXY: '127.0.0.1' } });
    try {
      for (let i = 0; i < 3; i++) expect((await t.http.get('/api/order/menu').set('X-Forwarded-For', '203.0.113.7')).status).toBe(200);
      expectTooMany(await t.http.get('/api/order/menu').set('X-Forwarded-For', '203.0.113.7'), 60);
      // A client that writes its own X-Forwarded-For gets the proxy's address appended: it is still itself.
      expectTooMany(await t.http.get('/api/order/menu').set('X-Forwarded-For', '10.1.2.3, 203.0.113.7'), 60);
      // Another client behind the same proxy is not affected.
      expect((await t.http.get('/api/order/menu').set('X-Forwarded-For', '203.0.113.8')).status).toBe(200);
      expect(await metricValue(t, 'http_untrusted_forwarded_requests_total')).toBe(0);
    } finally {
      await t.close();
    }
  });

  test('when TRUST_PROXY names another address, then a peer\'s own X-Forwarded-For is not believed and the peer is limited as itself', async () => {
    const t = await buildTestApp({ env: { RATE_LIMIT_PER_MINUTE: '3', TRUST_PROXY: '10.9.9.9' } });
    try {
      for (let i = 0; i < 3; i++) expect((await t.http.get('/api/order/menu').set('X-Forwarded-For', `203.0.113.${i}`)).status).toBe(200);
      expectTooMany(await t.http.get('/api/order/menu').set('X-Forwarded-For', '203.0.113.50'), 60);
      expect(await metricValue(t, 'http_untrusted_forwarded_requests_total')).toBe(0);
    } finally {
      await t.close();
    }
  });
});

describe('limits shared by two instances through Redis', () => {
  // Skipped outside CI when Redis is not there, failed under CI=true; never a pass that did not run.
  const withRedis = requiring(redisReachable(REDIS_URL));


  async function twoInstances(env: Record<string, string>) {
    const prefix = `jwt-pizza-test:${unique()}:`;
    const silent = pino({ level: 'silent' });
    const a = await buildTestApp({ env, rateLimits: await sharedStoreReady(createRedisRateLimitStore(REDIS_URL, silent, prefix), REDIS_URL) });
    const b = await buildTestApp({ env, rateLimits: await sharedStoreReady(createRedisRateLimitStore(REDIS_URL, silent, prefix), REDIS_URL) });
    return {
      a,
      b,
      async close() {
        await a.close();
        await b.close();
        const redis = new Redis(REDIS_URL);
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length) await redis.del(...keys);
        await redis.quit();
      },
    };
  }

  withRedis.test('when failed logins are split over two instances, then the per-IP limit counts them together', async () => {
    const { a, b, close } = await twoInstances({ LOGIN_MAX_FAILURES_PER_IP: '4', LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000' });
    try {
      for (const t of [a, a, b, b]) expect((await t.http.put('/api/auth').send({ email: `n-${unique()}@test.jwt`, password: 'guess' })).status).toBe(401);
      expectTooMany(await a.http.put('/api/auth').send({ email: `n-${unique()}@test.jwt`, password: 'guess' }), 900);
      expectTooMany(await b.http.put('/api/auth').send({ email: `n-${unique()}@test.jwt`, password: 'guess' }), 900);
      expect(await metricValue(b, 'rate_limited_requests_total', { limiter: 'login' })).toBe(1);
    } finally {
      await close();
    }
  });

  withRedis.test('when an account is attacked through both instances, then its lock is shared', async () => {
    const { a, b, close } = await twoInstances({ LOGIN_MAX_FAILURES_PER_IP: '1000', LOGIN_MAX_FAILURES_PER_ACCOUNT: '2' });
    try {
      const email = `victim-${unique()}@test.jwt`;
      expect((await a.http.put('/api/auth').send({ email, password: 'guess-1' })).status).toBe(401);
      expect((await b.http.put('/api/auth').send({ email, password: 'guess-2' })).status).toBe(401);
      expectTooMany(await a.http.put('/api/auth').send({ email, password: 'guess-3' }), 900);
    } finally {
      await close();
    }
  });

  withRedis.test('when general traffic is split over two instances, then the per-IP request limit is shared', async () => {
    const { a, b, close } = await twoInstances({ RATE_LIMIT_PER_MINUTE: '6' });
    try {
      for (const t of [a, b, a, b, a, b]) expect((await t.http.get('/api/order/menu')).status).toBe(200);
      expectTooMany(await a.http.get('/api/order/menu'), 60);
      expectTooMany(await b.http.get('/api/order/menu'), 60);
      expect(securityEvents(a, 'general').length + securityEvents(b, 'general').length).toBeGreaterThanOrEqual(1);
    } finally {
      await close();
    }
  });

  test('when Redis is unreachable, then the limiter fails open (requests served, no 5xx) and says so in the log', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const t = await buildTestApp({ env: { RATE_LIMIT_PER_MINUTE: '2' }, rateLimits: createRedisRateLimitStore('redis://127.0.0.1:1', logger, `x:${unique()}:`) });
    try {
      for (let i = 0; i < 4; i++) expect((await t.http.get('/api/order/menu')).status).toBe(200);
      expect((await t.http.put('/api/auth').send({ email: `n-${unique()}@test.jwt`, password: 'guess' })).status).toBe(401);
      expect(lines.join('')).toMatch(/rate-limit store \(Redis\) unavailable/);
    } finally {
      await t.close();
    }
  });
});
