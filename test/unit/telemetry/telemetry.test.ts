import { hostname } from 'node:os';
import { testConfig, type Config } from '../../../src/config';
import { createLogger } from '../../../src/shared/logging/logger';
import { createMetrics } from '../../../src/shared/metrics/metrics';
import { defaultInstanceId, startTelemetry } from '../../../src/shared/telemetry';

function configWith(overrides: Partial<Pick<Config, 'metrics' | 'logsPush'>>): Config {
  const base = testConfig();
  return { ...base, metrics: { ...base.metrics, ...overrides.metrics }, logsPush: overrides.logsPush };
}

describe('startTelemetry', () => {
  test('when nothing is configured to push, then there are no extra log streams and shutdown is immediate', async () => {
    const telemetry = startTelemetry({ config: testConfig(), metrics: createMetrics({ defaultMetrics: false }) });
    expect(telemetry.loggerStreams).toEqual([]);
    telemetry.start();
    // Immediate: settled before any timer could fire (setImmediate runs after every pending promise job).
    let settled = false;
    const shutdown = telemetry.shutdown(1000).then(() => {
      settled = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(true);
    await shutdown;
  });

  test('when both sinks are configured, then logs and metrics are pushed with the configured labels and flushed on shutdown', async () => {
    const requests: { url: string; headers: Record<string, string>; body: unknown }[] = [];
    const fetchImpl = async (url: string, init: RequestInit) => {
      requests.push({ url, headers: init.headers as Record<string, string>, body: init.body });
      return new Response(null, { status: 204 });
    };
    const config = configWith({
      metrics: { source: 'pizza-test', push: { url: 'http://prom.test/api/prom/push', user: 'u', password: 'p', intervalSeconds: 3600 } },
      logsPush: { url: 'http://loki.test/loki/api/v1/push', user: 'lu', password: 'lp' },
    });
    const metrics = createMetrics({ defaultMetrics: false });
    const telemetry = startTelemetry({ config, metrics, fetchImpl, instance: 'unit-host' });
    expect(telemetry.loggerStreams).toHaveLength(1);
    const logger = createLogger({ level: 'info', service: config.metrics.source, env: config.env, destination: { write: () => undefined }, streams: telemetry.loggerStreams });
    telemetry.start(logger);
    logger.info({ type: 'http', status: 200 }, 'hello loki');

    await telemetry.shutdown(2000);

    const metricsPush = requests.find((r) => r.url === 'http://prom.test/api/prom/push');
    expect(metricsPush?.headers['Content-Encoding']).toBe('snappy');
    const lokiPush = requests.find((r) => r.url === 'http://loki.test/loki/api/v1/push');
    const body = JSON.parse(lokiPush!.body as string) as { streams: { stream: Record<string, string>; values: [string, string][] }[] };
    expect(body.streams[0]!.stream).toEqual({ service: 'pizza-test', env: 'test', level: 'info', type: 'http' });
    expect(body.streams[0]!.values[0]![1]).toContain('hello loki');
  });

  test('when a receiver hangs at shutdown, then shutdown still returns within its timeout', async () => {
    const signals: AbortSignal[] = [];
    const urls: string[] = [];
    const hanging = (url: string, init: RequestInit) =>
      new Promise<Response>((_r, reject) => {
        urls.push(url);
        signals.push(init.signal as AbortSignal);
        (init.signal as AbortSignal).addEventListener('abort', () => reject(new Error('aborted')));
      });
    // Timers on a fake clock: "within its timeout" is then exact, whatever the load on the machine.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      const config = configWith({
        metrics: { source: 's', push: { url: 'http://prom.test/w', intervalSeconds: 3600 } },
        logsPush: { url: 'http://loki.test/push' },
      });
      const telemetry = startTelemetry({ config, metrics: createMetrics({ defaultMetrics: false }), fetchImpl: hanging });
      telemetry.start();
      (telemetry.loggerStreams[0] as { write(line: string): void }).write('{"level":"info"}\n');
      let settled = false;
      const shutdown = telemetry.shutdown(400).then(() => {
        settled = true;
      });
      await jest.advanceTimersByTimeAsync(400);
      expect(settled).toBe(true);
      await shutdown;
      // The final push of the buffered line was made, and given up on: the receiver never answered.
      expect(urls).toContain('http://loki.test/push');
      expect(signals.every((signal) => signal.aborted)).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  test('the instance label is INSTANCE_ID when set, else the host name', () => {
    expect(defaultInstanceId({ INSTANCE_ID: ' pod-7 ' })).toBe('pod-7');
    expect(defaultInstanceId({})).toBe(hostname());
    expect(defaultInstanceId({ INSTANCE_ID: '  ' })).toBe(hostname());
  });

  test('a cluster worker appends its pid, with or without INSTANCE_ID, so workers never share a series', () => {
    expect(defaultInstanceId({ INSTANCE_ID: 'pod-7' }, 4242)).toBe('pod-7:4242');
    expect(defaultInstanceId({}, 4242)).toBe(`${hostname()}:4242`);
    expect(defaultInstanceId({ INSTANCE_ID: 'pod-7' }, 1)).not.toBe(defaultInstanceId({ INSTANCE_ID: 'pod-7' }, 2));
  });
});
