import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './otlpReceiver';
import { ADMIN, JWT_SECRET, call, startBuiltService, waitFor, type Answer, type BuiltService } from './support';

const FACTORY_API_KEY = 'factory-vendor-key-5e1f0c2b9d';
const FACTORY_ADMIN_KEY = 'factory-chaos-key-77d3a41e';
const OTLP_CREDENTIAL = 'Basic c3RhY2stNDI6Z2xjX3NlY3JldC1vdGxwLXRva2Vu';

/** Everything a span could carry: its name, attributes, events, status message and resource. */
function spanText(span: ReceivedSpan): string {
  return JSON.stringify([span.name, span.attributes, span.events, span.status.message, span.resource, span.scope]);
}

const backends: ('sqlite' | 'mysql')[] = process.env.TEST_MYSQL_URL ? ['sqlite', 'mysql'] : ['sqlite'];

/**
 * A representative full flow at 100% sampling through the built service (every span the SDK and our manual
 * spans make, on the real entry point): register, logins with right and wrong passwords, authenticated
 * reads, a profile change with a new password, searches, orders that succeed and fail (the failure's report
 * URL embeds the factory API key), retries, every admin action, logout, and hostile input. Every span is
 * then searched for each secret and each value the flow sent.
 */
describe.each(backends)('span contents on %s: no secret, password, token or SQL value in any span', (backend) => {
  let receiver: OtlpReceiver;
  let service: BuiltService;
  let dropDatabase: (() => Promise<void>) | undefined;
  let simulatorUrl: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    let databaseUrl: string | undefined;
    if (backend === 'mysql') {
      const base = new URL(process.env.TEST_MYSQL_URL!);
      const name = `spansecrets_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
      const mysql = await import('mysql2/promise');
      const connect = () => mysql.createConnection({ host: base.hostname, port: Number(base.port || 3306), user: decodeURIComponent(base.username), password: decodeURIComponent(base.password) });
      const conn = await connect();
      await conn.query(`CREATE DATABASE \`${name}\``);
      await conn.end();
      base.pathname = `/${name}`;
      databaseUrl = base.toString();
      dropDatabase = async () => {
        const c = await connect();
        await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
        await c.end();
      };
    }
    service = await startBuiltService({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_HEADERS: `Authorization=${OTLP_CREDENTIAL}`,
      OTEL_TRACES_SAMPLER: 'always_on',
      FACTORY_API_KEY,
      FACTORY_ADMIN_KEY,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    });
    simulatorUrl = service.logs().find((line) => line.msg === 'embedded factory simulator started')!.url;
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await receiver?.close();
    await dropDatabase?.();
  });

  test('when the whole flow has run, then no span holds any of them', async () => {
    const tag = `${backend}${Date.now().toString(36)}`;
    const secrets = new Set<string>([JWT_SECRET, FACTORY_API_KEY, FACTORY_ADMIN_KEY, ADMIN.password, OTLP_CREDENTIAL, OTLP_CREDENTIAL.slice('Basic '.length)]);
    const values = new Set<string>();
    const answers: Answer[] = [];
    const remember = (answer: Answer) => {
      answers.push(answer);
      if (typeof answer.body?.token === 'string') secrets.add(answer.body.token);
      if (typeof answer.body?.jwt === 'string') secrets.add(answer.body.jwt);
      return answer;
    };
    const chaos = (type: string) => fetch(`${simulatorUrl}/api/chaos/${type}`, { method: 'PUT', headers: { authorization: `Bearer ${FACTORY_ADMIN_KEY}`, 'content-type': 'application/json' }, body: '{}' });

    const adminToken = remember(await call(service.url, 'PUT', '/api/auth', { body: ADMIN })).body.token as string;
    const diner = { name: `Sekrit Name ${tag}`, email: `sekrit-${tag}@tracing.test`, password: `diner-password-${tag}` };
    const newPassword = `changed-password-${tag}`;
    const hostile = `x' OR '1'='1' -- ${tag}`;
    for (const value of [diner.name, diner.email]) values.add(value);
    secrets.add(diner.password).add(newPassword);
    values.add(hostile);

    const registered = remember(await call(service.url, 'POST', '/api/auth', { body: diner }));
    expect(registered.status).toBe(200);
    const dinerId = registered.body.user.id as number;
    let token = registered.body.token as string;
    remember(await call(service.url, 'PUT', '/api/auth', { body: { email: diner.email, password: `wrong-${diner.password}` } }));
    remember(await call(service.url, 'PUT', '/api/auth', { body: { email: hostile, password: hostile } }));
    token = remember(await call(service.url, 'PUT', '/api/auth', { body: { email: diner.email, password: diner.password } })).body.token;
    remember(await call(service.url, 'GET', '/api/user/me', { token }));
    remember(await call(service.url, 'GET', '/api/user/me', { token: `${token.slice(0, -4)}AAAA` }));
    const renamed = `Renamed ${tag}`;
    values.add(renamed);
    token = remember(await call(service.url, 'PUT', `/api/user/${dinerId}`, { token, body: { name: renamed, email: diner.email, password: newPassword } })).body.token ?? token;

    const franchiseName = `Franchise ${tag}`;
    values.add(franchiseName);
    const franchise = remember(await call(service.url, 'POST', '/api/franchise', { token: adminToken, body: { name: franchiseName, admins: [{ email: diner.email }] } }));
    expect(franchise.status).toBe(200);
    const store = remember(await call(service.url, 'POST', `/api/franchise/${franchise.body.id}/store`, { token: adminToken, body: { name: `Store ${tag}` } }));
    values.add(`Store ${tag}`);
    remember(await call(service.url, 'GET', `/api/franchise?page=0&limit=10&name=${encodeURIComponent(`*${tag}*`)}`, { token: adminToken }));
    remember(await call(service.url, 'GET', `/api/user?page=1&limit=10&name=${encodeURIComponent(`*${tag}*`)}`, { token: adminToken }));
    remember(await call(service.url, 'GET', `/api/franchise/${dinerId}`, { token }));

    const orderBody = { franchiseId: franchise.body.id, storeId: store.body.id, items: [{ menuId: 1 }, { menuId: 3 }] };
    const fulfilled = remember(await call(service.url, 'POST', '/api/order', { token, body: orderBody, headers: { 'idempotency-key': `idem-${tag}` } }));
    expect(fulfilled.status).toBe(200);
    values.add(`idem-${tag}`);
    expect((await chaos('fail')).status).toBe(200);
    const failed = remember(await call(service.url, 'POST', '/api/order', { token, body: orderBody }));
    expect(failed.status).toBe(502);
    const failures = remember(await call(service.url, 'GET', '/api/order/failures', { token: adminToken }));
    expect(failures.body.failures.length).toBeGreaterThan(0);
    remember(await call(service.url, 'GET', '/api/order/factory', { token: adminToken }));
    remember(await call(service.url, 'POST', '/api/order/factory/report', { token: adminToken }));
    remember(await call(service.url, 'POST', `/api/order/${failed.body.orderId}/retry`, { token }));
    await chaos('badjwt');
    remember(await call(service.url, 'POST', '/api/order', { token, body: orderBody }));
    await chaos('none');
    remember(await call(service.url, 'GET', '/api/order?page=1', { token }));
    remember(await call(service.url, 'POST', '/api/order', { token, body: { ...orderBody, items: [{ menuId: hostile }] } }));
    remember(await call(service.url, 'DELETE', `/api/franchise/${franchise.body.id}/store/${store.body.id}`, { token: adminToken }));
    remember(await call(service.url, 'DELETE', `/api/franchise/${franchise.body.id}`, { token: adminToken }));
    remember(await call(service.url, 'GET', `/.env?password=${encodeURIComponent(diner.password)}`));
    remember(await call(service.url, 'DELETE', '/api/auth', { token }));
    remember(await call(service.url, 'DELETE', `/api/user/${dinerId}`, { token: adminToken }));

    // The flow did what it should, so the spans describe real work: answers of every kind, nothing 5xx but the factory's.
    expect(answers.filter((a) => a.status >= 500).every((a) => a.body?.reason !== undefined || a.body?.orderId !== undefined)).toBe(true);
    const traceIds = new Set(answers.map((a) => /^00-([\da-f]{32})-/.exec(a.headers.get('traceresponse') ?? '')?.[1]).filter(Boolean));
    expect(traceIds.size).toBe(answers.length);
    await receiver.waitForSpans('every request of the flow', (spans) => [...traceIds].every((id) => spans.some((s) => s.traceId === id && s.parentSpanId === '')));
    await new Promise((resolve) => setTimeout(resolve, 300));

    const spans = receiver.spans;
    expect(spans.filter((s) => s.attributes['db.query.text'] !== undefined).length).toBeGreaterThan(40);
    expect(spans.some((s) => s.name === 'factory create pizza' && s.attributes['factory.outcome'] === 'factory_error')).toBe(true);
    expect(spans.some((s) => s.name === 'jwt verify' && s.attributes['auth.jwt.valid'] === false)).toBe(true);
    const leaks: string[] = [];
    for (const span of spans) {
      const text = spanText(span);
      for (const secret of secrets) if (text.includes(secret)) leaks.push(`${span.name}: a secret (${secret.slice(0, 6)}…)`);
      for (const value of values) if (text.includes(value) || text.includes(encodeURIComponent(value))) leaks.push(`${span.name}: a value sent by the flow (${value})`);
      if (/eyJ[\w-]+\.eyJ[\w-]+/.test(text)) leaks.push(`${span.name}: something shaped like a JWT`);
      if (/\$2[aby]\$\d\d\$/.test(text)) leaks.push(`${span.name}: a bcrypt hash`);
      if (/bearer\s+\S/i.test(text)) leaks.push(`${span.name}: a bearer credential`);
    }
    expect(leaks).toEqual([]);
    // The probe was traced, with its query string's key only and without its (unknown) path.
    const probe = spans.find((s) => s.attributes['http.route'] === 'unmatched' && s.attributes['url.query'] === 'password=REDACTED');
    expect(probe).toBeDefined();
    expect(probe!.attributes['url.path']).toBeUndefined();
    await waitFor('log lines flushed', () => service.logs().some((line) => line.type === 'http' && line.path === '/api/user/' + dinerId));
  });
});
