import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type supertest from 'supertest';
import { FACTORY_ADMIN_KEY, FACTORY_API_KEY, bearer, buildAdmin, buildTestApp, buildUser, unique, type TestApp } from '../helpers/app';

type Response = supertest.Response;
interface DocsEndpoint { method: string; path: string; description: string; example: string; response: unknown; requiresAuth: boolean }

const VERSION = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
const LOCAL_ORIGIN = 'http://localhost:5173';

/** An error answer the frontend can show: JSON with a message, and nothing from the inside (stack, SQL, driver). */
function expectCleanError(res: Response, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.body).toEqual(expect.objectContaining({ message: expect.any(String) }));
  expect(res.text).not.toMatch(/\bat .+[\\/].+\.[jt]s:\d+|node_modules|stack/i);
  expect(res.text).not.toMatch(/\bselect\b|\binsert into\b|\bupdate `?\w+`? set\b|sqlite|ER_[A-Z_]+|mysql|kysely|errno/i);
}

/** Every route the Express app serves, from its router stack (nested routers included). */
function servedRoutes(app: TestApp['app']): { method: string; path: string }[] {
  const routes: { method: string; path: string }[] = [];
  // Routers are mounted at their prefix (router 2's layer.rawPath; '/' for a router mounted without one).
  const walk = (stack: any[], base: string) => {
    for (const layer of stack) {
      if (layer.route) for (const method of Object.keys(layer.route.methods)) routes.push({ method: method.toUpperCase(), path: base + layer.route.path });
      else if (layer.handle?.stack) walk(layer.handle.stack, base + (typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : ''));
    }
  };
  walk((app as any).router.stack, '');
  return routes;
}

