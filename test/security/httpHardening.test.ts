import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bearer, buildAdmin, buildTestApp, buildUser, metricValue, unique, type TestApp, type TestUser } from '../helpers/app';
import { rawRequest } from '../helpers/rawHttp';
import { countAll, expectNoInternals } from './support';

// Malformed and hostile HTTP (OWASP A04/A05): sizes, nesting, content types, scanner probes, CORS,
// paging bounds, prototype pollution and a log-scrubbing bomb.

/** A raw request on a real socket: no client library normalizes the path or fixes the headers. */
async function raw(t: TestApp, options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer }) {
  const server = http.createServer(t.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await rawRequest(`http://127.0.0.1:${port}`, options.path, { method: options.method, headers: options.headers, body: options.body, timeoutMs: 10_000 });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('request size, nesting and content type', () => {
  let t: TestApp;
  let admin: TestUser;
  beforeAll(async () => {
    t = await buildTestApp();
    admin = await buildAdmin(t);
  });
  afterAll(() => t.close());

  test('when a body is over the 1 MB limit, then 413 JSON and nothing is written', async () => {
    const before = await countAll(t);
    const res = await t.http.post('/api/auth').set('Content-Type', 'application/json').send(JSON.stringify({ name: 'x'.repeat(1_100_000), email: 'big@test.jwt', password: 'pw' }));
    expect([res.status, res.body]).toEqual([413, { message: 'request body too large' }]);
    expect(await countAll(t)).toEqual(before);
  });

  test.each([
    ['arrays', (depth: number) => '['.repeat(depth) + ']'.repeat(depth)],
    ['objects', (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)],
  ])('when the body is %s nested 10,000 levels deep, then a 4xx JSON answer and the service keeps serving', async (_kind, nested) => {
    const before = await countAll(t);
    const deep = nested(10_000);
    for (const [method, path, body] of [
      ['POST', '/api/auth', deep],
      ['PUT', '/api/auth', `{"email":"a@b.co","password":${deep}}`],
      ['POST', '/api/order', `{"franchiseId":1,"storeId":1,"items":[{"menuId":1,"description":${deep}}],"extra":${deep}}`],
      ['PUT', '/api/order/menu', `{"title":${deep}}`],
    ] as const) {
      const res = await raw(t, { method, path, headers: { 'content-type': 'application/json', authorization: bearer(admin) }, body });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expectNoInternals({ status: res.status, text: res.text });
      expect(typeof res.body?.message).toBe('string');
    }
    expect(await countAll(t)).toEqual(before);
    expect((await t.http.get('/healthz')).status).toBe(200);
  });

  test('when bodies come as text, form, multipart, XML, or JSON in another charset, then 415 JSON and nothing is written', async () => {
    const before = await countAll(t);
    const body = JSON.stringify({ name: 'x', email: `${unique()}@test.jwt`, password: 'pw-hardening' });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json; charset=latin1', 'application/javascript', 'application/json; charset=utf-16']) {
      const res = await raw(t, { method: 'POST', path: '/api/auth', headers: { 'content-type': type }, body });
      // UTF-16 is a charset the parser knows: the UTF-8 bytes then fail to parse (400).
      expect([type, res.status]).toEqual([type, type.endsWith('utf-16') ? 400 : 415]);
      expect(typeof res.body.message).toBe('string');
    }
    const untyped = await raw(t, { method: 'POST', path: '/api/auth', headers: { 'content-length': String(Buffer.byteLength(body)) }, body });
    expect(untyped.status).toBe(415);
    expect(await countAll(t)).toEqual(before);
  });

  test('when JSON is malformed, has a bad encoding header or is a bare scalar, then 400/415 JSON without parser internals', async () => {
    const cases: [Record<string, string>, string, number[]][] = [
      [{ 'content-type': 'application/json' }, '{"name": "x",', [400]],
      [{ 'content-type': 'application/json' }, "{'name': 'single quotes'}", [400]],
      [{ 'content-type': 'application/json' }, '"just a string"', [400]],
      [{ 'content-type': 'application/json' }, 'null', [400]],
      [{ 'content-type': 'application/json' }, '{"a":1}garbage', [400]],
      [{ 'content-type': 'application/json', 'content-encoding': 'gzip' }, '{"not":"gzipped"}', [400]],
      [{ 'content-type': 'application/json', 'content-encoding': 'br' }, '{"a":1}', [400]],
      [{ 'content-type': 'application/json', 'content-encoding': 'deflate' }, 'not deflated', [400]],
      [{ 'content-type': 'application/json', 'content-encoding': 'x-unknown' }, '{"a":1}', [415]],
    ];
    for (const [headers, body, statuses] of cases) {
      const res = await raw(t, { method: 'POST', path: '/api/auth', headers, body });
      expect(statuses).toContain(res.status);
      expectNoInternals({ status: res.status, text: res.text });
      expect(res.text).not.toMatch(/Unexpected token|JSON\.parse|position \d+/);
    }
  });

  test('when __proto__ and constructor.prototype are sent, then nothing is polluted and no role is gained', async () => {
    const res = await raw(t, {
      method: 'POST',
      path: '/api/auth',
      headers: { 'content-type': 'application/json' },
      body: `{"name":"proto","email":"${unique()}@test.jwt","password":"pw-prototype","__proto__":{"roles":[{"role":"admin"}],"isAdmin":true},"constructor":{"prototype":{"isAdmin":true}}}`,
    });
    expect(res.status).toBe(200);
    expect(res.body.user.roles).toEqual([{ role: 'diner' }]);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(({} as Record<string, unknown>).roles).toBeUndefined();
    const order = await raw(t, {
      method: 'POST',
      path: '/api/order',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${res.body.token}` },
      body: '{"franchiseId":1,"storeId":1,"items":[{"menuId":1,"__proto__":{"price":0}}],"__proto__":{"dinerId":1}}',
    });
    expect(order.status).toBeLessThan(500);
    expect(({} as Record<string, unknown>).price).toBeUndefined();
  });

  test('when a body is ~900 KB of JWT-looking text, then the log scrubber does not stall the process (next request within 3 s)', async () => {
    const bomb = 'eyJ-'.repeat(225_000);
    const started = performance.now();
    const res = await raw(t, { method: 'POST', path: '/api/auth', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: bomb, email: 'x', password: 'y' }) });
    expect(res.status).toBe(400);
    const next = await raw(t, { path: '/healthz' });
    expect(next.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  test('when a request id header carries markup or CRLF-looking text, then it is replaced by a generated id', async () => {
    for (const id of ['<script>alert(1)</script>', 'a b', 'x'.repeat(65), '../../etc']) {
      const res = await t.http.get('/healthz').set('X-Request-Id', id);
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  test('when a method override header is sent, then the method is not changed', async () => {
    const user = await buildUser(t);
    const res = await t.http.post(`/api/user/${user.id}`).set('X-HTTP-Method-Override', 'DELETE').set('Authorization', bearer(admin));
    expect(res.status).toBe(404);
    expect((await t.http.get('/api/user/me').set('Authorization', bearer(user))).status).toBe(200);
  });

  test('when any answer is sent, then hardening headers are present and the framework is not named', async () => {
    const res = await t.http.get('/api/order/menu');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBeDefined();
  });
});

describe('scanner probes and path traversal', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(() => t.close());

  const PROBES: [string, string][] = [
    ['/.env', 'dotenv'],
    ['/prod/.env', 'dotenv'],
    ['/api/.env.production', 'dotenv'],
    ['/.git/config', 'git'],
    ['/.git/HEAD', 'git'],
    ['/wp-login.php', 'wordpress'],
    ['/wordpress/wp-admin/setup-config.php', 'wordpress'],
    ['/xmlrpc.php', 'wordpress'],
    ['/index.php', 'php'],
    ['/phpinfo.php?x=1', 'php'],
    ['/phpmyadmin/', 'admin'],
    ['/admin/', 'admin'],
    ['/actuator/env', 'admin'],
    ['/manager/html', 'admin'],
    ['/server-status', 'admin'],
    ['/.aws/credentials', 'other'],
    ['/.ssh/id_rsa', 'other'],
    ['/cgi-bin/luci', 'other'],
    ['/../../../../etc/passwd', 'other'],
    ['/%2e%2e/%2e%2e/etc/passwd', 'other'],
    ['/static/..%2f..%2f..%2fetc%2fpasswd', 'other'],
    ['/backup.sql', 'other'],
    ['/db.bak', 'other'],
    ['/.DS_Store', 'other'],
  ];

  test('when scanners probe well-known paths, then 404 JSON "unknown endpoint", and http_suspicious_requests_total rises in the right category', async () => {
    const expected: Record<string, number> = {};
    const before: Record<string, number> = {};
    for (const category of ['dotenv', 'git', 'wordpress', 'php', 'admin', 'other']) before[category] = await metricValue(t, 'http_suspicious_requests_total', { category });
    for (const [path, category] of PROBES) {
      for (const method of ['GET', 'POST']) {
        const res = await raw(t, { method, path });
        expect([path, res.status, res.body]).toEqual([path, 404, { message: 'unknown endpoint' }]);
        expected[category] = (expected[category] ?? 0) + 1;
      }
    }
    for (const [category, count] of Object.entries(expected)) {
      expect([category, (await metricValue(t, 'http_suspicious_requests_total', { category })) - before[category]]).toEqual([category, count]);
    }
    const securityLines = t.logs().filter((l) => l.type === 'security' && l.event === 'probe');
    expect(securityLines.length).toBe(PROBES.length * 2);
  });

  test('when ordinary unknown paths are requested, then 404 JSON and no probe is counted', async () => {
    const before = await metricValue(t, 'http_suspicious_requests_total', { category: 'other' });
    for (const path of ['/api/nothing', '/favicon.ico', '/api/order/menu/extra']) {
      const res = await raw(t, { path });
      expect([res.status, res.body]).toEqual([404, { message: 'unknown endpoint' }]);
    }
    expect(await metricValue(t, 'http_suspicious_requests_total', { category: 'other' })).toBe(before);
  });

  test('when traversal sequences are put in API path parameters, then 400/404 JSON, never a file or a 5xx', async () => {
    const admin = await buildAdmin(t);
    for (const path of ['/api/franchise/..%2f..%2fuser', '/api/user/..%2f1', '/api/order/menu/../../user', '/api/franchise/1/store/..%2f..%2f1', '/api/user/%00', '/api/user/1%00', '/api/user/%E0%A4%A', '/api/franchise/%', '/%E0%A4%A']) {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const res = await raw(t, { method, path, headers: { authorization: bearer(admin), 'content-type': 'application/json' }, body: method === 'PUT' ? '{}' : undefined });
        expect([path, method, [400, 404].includes(res.status)]).toEqual([path, method, true]);
        expect(res.text).not.toMatch(/root:|\[core\]/);
      }
    }
  });
});

describe('CORS', () => {
  let local: TestApp;
  let listed: TestApp;
  beforeAll(async () => {
    local = await buildTestApp();
    listed = await buildTestApp({ env: { CORS_ORIGINS: 'https://pizza.example.com' } });
  });
  afterAll(async () => {
    await local.close();
    await listed.close();
  });

  test('when an unlisted origin calls, then no CORS grant is given and its preflight is refused with JSON', async () => {
    for (const [t, origin] of [
      [listed, 'https://evil.example'],
      [listed, 'https://pizza.example.com.evil.example'],
      [listed, 'http://pizza.example.com'],
      [listed, 'null'],
      [local, 'http://localhost.evil.example'],
      [local, 'http://127.0.0.1.nip.io'],
      [local, 'https://evil.example'],
      [local, 'null'],
    ] as const) {
      const res = await t.http.get('/api/order/menu').set('Origin', origin);
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
      const preflight = await t.http.options('/api/auth').set('Origin', origin).set('Access-Control-Request-Method', 'PUT');
      expect([origin, preflight.status, preflight.body]).toEqual([origin, 403, { message: 'origin not allowed' }]);
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  test('when a listed origin calls, then exactly that origin is echoed with credentials, never *', async () => {
    for (const [t, origin] of [
      [listed, 'https://pizza.example.com'],
      [local, 'http://localhost:5173'],
    ] as const) {
      const res = await t.http.options('/api/auth').set('Origin', origin).set('Access-Control-Request-Method', 'PUT');
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe(origin);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(String(res.headers.vary)).toMatch(/Origin/);
    }
  });
});

describe('paging bounds', () => {
  let t: TestApp;
  let admin: TestUser;
  beforeAll(async () => {
    t = await buildTestApp();
    admin = await buildAdmin(t);
  });
  afterAll(() => t.close());

  test.each([
    '/api/user?limit=1000000',
    '/api/user?limit=101',
    '/api/user?limit=0',
    '/api/user?limit=-1',
    '/api/user?page=0',
    '/api/user?page=-1',
    '/api/user?page=99999999999',
    '/api/user?page=1e3',
    '/api/user?page=0x10',
    '/api/user?page=1.5',
    '/api/user?limit=NaN',
    '/api/user?limit=Infinity',
    '/api/user?page=1&page=2',
    '/api/user?name=' + 'x'.repeat(101),
    '/api/franchise?page=-1',
    '/api/franchise?limit=1000000',
    '/api/franchise?limit=-5',
    '/api/franchise?page=9999999999999',
    '/api/franchise?name=a&name=b',
    '/api/order?page=-1',
    '/api/order?page=0',
    '/api/order/failures?limit=100000',
    '/api/order/failures?limit=-1',
  ])('when %s is asked, then 400 with a message naming the parameter', async (path) => {
    const res = await t.http.get(path).set('Authorization', bearer(admin));
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/^invalid (page|limit|name)/);
  });
});
