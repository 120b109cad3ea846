import type { Context } from '@opentelemetry/api';
import { TraceFlags } from '@opentelemetry/api';
import { ExportResultCode, getNumberFromEnv, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, type ReadableSpan, type Span, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { serviceVersion } from '../../app';
import { defaultInstanceId } from '../telemetry';
import { markTracingStarted, spanDrops } from './index';

/**
 * Keeps the spans waiting for export bounded: past `maxQueued` (OTEL_BSP_MAX_QUEUE_SIZE) a finished span is
 * dropped and counted, so a dead or slow collector costs neither latency nor memory. The batch processor
 * behind it would drop silently at the same bound; counted here, the drops become a metric.
 */
class BoundedSpanProcessor implements SpanProcessor {
  private queued = 0;
  constructor(private readonly batches: SpanProcessor, private readonly maxQueued: number) {}

  /** The exporter's answer for a batch: its spans leave the queue, and a failed batch's spans are lost. */
  settled(count: number, result: ExportResult): void {
    this.queued = Math.max(0, this.queued - count);
    if (result.code !== ExportResultCode.SUCCESS) spanDrops.exportFailed += count;
  }

  onStart(span: Span, parentContext: Context): void {
    this.batches.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.queued >= this.maxQueued) {
      spanDrops.queueFull++;
      return;
    }
    this.queued++;
    this.batches.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.batches.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.batches.shutdown();
  }
}

function countingExporter(exporter: SpanExporter, onSettled: (count: number, result: ExportResult) => void): SpanExporter {
  return {
    export(spans, resultCallback) {
      exporter.export(spans, (result) => {
        onSettled(spans.length, result);
        resultCallback(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

/**
 * The OpenTelemetry SDK for this process: OTLP/HTTP (protobuf) export configured by the standard OTEL_*
 * variables, the sampler they name, W3C trace context, the AsyncLocalStorage context manager. The spans are
 * the service's own: the request (http.ts), SQL statements (sqlSpans.ts), the factory call (factory client)
 * and JWT verification (auth tokens), because they cover both database drivers, record no values, and cost
 * less than the instrumentations that would make them.
 */
export function startTracing(env: NodeJS.ProcessEnv): void {
  const maxQueued = getNumberFromEnv('OTEL_BSP_MAX_QUEUE_SIZE') ?? 2048;
  const exporter = countingExporter(new OTLPTraceExporter(), (count, result) => processor.settled(count, result));
  // The other OTEL_BSP_* variables (batch size, delay, export timeout) are read by the processor itself.
  const batches = new BatchSpanProcessor(exporter, { maxQueueSize: maxQueued });
  const processor = new BoundedSpanProcessor(batches, maxQueued);

  const environment = env.NODE_ENV ?? 'development';
  const sdk = new NodeSDK({
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the SDK's env detector) take precedence over these.
    resource: resourceFromAttributes({
      'service.name': env.METRICS_SOURCE?.trim() || 'jwt-pizza-service',
      'service.version': serviceVersion(),
      'service.instance.id': defaultInstanceId(env),
      'deployment.environment.name': environment,
      // The attribute's older name, which Grafana's application views still read.
      'deployment.environment': environment,
    }),
    spanProcessors: [processor],
    // Metrics and logs have their own pipelines (Prometheus, Loki); the SDK sends traces only.
    metricReaders: [],
    logRecordProcessors: [],
    // No require-hook instrumentations: the server span is made by traceRequests() (tracing/http.ts), SQL,
    // factory and JWT spans by the service itself; see the comment of traceRequests() for why.
    instrumentations: [],
  });
  sdk.start();
  markTracingStarted(() => sdk.shutdown());
}
