// The first import of src/server.ts: the OpenTelemetry SDK is started before the app is built, so the
// database handle and the app see tracing on from their first statement and request. With no OTLP
// endpoint set, nothing else is loaded and requests pay nothing.
import { existsSync } from 'node:fs';
import { tracingWanted } from './index';

// server.ts reads .env too, but after this module has run: the OTEL_* variables may be there.
if (existsSync('.env')) process.loadEnvFile('.env');
if (tracingWanted(process.env)) (require('./sdk') as typeof import('./sdk')).startTracing(process.env);
