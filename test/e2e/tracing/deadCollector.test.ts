import { metricSample } from '../../faults/support';
import { startOtlpReceiver, type OtlpReceiver } from './otlpReceiver';
import { call, startBuiltService, waitFor, type BuiltService } from './support';

/** A collector that accepts connections and never answers: requests must not wait for it, and what it costs is bounded and counted. */
describe('tracing to a collector that never answers', () => {
  let receiver: OtlpReceiver;
  let service: BuiltService;

  beforeAll(async () => {
    receiver = await startOtlpReceiver({ mode: 'hang' });
    service = await startBuiltService({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
      OTEL_BSP_MAX_QUEUE_SIZE: '64',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '16',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
  }, 60_000);
  afterAll(async () => {
    await service?.stop();
    await receiver?.close();
  });

  test('when 400 requests are traced, then each is answered at once, the spans past the queue bound are dropped and counted, the stalled exports are counted as failed, and SIGTERM still exits promptly', async () => {
    const slowest: number[] = [];
    for (let round = 0; round < 40; round++) {
      const answers = await Promise.all(
        Array.from({ length: 10 }, async () => {
          const started = performance.now();
          const answer = await call(service.url, 'GET', '/api/order/menu');
          return { status: answer.status, ms: performance.now() - started };
        }),
      );
      expect(answers.every((a) => a.status === 200)).toBe(true);
      slowest.push(Math.max(...answers.map((a) => a.ms)));
    }
    // Generous: an export stalls for its full 1 s timeout; a request that waited on it would take that long.
    expect(Math.max(...slowest)).toBeLessThan(900);

    const dropped = await waitFor('dropped spans counted', async () => {
      const text = await (await fetch(`${service.url}/metrics`)).text();
      const queueFull = metricSample(text, 'trace_spans_dropped_total', { reason: 'queue_full' });
      const exportFailed = metricSample(text, 'trace_spans_dropped_total', { reason: 'export_failed' });
      return queueFull > 0 && exportFailed > 0 ? { queueFull, exportFailed } : undefined;
    }, 20_000);
    // 400 request spans: at most the queue (64) and the batch in flight can be waiting; the rest were refused.
    expect(dropped.queueFull).toBeGreaterThan(400 - 64 - 16 - 1 - dropped.exportFailed);
    expect(dropped.queueFull + dropped.exportFailed).toBeLessThanOrEqual(400);

    const started = Date.now();
    const code = await service.stop();
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