describe('platform', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(() => t.close());

  describe('welcome and docs', () => {
    test('when anyone opens /, then the welcome message and version come back', async () => {
      const res = await t.http.get('/');

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ message: 'welcome to JWT Pizza', version: VERSION });
    });

    test('when anyone reads /api/docs, then every endpoint is described in the documented shape', async () => {
      const res = await t.http.get('/api/docs');

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ version: VERSION, endpoints: expect.any(Array), config: { factory: t.simulator.url } });
      expect(res.body.endpoints.length).toBeGreaterThan(0);
      for (const endpoint of res.body.endpoints) {
        expect(endpoint).toEqual(
          expect.objectContaining({ method: expect.any(String), path: expect.any(String), description: expect.any(String), example: expect.any(String), response: expect.anything(), requiresAuth: expect.any(Boolean) }),
        );
      }
      const byRoute = (method: string, path: string) => res.body.endpoints.find((e: DocsEndpoint) => e.method === method && e.path === path);
      expect(byRoute('POST', '/api/auth').requiresAuth).toBe(false);
      expect(byRoute('GET', '/api/order/menu').requiresAuth).toBe(false);
      expect(byRoute('DELETE', '/api/franchise/:franchiseId').requiresAuth).toBe(true);
      expect(byRoute('GET', '/api/user/me').requiresAuth).toBe(true);
    });

    test('when the docs are read, then they hold no secret: no JWT secret, factory key, DB URL or real password', async () => {
      const admin = await buildAdmin(t);

      const docs = await t.http.get('/api/docs');
      const openApi = await t.http.get('/api/openapi.json');

      const secrets = [t.config.jwt.secret, FACTORY_API_KEY, FACTORY_ADMIN_KEY, t.databaseUrl, admin.password, admin.token];
      if (t.config.database.kind === 'sqlite') secrets.push(t.config.database.file);
      else secrets.push(t.config.database.database, `${t.config.database.host}:${t.config.database.port}`);
      for (const text of [docs.text, openApi.text]) {
        for (const secret of secrets) expect(text).not.toContain(secret);
        const passwords = [...text.matchAll(/\\?"password\\?"\s*:\s*\\?"([^"\\]*)\\?"/g)].map((m) => m[1]);
        expect(passwords.filter((p) => p !== '<password>')).toEqual([]);
      }
      expect(docs.text).toContain('"password\\":\\"<password>\\"');
    });

    test('when the app is asked for its routes, then every API route it serves is in the docs, and every documented route is served', async () => {
      const docs = (await t.http.get('/api/docs')).body.endpoints as DocsEndpoint[];
      const documented = docs.map((e) => `${e.method} ${e.path}`).sort();

      const served = servedRoutes(t.app)
        .filter((r) => r.path.startsWith('/api/') && r.path !== '/api/docs' && r.path !== '/api/openapi.json')
        .map((r) => `${r.method} ${r.path.replace(/(.)\/$/, '$1')}`)
        .sort();

      expect(documented).toEqual(served);
      for (const endpoint of docs) {
        const path = endpoint.path.replace(/:\w+/g, '1');
        const res = await t.http[endpoint.method.toLowerCase() as 'get'](path).send({});
        expect({ route: `${endpoint.method} ${endpoint.path}`, message: res.body.message }).not.toEqual({ route: `${endpoint.method} ${endpoint.path}`, message: 'unknown endpoint' });
      }
    });

    test('when anyone reads /api/openapi.json, then it is OpenAPI 3.1 with a path and method per documented route', async () => {
      const docs = (await t.http.get('/api/docs')).body.endpoints as DocsEndpoint[];

      const res = await t.http.get('/api/openapi.json');

      expect(res.status).toBe(200);
      expect(res.body.openapi).toMatch(/^3\.1\./);
      expect(res.body.info).toEqual(expect.objectContaining({ version: VERSION, title: expect.any(String) }));
      for (const endpoint of docs) {
        const path = endpoint.path.replace(/:(\w+)/g, '{$1}');
        expect({ path, method: endpoint.method, operation: res.body.paths[path]?.[endpoint.method.toLowerCase()] }).toEqual({ path, method: endpoint.method, operation: expect.objectContaining({ responses: expect.anything() }) });
      }
      const operations = Object.values(res.body.paths as Record<string, object>).reduce((n, ops) => n + Object.keys(ops).length, 0);
      expect(operations).toBe(docs.length);
    });
  });

  describe('errors', () => {
    test('when a path is unknown, then 404 {message: unknown endpoint} for any method', async () => {
      for (const method of ['get', 'post', 'put', 'delete'] as const) {
        const res = await t.http[method](`/api/${unique('nothing')}`);
        expectCleanError(res, 404);
        expect(res.body).toEqual({ message: 'unknown endpoint' });
      }
    });

    test('when requests fail in the usual ways, then each answer is JSON with a message and no stack or SQL', async () => {
      const diner = await buildUser(t);

      expectCleanError(await t.http.post('/api/auth').send({ name: 'n', email: 'nope', password: 'p' }), 400);
      expectCleanError(await t.http.get('/api/user/me'), 401);
      expectCleanError(await t.http.get('/api/user/me').set('Authorization', 'Bearer not.a.token'), 401);
      expectCleanError(await t.http.get('/api/user').set('Authorization', bearer(diner)), 403);
      expectCleanError(await t.http.delete('/api/user/2000000000').set('Authorization', bearer(await buildAdmin(t))), 404);
      expectCleanError(await t.http.post('/api/auth').send({ name: 'dup', email: diner.email, password: 'secret-1' }), 409);
      expectCleanError(await t.http.post('/api/auth').set('Content-Type', 'text/plain').send('name=x'), 415);
      expectCleanError(await t.http.put('/api/user/abc').set('Authorization', bearer(diner)).send({}), 400);
    });

    test.each([
      ['a syntax error', '{"name": "x",'],
      ['a single quote', "{'name': 'x'}"],
      ['a bare string (strict JSON)', '"just a string"'],
    ])('when the JSON body has %s, then 400 JSON', async (_label, body) => {
      const res = await t.http.post('/api/auth').set('Content-Type', 'application/json').send(body);

      expectCleanError(res, 400);
    });

    test.each([
      ['text/plain', 'hello'],
      ['application/x-www-form-urlencoded', 'name=x&email=y&password=z'],
      ['application/xml', '<user/>'],
    ])('when a POST body is %s, then 415 JSON and nothing is created', async (type, body) => {
      const usersBefore = await t.ctx.db.selectFrom('users').select('id').execute();

      const res = await t.http.post('/api/auth').set('Content-Type', type).send(body);

      expectCleanError(res, 415);
      expect(await t.ctx.db.selectFrom('users').select('id').execute()).toEqual(usersBefore);
    });
  });

  describe('headers', () => {
    test('when any response is sent, then it carries the security headers of a JSON API and x-powered-by is not', async () => {
      // OWASP's REST Security Cheat Sheet: the answer loads nothing and is never framed, no MIME sniffing, HTTPS only.
      const expected = {
        'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
        'cross-origin-resource-policy': 'same-origin',
        'referrer-policy': 'no-referrer',
        'strict-transport-security': 'max-age=31536000; includeSubDomains',
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
      };
      const answers = [await t.http.get('/'), await t.http.get('/api/order/menu'), await t.http.get(`/${unique('missing')}`), await t.http.put('/api/auth').send({}), await t.http.get('/api/docs')];
      for (const res of answers) {
        expect(Object.fromEntries(Object.keys(expected).map((name) => [name, res.headers[name]]))).toEqual(expected);
        expect(res.headers['x-powered-by']).toBeUndefined();
      }
    });

    test('when any response is sent, then none of the headers that only change how a browser treats an HTML page is sent', async () => {
      // helmet's defaults for web pages: the service serves no page, and each was a header on every answer.
      const htmlOnly = ['cross-origin-opener-policy', 'origin-agent-cluster', 'x-dns-prefetch-control', 'x-download-options', 'x-permitted-cross-domain-policies', 'x-xss-protection'];
      for (const res of [await t.http.get('/api/order/menu'), await t.http.put('/api/auth').send({})]) {
        for (const name of htmlOnly) expect([name, res.headers[name]]).toEqual([name, undefined]);
      }
    });

    test('when a request has no request id, then one is generated and returned', async () => {
      const first = await t.http.get('/');
      const second = await t.http.get('/');

      expect(first.headers['x-request-id']).toMatch(/^[\w.-]{8,64}$/);
      expect(second.headers['x-request-id']).toMatch(/^[\w.-]{8,64}$/);
      expect(first.headers['x-request-id']).not.toBe(second.headers['x-request-id']);
    });

    test('when a request carries a valid request id, then it is echoed; an invalid one is replaced', async () => {
      const incoming = unique('req-');

      const valid = await t.http.get('/').set('x-request-id', incoming);
      const invalid = await t.http.get('/').set('x-request-id', 'bad id <script>');
      const tooLong = await t.http.get('/').set('x-request-id', 'x'.repeat(65));

      expect(valid.headers['x-request-id']).toBe(incoming);
      expect(invalid.headers['x-request-id']).not.toContain('bad id');
      expect(invalid.headers['x-request-id']).toMatch(/^[\w.-]{8,64}$/);
      expect(tooLong.headers['x-request-id']).not.toBe('x'.repeat(65));
    });
  });

  describe('CORS with the default (localhost) allow-list', () => {
    test('when a localhost page calls the API, then its origin is echoed with credentials allowed', async () => {
      const res = await t.http.get('/api/order/menu').set('Origin', LOCAL_ORIGIN);

      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe(LOCAL_ORIGIN);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(res.headers.vary).toMatch(/Origin/i);
    });

    test('when a localhost page sends a preflight, then methods and headers including Authorization are allowed', async () => {
      const res = await t.http.options('/api/auth').set('Origin', LOCAL_ORIGIN).set('Access-Control-Request-Method', 'PUT').set('Access-Control-Request-Headers', 'content-type,authorization');

      expect(res.status).toBeLessThan(300);
      expect(res.headers['access-control-allow-origin']).toBe(LOCAL_ORIGIN);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      const methods = res.headers['access-control-allow-methods'].split(/,\s*/);
      expect(methods).toEqual(expect.arrayContaining(['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS']));
      const headers = res.headers['access-control-allow-headers'].toLowerCase().split(/,\s*/);
      expect(headers).toEqual(expect.arrayContaining(['content-type', 'authorization']));
    });

    test('when an error answer goes to a localhost page, then it carries CORS headers too (the page must read the message)', async () => {
      const res = await t.http.get('/api/user/me').set('Origin', LOCAL_ORIGIN);

      expect(res.status).toBe(401);
      expect(res.headers['access-control-allow-origin']).toBe(LOCAL_ORIGIN);
    });

    test.each([['http://localhost.evil.example'], ['http://evil.example'], ['null']])('when origin %s calls, then no CORS headers are sent', async (origin) => {
      const res = await t.http.get('/api/order/menu').set('Origin', origin);

      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    });
  });

  describe('probes', () => {
    test('when /healthz is called, then 200', async () => {
      const res = await t.http.get('/healthz');

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok' });
    });

    test('when /readyz is called with the database up, then 200 ready', async () => {
      const res = await t.http.get('/readyz');

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ready' });
    });
  });
});

