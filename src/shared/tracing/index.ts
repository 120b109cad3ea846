import cluster from 'node:cluster';
import { context, trace, TraceFlags, type SpanContext, type Tracer } from '@opentelemetry/api';

/**
 * What the rest of the service knows of tracing: whether the SDK was started (register.ts, before the app
 * loads), the tracer for manual spans, and the SDK's own counts. Everything here is a no-op when tracing
 * is off, and callers check tracingEnabled() first so that an untraced request pays nothing.
 */
const state: { enabled: boolean; shutdown?: () => Promise<void> } = { enabled: false };

/** Tracing is on when an OTLP endpoint is configured and the SDK is not disabled by its own switches. */
export function tracingWanted(env: NodeJS.ProcessEnv): boolean {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim()) return false;
  if (/^(true|1)$/i.test(env.OTEL_SDK_DISABLED?.trim() ?? '')) return false;
  if (env.OTEL_TRACES_EXPORTER?.trim() === 'none') return false;
  // A cluster's primary only forks and aggregates metrics: its workers trace their own requests.
  return !(cluster.isPrimary && Number(env.WEB_CONCURRENCY ?? '1') > 1);
}

/** Spans that will never reach the collector: the export queue was full, or their batch failed to export. */
export const spanDrops = { queueFull: 0, exportFailed: 0 };

export function markTracingStarted(shutdown: () => Promise<void>): void {
  state.enabled = true;
  state.shutdown = shutdown;
}

/** Exports the spans still queued (service shutdown), for at most `timeoutMs`: a dead collector cannot hold the exit. Never rejects. */
export async function shutdownTracing(timeoutMs = 3000): Promise<void> {
  if (!state.shutdown) return;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    timer.unref();
  });
  await Promise.race([state.shutdown().catch(() => undefined), deadline]);
  clearTimeout(timer);
}

export function tracingEnabled(): boolean {
  return state.enabled;
}

/** A proxy until the SDK registers its provider; manual spans (SQL, factory, JWT) are made with it. */
export const tracer: Tracer = trace.getTracer('jwt-pizza-service');

/** The span context of the active span, when tracing is on and one is active. */
export function activeSpanContext(): SpanContext | undefined {
  if (!state.enabled) return undefined;
  const spanContext = trace.getSpan(context.active())?.spanContext();
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** Exemplar labels for a histogram observation: only a sampled trace can be found again, so only it is linked. */
export function exemplarLabels(): Record<string, string> {
  const traceId = sampledTraceId();
  return traceId ? { trace_id: traceId } : {};
}

/** The active trace's id when it is sampled (it will be in Tempo), for records that should lead to it. */
export function sampledTraceId(): string | undefined {
  const spanContext = activeSpanContext();
  return spanContext && spanContext.traceFlags & TraceFlags.SAMPLED ? spanContext.traceId : undefined;
}

/** pino `mixin`: the trace and span of the request a log line is written in. */
export function traceLogFields(): Record<string, string> {
  const spanContext = activeSpanContext();
  return spanContext ? { trace_id: spanContext.traceId, span_id: spanContext.spanId } : {};
}
