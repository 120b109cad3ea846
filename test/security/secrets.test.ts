import { Writable } from 'node:stream';
import { ConfigError, loadConfig } from '../../src/config';
import { createLogger } from '../../src/shared/logging/logger';
import { startService } from '../../src/service';
import { bearer, buildTestApp, FACTORY_API_KEY, unique, type TestApp } from '../helpers/app';
import { buildWorld, failedOrder, freePort, routeCatalogue, routeKey, type World } from './support';

// Sensitive data exposure (OWASP A02/A05/A09): after a run over every endpoint, no secret appears in a
// response body other than where it belongs, in any log line, in /metrics or in /api/docs; production
// configuration refuses weak or missing secrets.

const BCRYPT_HASH = /\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}/;

interface Answer {
  key: string;
  status: number;
  text: string;
  headers: Record<string, unknown>;
  body: any;
}

describe('secrets over a run of every endpoint', () => {
  let t: TestApp;
  let w: World;
  const answers: Answer[] = [];
  const passwords = new Set<string>();
  const tokens = new Set<string>();
  const pizzaJwts = new Set<string>();

  async function call(method: string, path: string, key: string, options: { token?: string; body?: unknown } = {}) {
    const verb = method.toLowerCase() as 'get' | 'post' | 'put' | 'delete';
    let request = t.http[verb](path);
    if (options.token) request = request.set('Authorization', `Bearer ${options.token}`);
    const res = options.body === undefined ? await request : await request.send(options.body as object);
    answers.push({ key, status: res.status, text: res.text, headers: res.headers, body: res.body });
    if (typeof res.body?.token === 'string') tokens.add(res.body.token);
    if (typeof res.body?.jwt === 'string') pizzaJwts.add(res.body.jwt);
    return res;
  }

  beforeAll(async () => {
    t = await buildTestApp();
    w = await buildWorld(t);
    for (const user of [w.admin, w.diner, w.ownFranchisee, w.otherFranchisee]) {
      passwords.add(user.password);
      tokens.add(user.token);
    }
    const admin = w.admin.token;
    const newPassword = `new-pw-${unique()}`;
    const registerPassword = `register-pw-${unique()}`;
    const wrongPassword = `wrong-pw-${unique()}`;
    [newPassword, registerPassword, wrongPassword].forEach((p) => passwords.add(p));

    const registered = await call('POST', '/api/auth', 'POST /api/auth', { body: { name: 'secret keeper', email: `${unique()}@test.jwt`, password: registerPassword } });
    await call('PUT', '/api/auth', 'PUT /api/auth', { body: { email: w.diner.email, password: w.diner.password } });
    await call('PUT', '/api/auth', 'PUT /api/auth', { body: { email: w.diner.email, password: wrongPassword } });
    await call('PUT', '/api/auth', 'PUT /api/auth', { body: { email: `nobody-${unique()}@test.jwt`, password: wrongPassword } });
    await call('GET', '/api/user/me', 'GET /api/user/me', { token: w.diner.token });
    await call('PUT', `/api/user/${registered.body.user.id}`, 'PUT /api/user/:userId', { token: registered.body.token, body: { name: 'renamed', password: newPassword } });
    await call('PUT', `/api/user/${w.otherFranchisee.id}`, 'PUT /api/user/:userId', { token: admin, body: { name: 'edited by admin' } });
    await call('GET', '/api/user?page=1&limit=100&name=*', 'GET /api/user', { token: admin });
    await call('GET', '/api/order/menu', 'GET /api/order/menu');
    await call('PUT', '/api/order/menu', 'PUT /api/order/menu', { token: admin, body: { title: 'Secretless', description: 'x', image: 'pizza9.png', price: 0.001 } });
    await call('POST', '/api/order', 'POST /api/order', { token: w.diner.token, body: { franchiseId: w.franchise.id, storeId: w.franchise.store.id, items: [{ menuId: 1 }] } });
    await call('GET', '/api/order?page=1', 'GET /api/order', { token: w.diner.token });
    const failedId = await failedOrder(t, w);
    t.simulator.simulator.chaos.activate('badjwt');
    await call('POST', '/api/order', 'POST /api/order', { token: w.diner.token, body: { franchiseId: w.franchise.id, storeId: w.franchise.store.id, items: [{ menuId: 2 }] } });
    t.simulator.simulator.chaos.end();
    await call('POST', `/api/order/${failedId}/retry`, 'POST /api/order/:orderId/retry', { token: w.diner.token });
    await call('GET', '/api/order/failures', 'GET /api/order/failures', { token: admin });
    await call('GET', '/api/order/failures', 'GET /api/order/failures', { token: w.diner.token });
    await call('GET', '/api/order/factory', 'GET /api/order/factory', { token: admin });
    await call('POST', '/api/order/factory/report', 'POST /api/order/factory/report', { token: admin });
    await call('GET', '/api/franchise?page=0&limit=10&name=*', 'GET /api/franchise');
    await call('GET', '/api/franchise?page=0&limit=10&name=*', 'GET /api/franchise', { token: admin });
    await call('GET', `/api/franchise/${w.ownFranchisee.id}`, 'GET /api/franchise/:userId', { token: w.ownFranchisee.token });
    const franchise = await call('POST', '/api/franchise', 'POST /api/franchise', { token: admin, body: { name: unique('franchise'), admins: [{ email: w.diner.email }] } });
    const store = await call('POST', `/api/franchise/${franchise.body.id}/store`, 'POST /api/franchise/:franchiseId/store', { token: admin, body: { name: 'temp' } });
    await call('DELETE', `/api/franchise/${franchise.body.id}/store/${store.body.id}`, 'DELETE /api/franchise/:franchiseId/store/:storeId', { token: admin });
    await call('DELETE', `/api/franchise/${franchise.body.id}`, 'DELETE /api/franchise/:franchiseId', { token: admin });
    await call('DELETE', `/api/user/${registered.body.user.id}`, 'DELETE /api/user/:userId', { token: admin });
    await call('DELETE', '/api/auth', 'DELETE /api/auth', { token: w.otherFranchisee.token });
    await call('GET', '/api/docs', 'GET /api/docs');
    await call('GET', '/api/openapi.json', 'GET /api/openapi.json');
    await call('GET', '/', 'GET /');
    await call('GET', '/.env', 'probe');
    await call('GET', '/api/user/me', 'GET /api/user/me', { token: `${w.admin.token}x` });
    await call('GET', '/metrics', 'GET /metrics');
  });
  afterAll(() => t.close());

  function secrets(): [string, string][] {
    const list: [string, string][] = [
      ['JWT secret', t.config.jwt.secret],
      ['factory API key', FACTORY_API_KEY],
    ];
    for (const p of passwords) list.push(['a password', p]);
    for (const token of tokens) {
      list.push(['a bearer token', token]);
      list.push(["a bearer token's signature", token.split('.')[2]]);
    }
    for (const jwt of pizzaJwts) list.push(["a pizza JWT's signature", jwt.split('.')[2]]);
    return list;
  }

  /** The answer without the one field where a secret belongs: the caller's token, the diner's pizza. */
  function withoutRightfulSecrets(answer: Answer): string {
    const body = answer.body && typeof answer.body === 'object' ? JSON.parse(JSON.stringify(answer.body)) : undefined;
    if (!body) return answer.text;
    if (['POST /api/auth', 'PUT /api/auth', 'PUT /api/user/:userId'].includes(answer.key)) delete body.token;
    if (['POST /api/order', 'POST /api/order/:orderId/retry'].includes(answer.key)) delete body.jwt;
    return JSON.stringify(body);
  }

  test('when every endpoint has been called, then the run covered the whole catalogue', async () => {
    const called = new Set(answers.map((a) => a.key));
    expect((await routeCatalogue(t)).map(routeKey).filter((key) => !called.has(key))).toEqual([]);
    expect(pizzaJwts.size).toBeGreaterThanOrEqual(2);
  });

  test('when responses are scanned, then no secret appears outside the field it belongs to, and no password hash at all', () => {
    const leaks: string[] = [];
    for (const answer of answers) {
      const text = withoutRightfulSecrets(answer) + JSON.stringify(answer.headers);
      for (const [name, value] of secrets()) if (value && text.includes(value)) leaks.push(`${name} in ${answer.key} (${answer.status})`);
      if (BCRYPT_HASH.test(text)) leaks.push(`a bcrypt hash in ${answer.key}`);
      if (/set-cookie/i.test(JSON.stringify(answer.headers))) leaks.push(`a cookie set by ${answer.key}`);
    }
    expect(leaks).toEqual([]);
  });

  test("when a diner's order fails, then the answer carries no report URL, no factory key and no factory internals", () => {
    const dinerFailures = answers.filter((a) => a.key.startsWith('POST /api/order') && a.status >= 500);
    expect(dinerFailures.length).toBeGreaterThanOrEqual(1);
    for (const answer of dinerFailures) {
      expect(answer.body).toEqual({ message: 'Failed to fulfill order at factory', orderId: expect.any(Number), reason: expect.any(String), requestId: expect.any(String) });
    }
  });

  test('when the log is scanned, then it holds no secret, no full token, no pizza signature and no password hash', () => {
    const logs = t.rawLogs();
    expect(logs.length).toBeGreaterThan(1000);
    const leaks = secrets()
      .filter(([, value]) => value && logs.includes(value))
      .map(([name]) => name);
    expect(leaks).toEqual([]);
    expect(logs).not.toMatch(BCRYPT_HASH);
    // The report URL is logged for on-call, with the key redacted.
    expect(logs).toMatch(/api\/support\/\[REDACTED\]\/report\//);
  });

  test('when /metrics is scanned, then it holds no secret and no user data', async () => {
    const metrics = (await t.http.get('/metrics')).text;
    const leaks = secrets()
      .filter(([, value]) => value && metrics.includes(value))
      .map(([name]) => name);
    expect(leaks).toEqual([]);
    expect(metrics).not.toMatch(/@test\.jwt|eyJ|api\/support/);
  });

  test('when /api/docs and the OpenAPI document are read, then they list no credentials, no database and no demo passwords', async () => {
    for (const path of ['/api/docs', '/api/openapi.json']) {
      const text = (await t.http.get(path)).text;
      expect(text).not.toMatch(/"password"\s*:\s*"(?!<password>)[^"]+"|mysql:\/\/|sqlite:|jwt-secret|DATABASE_URL/i);
      expect(text).not.toMatch(/\\"password\\"\s*:\s*\\"(?!<password>)/);
      for (const [name, value] of secrets()) expect([name, text.includes(value)]).toEqual([name, false]);
      for (const demo of ["'admin'", '"admin"', '"diner"', '"franchisee"', 'toomanysecrets']) expect(text).not.toContain(`password":${demo}`);
    }
    const docs = (await t.http.get('/api/docs')).body;
    expect(Object.keys(docs.config)).toEqual(['factory']);
  });
});

describe('secrets in error paths and configuration', () => {
  test('when the database cannot be reached at start-up, then neither the log nor the error carries the database password', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const dbPassword = `db-pass-${unique()}`;
    const config = loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: `mysql://pizza:${dbPassword}@127.0.0.1:${await freePort()}/pizza`,
      DB_TIMEOUT_MS: '1000',
      PORT: '0',
      FACTORY_PORT: '0',
      LOG_LEVEL: 'info',
    });
    const error = await startService(config, { logDestination: destination as any }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect(`${error?.message} ${error?.stack}`).not.toContain(dbPassword);
    expect(lines.join('')).toMatch(/database start-up failed/);
    expect(lines.join('')).not.toContain(dbPassword);
  });

  test('when a database error carrying its SQL (with a password hash in the values) is logged, then the SQL text is not written', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } as any });
    const hash = '$2b$10$abcdefghijklmnopqrstuuN3Xn1qfJYlV8oG3KpWvGQ3.7Zl9xG2i';
    const error = Object.assign(new Error("Incorrect string value: '\\xF0\\x9F\\x8D\\x95' for column `users`.`name` at row 1"), {
      code: 'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD',
      sql: `insert into \`users\` (\`name\`, \`email\`, \`password_hash\`) values ('x', 'x@test.jwt', '${hash}')`,
    });
    logger.error({ type: 'error', err: error }, 'unhandled error');
    expect(lines.join('')).toMatch(/ER_TRUNCATED_WRONG_VALUE_FOR_FIELD/);
    expect(lines.join('')).not.toContain(hash);
  });

  const production = {
    NODE_ENV: 'production',
    DATABASE_URL: 'mysql://pizza:db-password-value@db.internal:3306/pizza',
    JWT_SECRET: 'a'.repeat(16) + 'production-secret-0123456789',
    FACTORY_URL: 'https://factory.example.com',
    FACTORY_API_KEY: 'factory-key-value',
    ADMIN_EMAIL: 'ops@example.com',
    ADMIN_PASSWORD: 'correct horse battery staple',
    DATA_DIR: '/nonexistent-data-dir',
    METRICS_TOKEN: 'metrics-token-value',
    TRUST_PROXY: 'none',
  };

  function configProblem(env: Record<string, string | undefined>): string {
    try {
      loadConfig(env as NodeJS.ProcessEnv);
    } catch (error) {
      if (error instanceof ConfigError) return error.message;
      throw error;
    }
    return '';
  }

  test('when production is configured properly, then it loads with no demo data, no CORS grant and real bcrypt', () => {
    const config = loadConfig(production);
    expect(config.seedDemoData).toBe(false);
    expect(config.corsOrigins).toBe('none');
    expect(config.bcryptRounds).toBeGreaterThanOrEqual(10);
  });

  test.each([
    ['a missing JWT secret', { JWT_SECRET: undefined }, /JWT_SECRET/],
    ['a short JWT secret', { JWT_SECRET: 'short-secret' }, /JWT_SECRET/],
    ['a well-known admin password', { ADMIN_PASSWORD: 'admin' }, /ADMIN_PASSWORD/],
    ['a well-known admin password in capitals', { ADMIN_PASSWORD: 'Password' }, /ADMIN_PASSWORD/],
    ['the course demo password', { ADMIN_PASSWORD: 'toomanysecrets' }, /ADMIN_PASSWORD/],
    ['a short admin password', { ADMIN_PASSWORD: 'Xy7!short' }, /ADMIN_PASSWORD/],
    ['an admin email without password', { ADMIN_PASSWORD: undefined }, /ADMIN_EMAIL and ADMIN_PASSWORD/],
    ['a missing factory URL (the simulator makes no pizzas)', { FACTORY_URL: undefined }, /FACTORY_URL/],
    ['a factory URL without API key', { FACTORY_API_KEY: undefined }, /FACTORY_API_KEY/],
    ['cheap bcrypt', { BCRYPT_ROUNDS: '4' }, /BCRYPT_ROUNDS/],
    ['demo accounts with well-known passwords', { SEED_DEMO_DATA: 'true' }, /SEED_DEMO_DATA/],
    ['/metrics public (no token, no separate port)', { METRICS_TOKEN: undefined }, /METRICS_TOKEN or METRICS_PORT/],
    ['no TRUST_PROXY (neither a proxy named nor an explicit none)', { TRUST_PROXY: undefined }, /TRUST_PROXY: required in production/],
    ['TRUST_PROXY=true (every peer believed)', { TRUST_PROXY: 'true' }, /TRUST_PROXY/],
  ])('when production has %s, then the configuration is refused and names the key without echoing secrets', (_name, change, key) => {
    const problem = configProblem({ ...production, ...change });
    expect(problem).toMatch(key);
    for (const secret of ['db-password-value', 'factory-key-value', 'metrics-token-value', production.JWT_SECRET, 'correct horse battery staple', 'Xy7!short']) expect(problem).not.toContain(secret);
  });

  test('when the database URL is malformed, then the error does not echo its password', () => {
    const problem = configProblem({ ...production, DATABASE_URL: 'mysql://pizza:hunter2-db-secret@' });
    expect(problem).toMatch(/DATABASE_URL/);
    expect(problem).not.toContain('hunter2-db-secret');
  });
});

describe('a production-like app', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ env: { METRICS_TOKEN: `metrics-token-${unique()}` } });
  });
  afterAll(() => t.close());

  test('when METRICS_TOKEN is set, then /metrics needs it and a wrong token gets a JSON 401', async () => {
    expect((await t.http.get('/metrics')).status).toBe(401);
    expect((await t.http.get('/metrics').set('Authorization', 'Bearer wrong')).body).toEqual({ message: 'unauthorized' });
    expect((await t.http.get('/metrics').set('Authorization', bearer({ token: t.config.metrics.token! }))).status).toBe(200);
  });
});