describe('platform: a deployment with an explicit CORS allow-list and a 1kb body limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ env: { CORS_ORIGINS: 'https://pizza.example', BODY_LIMIT: '1kb' } });
  });
  afterAll(() => t.close());

  test('when the listed origin calls, then it is echoed with credentials and never *', async () => {
    const get = await t.http.get('/api/order/menu').set('Origin', 'https://pizza.example');
    const preflight = await t.http.options('/api/order').set('Origin', 'https://pizza.example').set('Access-Control-Request-Method', 'POST');

    expect(get.headers['access-control-allow-origin']).toBe('https://pizza.example');
    expect(get.headers['access-control-allow-credentials']).toBe('true');
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://pizza.example');
  });

  test.each([['https://evil.example'], ['https://pizza.example.evil.example'], ['http://pizza.example'], [LOCAL_ORIGIN]])(
    'when unlisted origin %s calls, then no CORS headers and its preflight is refused with 403 JSON',
    async (origin) => {
      const get = await t.http.get('/api/order/menu').set('Origin', origin);
      const preflight = await t.http.options('/api/auth').set('Origin', origin).set('Access-Control-Request-Method', 'PUT').set('Access-Control-Request-Headers', 'authorization');

      expect(get.headers['access-control-allow-origin']).toBeUndefined();
      expect(get.headers['access-control-allow-credentials']).toBeUndefined();
      expectCleanError(preflight, 403);
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    },
  );

  test('when a request has no Origin, then no wildcard origin is ever sent', async () => {
    for (const res of [await t.http.get('/'), await t.http.options('/api/auth'), await t.http.get('/api/order/menu').set('Origin', '*')]) {
      expect(res.headers['access-control-allow-origin']).not.toBe('*');
    }
  });

  test('when a JSON body is over BODY_LIMIT, then 413 JSON and nothing is created', async () => {
    const email = `${unique('big')}@test.jwt`;

    const res = await t.http.post('/api/auth').send({ name: 'x'.repeat(2000), email, password: 'secret-1' });

    expectCleanError(res, 413);
    expect(await t.ctx.db.selectFrom('users').select('id').where('email', '=', email).execute()).toEqual([]);
  });

  test('when a JSON body is under BODY_LIMIT, then it is handled normally', async () => {
    const email = `${unique('small')}@test.jwt`;

    const res = await t.http.post('/api/auth').send({ name: 'x'.repeat(90), email, password: 'secret-1' });

    expect(res.status).toBe(200);
  });
});

describe('platform: readiness when the database is gone', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(() => t.close());

  test('when the database is closed, then /readyz answers 503 JSON, /healthz stays 200, and API errors are generic', async () => {
    expect((await t.http.get('/readyz')).status).toBe(200);

    await t.database.close();

    const ready = await t.http.get('/readyz');
    expectCleanError(ready, 503);
    expect(ready.body.status).toBe('not ready');
    expect((await t.http.get('/healthz')).status).toBe(200);
    const register = await t.http.post('/api/auth').send({ name: 'n', email: `${unique('down')}@test.jwt`, password: 'secret-1' });
    expect(register.status).toBeGreaterThanOrEqual(500);
    expectCleanError(register, register.status);
    expect(register.body.message).toMatch(/internal server error|temporarily unavailable/);
    expect(register.body.requestId).toBe(register.headers['x-request-id']);
    expect(t.logs().some((line) => line.reqId === register.headers['x-request-id'] && line.level === 'error')).toBe(true);
  });
});
