import cluster from 'node:cluster';
import os from 'node:os';
import type { DestinationStream } from 'pino';
import type { Config } from '../../config';
import { createLokiStream, type LokiStream } from '../logging/lokiPush';
import type { Metrics } from '../metrics/metrics';
import { createMetricsPusher, type MetricsPusher } from '../metrics/remoteWrite';
import { startSystemMetrics } from '../metrics/systemMetrics';
import { silentLogger, type FetchLike, type TelemetryLogger } from './delivery';

export type { TelemetryLogger } from './delivery';

export interface StartTelemetryOptions {
  config: Pick<Config, 'env' | 'metrics' | 'logsPush'>;
  metrics: Metrics;
  /** For the sinks' own health messages; can also be given to start() once the logger exists. */
  logger?: TelemetryLogger;
  /** The `instance` label; default INSTANCE_ID, else the host name, plus the pid in a cluster worker. */
  instance?: string;
  systemMetricsIntervalMs?: number;
  fetchImpl?: FetchLike;
}

export interface Telemetry {
  /** Extra pino destinations (the Loki stream when LOGS_PUSH_URL is set): pass to createLogger({ streams }). */
  loggerStreams: DestinationStream[];
  /** Starts the system sampler and the metrics push timer. */
  start(logger?: TelemetryLogger): void;
  /** Final push of metrics, then of logs, within `timeoutMs` overall. Never rejects. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/**
 * INSTANCE_ID, else the host name; in a cluster worker (`workerPid`) the pid is appended to either.
 * Workers share both; without the pid each worker's counters would overwrite the others' series.
 */
export function defaultInstanceId(env: NodeJS.ProcessEnv = process.env, workerPid: number | undefined = cluster.isWorker ? process.pid : undefined): string {
  const base = env.INSTANCE_ID?.trim() || os.hostname();
  return workerPid === undefined ? base : `${base}:${workerPid}`;
}

export function startTelemetry(options: StartTelemetryOptions): Telemetry {
  const { config, metrics } = options;
  let logger = options.logger ?? silentLogger;
  const forwardingLogger: TelemetryLogger = {
    info: (obj, msg) => logger.info(obj, msg),
    warn: (obj, msg) => logger.warn(obj, msg),
  };

  const loki: LokiStream | undefined = config.logsPush
    ? createLokiStream({
        url: config.logsPush.url,
        user: config.logsPush.user,
        password: config.logsPush.password,
        labels: { service: config.metrics.source, env: config.env },
        metrics,
        logger: forwardingLogger,
        fetchImpl: options.fetchImpl,
      })
    : undefined;

  const pusher: MetricsPusher | undefined = config.metrics.push
    ? createMetricsPusher({
        url: config.metrics.push.url,
        user: config.metrics.push.user,
        password: config.metrics.push.password,
        intervalSeconds: config.metrics.push.intervalSeconds,
        registry: metrics.registry,
        metrics,
        labels: { source: config.metrics.source, instance: options.instance ?? defaultInstanceId() },
        logger: forwardingLogger,
        fetchImpl: options.fetchImpl,
      })
    : undefined;

  let stopSystemMetrics: (() => void) | undefined;
  let shutdownPromise: Promise<void> | undefined;

  return {
    loggerStreams: loki ? [loki.stream as DestinationStream] : [],
    start(startLogger) {
      if (startLogger) logger = startLogger;
      stopSystemMetrics ??= startSystemMetrics(metrics, { intervalMs: options.systemMetricsIntervalMs });
      pusher?.start();
    },
    shutdown(timeoutMs = 5000) {
      shutdownPromise ??= (async () => {
        stopSystemMetrics?.();
        const deadline = Date.now() + timeoutMs;
        // Metrics first: a failing final push is logged, and that line should still reach Loki.
        await pusher?.stop(Math.max(0, timeoutMs / 2));
        await loki?.stop(Math.max(0, deadline - Date.now()));
      })();
      return shutdownPromise;
    },
  };
}
