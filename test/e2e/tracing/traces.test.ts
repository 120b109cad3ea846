import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './otlpReceiver';
import { call, setUpShop, startBuiltService, traceIdOf, waitFor, type BuiltService } from './support';

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;
const STATUS_ERROR = 2;

/** A private MariaDB database on TEST_MYSQL_URL's server, dropped afterwards. */
async function mysqlDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = new URL(process.env.TEST_MYSQL_URL!);
  const name = `tracing_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const mysql = await import('mysql2/promise');
  const admin = () => mysql.createConnection({ host: base.hostname, port: Number(base.port || 3306), user: decodeURIComponent(base.username), password: decodeURIComponent(base.password) });
  const conn = await admin();
  await conn.query(`CREATE DATABASE \`${name}\``);
  await conn.end();
  const url = new URL(base.toString());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = await admin();
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    },
  };
}

const backends: ('sqlite' | 'mysql')[] = ['sqlite'];
if (process.env.TEST_MYSQL_URL) backends.push('mysql');
else if (process.env.CI === 'true') throw new Error('CI=true but TEST_MYSQL_URL is not set: the MariaDB trace test is mandatory in CI');

describe.each(backends)('tracing on %s: one order is one trace across the service, its database and the factory', (backend) => {
  let receiver: OtlpReceiver;
  let service: BuiltService;
  let database: { url: string; drop(): Promise<void> } | undefined;
  let simulatorUrl: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    database = backend === 'mysql' ? await mysqlDatabase() : undefined;
    service = await startBuiltService({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      // The Grafana Cloud OTLP gateway form: basic auth as a header list.
      OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Basic MTIzNDU2OmdsY190cmFjaW5nLXRlc3Q=',
      OTEL_RESOURCE_ATTRIBUTES: 'team=pizza-oncall',
      INSTANCE_ID: 'tracing-test-instance',
      FACTORY_ADMIN_KEY: 'tracing-chaos-key',
      ...(database ? { DATABASE_URL: database.url } : {}),
    });
    simulatorUrl = service.logs().find((line) => line.msg === 'embedded factory simulator started')!.url;
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await receiver?.close();
    await database?.drop();
  });

  const spansOf = (traceId: string) => receiver.spans.filter((span) => span.traceId === traceId);

  test('when a diner orders, then the request span parents the SQL spans and the factory span, the factory saw its traceparent, and the request\'s log lines carry the trace id', async () => {
    const shop = await setUpShop(service.url, `trace-${backend}`);
    const order = await call(service.url, 'POST', '/api/order', { token: shop.diner.token, body: { franchiseId: shop.franchiseId, storeId: shop.storeId, items: [{ menuId: 1 }, { menuId: 2 }] } });
    expect(order.status).toBe(200);
    const traceId = traceIdOf(order);

    // The service's server span and its factory span, and the simulator's server span (same process, also instrumented).
    await receiver.waitForSpans('the order trace', () => spansOf(traceId).some((s) => s.name === 'factory create pizza') && spansOf(traceId).filter((s) => s.kind === SPAN_KIND_SERVER).length >= 2);
    const spans = spansOf(traceId);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const request = spans.find((s) => s.kind === SPAN_KIND_SERVER && s.name === 'POST /api/order' && s.parentSpanId === '')!;
    expect(request).toBeDefined();
    expect(request.attributes).toMatchObject({ 'http.route': '/api/order', 'http.request.method': 'POST', 'http.response.status_code': 200 });

    const sql = spans.filter((s) => s.attributes['db.system.name'] !== undefined);
    expect(sql.length).toBeGreaterThanOrEqual(4);
    for (const statement of sql) {
      expect(statement.parentSpanId).toBe(request.spanId);
      expect(statement.kind).toBe(SPAN_KIND_CLIENT);
      expect(statement.attributes['db.system.name']).toBe(backend);
    }
    // Every statement ran inside the request; the ones that did not are named. The SDK (sdk-trace-base 2.x, Span's
    // constructor) starts a span at Date.now(), a whole millisecond, and ends it at that start plus a precise
    // duration, so two spans' times are comparable only to within 1 ms: a statement's end was seen to trail the
    // request's by 79 µs, and a statement that started after the factory span ended can show a start before its
    // end. Starts keep their order (a floor keeps order); ends and start-after-end comparisons allow the quantum.
    const QUANTUM_NS = 1_000_000n;
    const outside = (s: (typeof sql)[number]) => s.startNs < request.startNs || s.endNs > request.endNs + QUANTUM_NS;
    expect(sql.filter(outside).map((s) => `${String(s.attributes['db.query.text'])} (${s.startNs - request.startNs} to ${s.endNs - request.endNs} ns from the request's ends)`)).toEqual([]);
    const statements = sql.map((s) => String(s.attributes['db.query.text']));
    expect(statements.some((text) => /^insert into [`"]orders[`"]/i.test(text))).toBe(true);
    expect(statements.some((text) => /^update [`"]?orders\b/i.test(text))).toBe(true);
    // Statement shapes: the values are bound parameters, never in the text.
    expect(statements.join('\n')).not.toContain(shop.diner.email);
    expect(statements.some((text) => text.includes('?'))).toBe(true);

    const factory = spans.find((s) => s.name === 'factory create pizza')!;
    expect(factory.parentSpanId).toBe(request.spanId);
    expect(factory.kind).toBe(SPAN_KIND_CLIENT);
    expect(factory.attributes).toMatchObject({ 'factory.outcome': 'fulfilled', 'http.response.status_code': 200, 'factory.attempts': 1, 'factory.circuit': 'closed', 'order.id': order.body.order.id });
    expect(factory.status.code).not.toBe(STATUS_ERROR);
    // SQL before and after the factory call: the pending insert precedes it, the fulfilling update follows it
    // (to within the SDK's 1 ms quantum, above).
    const insertOrder = sql.find((s) => /^insert into [`"]orders[`"]/i.test(String(s.attributes['db.query.text'])))!;
    const settleOrder = sql.find((s) => /^update [`"]?orders\b/i.test(String(s.attributes['db.query.text'])))!;
    expect(insertOrder.endNs).toBeLessThanOrEqual(factory.startNs + QUANTUM_NS);
    expect(settleOrder.startNs).toBeGreaterThanOrEqual(factory.endNs - QUANTUM_NS);

    const simulatorSpan = spans.find((s) => s.kind === SPAN_KIND_SERVER && s.parentSpanId === factory.spanId);
    expect(simulatorSpan?.name).toBe('POST /api/order');
    expect(spans.every((s) => s.spanId === request.spanId || byId.has(s.parentSpanId))).toBe(true);

    const jwt = spansOf(traceId).find((s) => s.name === 'jwt verify');
    expect(jwt?.parentSpanId).toBe(request.spanId);
    expect(jwt?.attributes['auth.jwt.valid']).toBe(true);

    // Resource: who sent it, and the standard variables honoured.
    expect(request.resource).toMatchObject({ 'service.name': 'jwt-pizza-service', 'service.instance.id': 'tracing-test-instance', 'deployment.environment.name': 'test', team: 'pizza-oncall' });
    expect(request.resource['service.version']).toMatch(/^\d+\.\d+\.\d+/);
    expect(receiver.exports.every((e) => e.headers.authorization === 'Basic MTIzNDU2OmdsY190cmFjaW5nLXRlc3Q=' && e.contentType === 'application/x-protobuf')).toBe(true);
    expect(receiver.undecodable).toEqual([]);

    // Logs: the access line, the factory lines and the simulator's receipt, all with the trace id.
    const lines = await waitFor('the order\'s log lines', () => {
      const found = service.logs().filter((line) => line.trace_id === traceId);
      return found.some((line) => line.type === 'http') && found.some((line) => line.event === 'order_received') ? found : undefined;
    });
    const access = lines.find((line) => line.type === 'http')!;
    expect(access).toMatchObject({ route: '/api/order', status: 200, span_id: request.spanId });
    expect(lines.some((line) => line.type === 'factory' && line.orderId === order.body.order.id && line.msg === 'factory order fulfilled')).toBe(true);
    const received = lines.find((line) => line.event === 'order_received')!;
    expect(received.traceparent).toBe(`00-${traceId}-${factory.spanId}-01`);
    expect(received.parent_span_id).toBe(factory.spanId);
  });

  test('when the factory fails an order, then the factory span carries the outcome and status, and the failed order in the admin view leads to its trace', async () => {
    const shop = await setUpShop(service.url, `fail-${backend}`);
    const chaos = await fetch(`${simulatorUrl}/api/chaos/fail`, { method: 'PUT', headers: { authorization: 'Bearer tracing-chaos-key', 'content-type': 'application/json' }, body: '{}' });
    expect(chaos.status).toBe(200);
    try {
      const order = await call(service.url, 'POST', '/api/order', { token: shop.diner.token, body: { franchiseId: shop.franchiseId, storeId: shop.storeId, items: [{ menuId: 1 }] } });
      expect(order.status).toBe(502);
      const traceId = traceIdOf(order);
      await receiver.waitForSpans('the failed order trace', () => spansOf(traceId).some((s) => s.name === 'factory create pizza') && spansOf(traceId).some((s) => s.name === 'POST /api/order' && s.parentSpanId === ''));
      const factory = spansOf(traceId).find((s) => s.name === 'factory create pizza')!;
      expect(factory.attributes).toMatchObject({ 'factory.outcome': 'factory_error', 'http.response.status_code': 500, 'factory.attempts': 1 });
      expect(factory.status).toMatchObject({ code: STATUS_ERROR, message: 'factory_error' });
      const request: ReceivedSpan = spansOf(traceId).find((s) => s.parentSpanId === '')!;
      expect(request.attributes['http.response.status_code']).toBe(502);
      // The 5xx body's requestId finds the request's log line, which names the trace.
      expect(order.body.requestId).toBe(order.headers.get('x-request-id'));
      const access = await waitFor('the 502\'s access line', () => service.logs().find((l) => l.type === 'http' && l.reqId === order.body.requestId));
      expect(access).toMatchObject({ status: 502, trace_id: traceId, span_id: request.spanId });

      const failures = await call(service.url, 'GET', '/api/order/failures?limit=5', { token: shop.adminToken });
      const listed = failures.body.failures.find((f: { orderId: number }) => f.orderId === order.body.orderId);
      // The view names the trace itself (stored with the failed order), and the order's log line names it too.
      expect(listed).toMatchObject({ reason: 'factory_error', traceId });
      const line = await waitFor('the failed order\'s log line', () => service.logs().find((l) => l.msg === 'order failed at factory' && l.orderId === listed.orderId));
      expect(line.trace_id).toBe(traceId);
    } finally {
      await fetch(`${simulatorUrl}/api/chaos/none`, { method: 'PUT', headers: { authorization: 'Bearer tracing-chaos-key', 'content-type': 'application/json' }, body: '{}' });
    }
  });
});

describe('tracing sampled at a ratio, parent-based', () => {
  let receiver: OtlpReceiver;
  let service: BuiltService;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    service = await startBuiltService({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' });
  }, 60_000);
  afterAll(async () => {
    await service?.stop();
    await receiver?.close();
  });

  test('when a root trace is not sampled, then nothing is exported but its log lines still name it; when the caller sampled it, then it is exported', async () => {
    const unsampled = await call(service.url, 'GET', '/api/order/menu');
    expect(unsampled.headers.get('traceresponse')).toMatch(/-00$/);
    const unsampledId = traceIdOf(unsampled);
    await waitFor('the unsampled request\'s log line', () => service.logs().find((line) => line.type === 'http' && line.trace_id === unsampledId));

    const callerTrace = 'f'.repeat(8) + Math.random().toString(16).slice(2, 10).padEnd(8, '0') + '0'.repeat(16);
    const sampled = await call(service.url, 'GET', '/api/order/menu', { headers: { traceparent: `00-${callerTrace}-00f067aa0ba902b7-01` } });
    expect(traceIdOf(sampled)).toBe(callerTrace);
    const [span] = await receiver.waitForSpans('the caller-sampled request', (spans) => spans.some((s) => s.traceId === callerTrace));
    expect(receiver.spans.find((s) => s.traceId === callerTrace)).toMatchObject({ name: 'GET /api/order/menu', parentSpanId: '00f067aa0ba902b7' });
    expect(span).toBeDefined();
    expect(receiver.spans.some((s) => s.traceId === unsampledId)).toBe(false);
  });
});

describe('tracing in a cluster', () => {
  let receiver: OtlpReceiver;
  let service: BuiltService;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    service = await startBuiltService({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, WEB_CONCURRENCY: '2' });
  }, 60_000);
  afterAll(async () => {
    await service?.stop();
    await receiver?.close();
  });

  test('when requests reach both workers, then each worker exports its own spans under its own instance id, and the primary none', async () => {
    await waitFor('both workers listening', () => service.logs().filter((line) => line.msg === 'jwt-pizza-service listening').length === 2);
    const primaryPid = service.child.pid;
    for (let i = 0; i < 20; i++) await call(service.url, 'GET', '/api/order/menu', { headers: { connection: 'close' } });
    const spans = await receiver.waitForSpans('spans from both workers', (all) => new Set(all.map((s) => s.resource['service.instance.id'])).size >= 2);
    const instances = new Set(spans.map((s) => String(s.resource['service.instance.id'])));
    expect([...instances].every((id) => /:\d+$/.test(id))).toBe(true);
    expect(spans.some((s) => s.resource['process.pid'] === primaryPid)).toBe(false);
  });
});

