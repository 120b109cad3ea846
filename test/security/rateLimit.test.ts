import Redis from 'ioredis';
import pino from 'pino';
import { buildTestApp, buildUser, metricValue, unique, type TestApp } from '../helpers/app';
import { createRedisRateLimitStore } from '../../src/shared/rateLimit/redisStore';
import type { RateLimitStore } from '../../src/shared/rateLimit/store';

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

  test('when one account fails 3 logins, then it is locked (429) while other accounts from the same IP still log in', async () => {
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

  test('when requests arrive with X-Forwarded-For and TRUST_PROXY is unset, then the forwarding peer is not limited as one client, and each such request is counted and the misconfiguration logged once', async () => {
    const t = await buildTestApp({ env: { RATE_LIMIT_PER_MINUTE: '5', LOGIN_MAX_FAILURES_PER_IP: '3', LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000' } });
    try {
      // An undeclared proxy relaying 12 clients: all served, none counted against the proxy's address.
      for (let i = 0; i < 12; i++) expect((await t.http.get('/api/order/menu').set('X-Forwarded-For', `203.0.113.${i}`)).status).toBe(200);
      expect(await metricValue(t, 'http_untrusted_forwarded_requests_total')).toBe(12);
      expect(await metricValue(t, 'rate_limited_requests_total', { limiter: 'general' })).toBe(0);
      const warnings = t.logs().filter((l) => l.type === 'security' && l.event === 'untrusted_forwarded');
      expect(warnings).toHaveLength(1);
      expect(warnings[0].msg).toMatch(/TRUST_PROXY/);
      // The same peer without the header is a client like any other: limited at 5.
      for (let i = 0; i < 5; i++) expect((await t.http.get('/api/order/menu')).status).toBe(200);
      expectTooMany(await t.http.get('/api/order/menu'), 60);
      // The header buys nothing on the login limits: they still count the peer's address.
      for (let i = 0; i < 3; i++) expect((await t.http.put('/api/auth').set('X-Forwarded-For', `198.51.100.${i}`).send({ email: `f${i}-${unique()}@test.jwt`, password: 'guess' })).status).toBe(401);
      expectTooMany(await t.http.put('/api/auth').set('X-Forwarded-For', '198.51.100.99').send({ email: `f-${unique()}@test.jwt`, password: 'guess' }), 900);
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
  let available = false;
  beforeAll(async () => {
    const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null });
    probe.on('error', () => undefined);
    available = await probe
      .connect()
      .then(() => probe.ping())
      .then(() => true)
      .catch(() => false);
    probe.disconnect();
    if (!available && process.env.CI === 'true') throw new Error(`CI=true but Redis at ${REDIS_URL} is not reachable: the shared rate-limit tests are mandatory in CI`);
    if (!available) console.warn(`Redis at ${REDIS_URL} not reachable: shared rate-limit tests skipped (they fail in CI)`);
  });

  /** The store is degraded (memory or fail-open) until its connection is ready; count only once it is shared. */
  async function connected(store: RateLimitStore): Promise<RateLimitStore> {
    const deadline = Date.now() + 5000;
    while (store.degraded?.() !== false) {
      if (Date.now() > deadline) throw new Error(`Redis at ${REDIS_URL} did not become ready within 5 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return store;
  }

  async function twoInstances(env: Record<string, string>) {
    const prefix = `jwt-pizza-test:${unique()}:`;
    const silent = pino({ level: 'silent' });
    const a = await buildTestApp({ env, rateLimits: await connected(createRedisRateLimitStore(REDIS_URL, silent, prefix)) });
    const b = await buildTestApp({ env, rateLimits: await connected(createRedisRateLimitStore(REDIS_URL, silent, prefix)) });
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

  test('when failed logins are split over two instances, then the per-IP limit counts them together', async () => {
    if (!available) return;
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

  test('when an account is attacked through both instances, then its lock is shared', async () => {
    if (!available) return;
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

  test('when general traffic is split over two instances, then the per-IP request limit is shared', async () => {
    if (!available) return;
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
