// The first import of src/server.ts: the OpenTelemetry SDK is started before the app is built, so the
// database handle and the app see tracing on from their first statement and request. With no OTLP
// endpoint set, nothing else is loaded and requests pay nothing.
import cluster from 'node:cluster';
import { existsSync } from 'node:fs';

/** Tracing is on when an OTLP endpoint is configured and the SDK is not disabled by its own switches. */
export function tracingWanted(env: NodeJS.ProcessEnv): boolean {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim()) return false;
  if (/^(true|1)$/i.test(env.OTEL_SDK_DISABLED?.trim() ?? '')) return false;
  if (env.OTEL_TRACES_EXPORTER?.trim() === 'none') return false;
  // A cluster's primary only forks and aggregates metrics: its workers trace their own requests.
  return !(cluster.isPrimary && Number(env.WEB_CONCURRENCY ?? '1') > 1);
}

// server.ts reads .env too, but after this module has run: the OTEL_* variables may be there.
if (existsSync('.env')) process.loadEnvFile('.env');
if (tracingWanted(process.env)) (require('./sdk') as typeof import('./sdk')).startTracing(process.env);
