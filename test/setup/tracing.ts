// The `traced` project: the component and security suites again on SQLite, with tracing on in-process (the
// service's spans are its own, so they are made under jest too) at 100% sampling into memory.
// test/setup/spanScan.ts then searches every span of each file for secrets and user data.
import { NodeSDK } from '@opentelemetry/sdk-node';
import { AlwaysOnSampler, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { markTracingStarted } from '../../src/shared/tracing';

process.env.TEST_DB = 'sqlite';
const exporter = new InMemorySpanExporter();
const sdk = new NodeSDK({
  spanProcessors: [new SimpleSpanProcessor(exporter)],
  sampler: new AlwaysOnSampler(),
  metricReaders: [],
  logRecordProcessors: [],
  instrumentations: [],
  autoDetectResources: false,
});
sdk.start();
markTracingStarted(() => sdk.shutdown());
(globalThis as { spanExporter?: InMemorySpanExporter }).spanExporter = exporter;
