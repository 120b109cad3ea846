import { Registry } from 'prom-client';
import { createMetrics, openMetricsText, wantsOpenMetrics } from '../../../src/shared/metrics/metrics';
import { tracingWanted } from '../../../src/shared/tracing';
import { redactQuery } from '../../../src/shared/tracing/http';

describe('tracingWanted: the SDK starts only with an OTLP endpoint and no switch turning it off', () => {
  test.each([
    [{}, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }, true],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'false' }, true],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_EXPORTER: 'none' }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', WEB_CONCURRENCY: '2' }, false],
  ])('when the environment is %j, then tracing is %s', (env, wanted) => {
    expect(tracingWanted(env as NodeJS.ProcessEnv)).toBe(wanted);
  });
});

describe('redactQuery: span query strings keep their keys and page numbers only', () => {
  test('when a search and a secret-looking parameter come in, then their values are redacted and paging is kept', () => {
    expect(redactQuery('page=2&limit=10&name=*alice*&token=abc')).toBe('page=2&limit=10&name=REDACTED&token=REDACTED');
  });
  test('when page is not a small number, then it is redacted too', () => {
    expect(redactQuery('page=1%20or%201%3D1')).toBe('page=REDACTED');
  });
});

describe('OpenMetrics for scrapers that ask for it', () => {
  test('when Prometheus asks with its usual Accept header, then OpenMetrics is chosen; plain text otherwise', () => {
    expect(wantsOpenMetrics('application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1')).toBe(true);
    expect(wantsOpenMetrics('text/plain')).toBe(false);
    expect(wantsOpenMetrics(undefined)).toBe(false);
  });

  test('when rendered as OpenMetrics, then exemplars appear on the buckets, counters are named as OpenMetrics wants, and the Prometheus text afterwards is unchanged', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.registry.setDefaultLabels({ source: 'unit' });
    metrics.httpRequests.inc({ method: 'GET', route: '/api/order/menu', status_code: '200' });
    metrics.httpDuration.observe({ labels: { method: 'GET', route: '/api/order/menu', status_code: '200' }, value: 0.004, exemplarLabels: { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' } });
    metrics.httpDuration.observe({ labels: { method: 'GET', route: '/api/order/menu', status_code: '200' }, value: 0.2, exemplarLabels: {} });
    const before = await metrics.registry.metrics();

    const open = await openMetricsText(metrics.registry);
    expect(open.endsWith('# EOF\n')).toBe(true);
    expect(open).toContain('# TYPE http_requests counter');
    expect(open).toMatch(/^http_requests_total\{.*source="unit".*\} 1$/m);
    expect(open).toMatch(/^http_request_duration_seconds_bucket\{le="0.005",.*\} 1 # \{trace_id="4bf92f3577b34da6a3ce929d0e0e4736"\} 0.004 \d+(\.\d+)?$/m);
    // An observation without a sampled trace leaves no exemplar.
    expect(open).not.toMatch(/le="0.25".*#/);

    expect(await metrics.registry.metrics()).toBe(before);
    expect(before).toMatch(/^# TYPE http_requests_total counter$/m);
    expect(before).not.toContain('trace_id');
    expect(metrics.registry.contentType).toBe(Registry.PROMETHEUS_CONTENT_TYPE);
  });
});
