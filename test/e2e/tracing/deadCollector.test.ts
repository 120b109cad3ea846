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
      OTEL_EXPORTER_OTLP_TIMEOUT: '3000',
      OTEL_BSP_MAX_QUEUE_SIZE: '64',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '16',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
  }, 60_000);
  afterAll(async () => {
    await service?.stop();
    await receiver?.close();
  });

  test('when 400 requests are traced, then they are answered while the collector holds an export, the spans past the queue bound are dropped and counted, the stalled exports are counted as failed, and SIGTERM still exits', async () => {
    // Not timed: a request that waited for the stalled export could only be answered once the exporter gave
    // up on it (3 s), so a round of requests answered while an export held from before the round is still
    // held did not wait for it.
    let roundsWhileHeld = 0;
    for (let round = 0; round < 40; round++) {
      const heldBefore = receiver.held();
      const answers = await Promise.all(Array.from({ length: 10 }, () => call(service.url, 'GET', '/api/order/menu')));
      expect(answers.every((a) => a.status === 200)).toBe(true);
      const heldAfter = new Set(receiver.held());
      if (heldBefore.some((id) => heldAfter.has(id))) roundsWhileHeld += 1;
    }
    // Nearly every round on a healthy service; none if requests waited for exports (or if nothing was exported).
    expect(roundsWhileHeld).toBeGreaterThanOrEqual(1);

    const dropped = await waitFor('dropped spans counted', async () => {
      const text = await (await fetch(`${service.url}/metrics`)).text();
      const queueFull = metricSample(text, 'trace_spans_dropped_total', { reason: 'queue_full' });
      const exportFailed = metricSample(text, 'trace_spans_dropped_total', { reason: 'export_failed' });
      return queueFull > 0 && exportFailed > 0 ? { queueFull, exportFailed } : undefined;
    }, 20_000);
    // 400 request spans: at most the queue (64) and the batch in flight can be waiting; the rest were refused.
    expect(dropped.queueFull).toBeGreaterThan(400 - 64 - 16 - 1 - dropped.exportFailed);
    expect(dropped.queueFull + dropped.exportFailed).toBeLessThanOrEqual(400);

    // SIGTERM while the collector holds an export: the exit does not wait for it (the flush on exit is bounded
    // at 3 s). stop() kills the process after 15 s, so exit code 0 means it left by itself.
    await waitFor('an export held by the collector', async () => {
      await call(service.url, 'GET', '/api/order/menu');
      return receiver.held().length > 0;
    });
    const code = await service.stop();
    expect(code).toBe(0);
  });
});
