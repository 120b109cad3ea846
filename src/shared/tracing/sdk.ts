import type { Context } from '@opentelemetry/api';
import { TraceFlags } from '@opentelemetry/api';
import { ExportResultCode, getNumberFromEnv, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, type ReadableSpan, type Span, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { IncomingMessage } from 'node:http';
import { serviceVersion } from '../../app';
import { routeLabel } from '../http/middleware';
import { defaultInstanceId } from '../telemetry';
import { markTracingStarted, spanDrops } from './index';

/** Requests that are not worth a trace: probes and scrapes, every few seconds, all alike. */
const UNTRACED_PATHS = new Set(['/metrics', '/healthz', '/readyz']);

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

/**
 * Query values are what callers search for (`name=*alice*` ends up in SQL) or whatever a scanner sends;
 * only the page numbers are kept. The keys stay, so the span still says what was asked.
 */
function redactQuery(query: string): string {
  const params = new URLSearchParams(query);
  for (const [key, value] of params) if (!((key === 'page' || key === 'limit') && /^\d{1,6}$/.test(value))) params.set(key, 'REDACTED');
  return params.toString();
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
 * variables, the HTTP server instrumentation (one span per request, named by our route template), W3C
 * trace context. SQL, factory and JWT spans are made by the service itself (see sqlSpans.ts, the factory
 * client, auth tokens), because they cover both database drivers and never record values.
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
    instrumentations: [
      new HttpInstrumentation({
        // Outgoing calls are the factory (a span of its own, see the factory client) and the telemetry
        // pushers, which would only trace themselves.
        disableOutgoingRequestInstrumentation: true,
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has((request.url ?? '').split('?', 1)[0] ?? ''),
        // Express is not instrumented (a span per middleware layer, costly and noisy): the server span
        // takes the route template the request matched, as the metrics do.
        applyCustomAttributesOnSpan: (span, request) => {
          const incoming = request as IncomingMessage;
          const route = routeLabel(incoming as Parameters<typeof routeLabel>[0]);
          span.setAttribute('http.route', route);
          span.updateName(`${incoming.method ?? 'GET'} ${route}`);
          // A credential in the path (the factory's report URL, /api/support/:apiKey/...): only the template is kept.
          if (/:\w*(key|token|secret)\b/i.test(route)) span.setAttribute('url.path', route);
          const query = incoming.url?.split('?', 2)[1];
          if (query) span.setAttribute('url.query', redactQuery(query));
        },
      }),
    ],
  });
  sdk.start();
  markTracingStarted(() => sdk.shutdown());
}
