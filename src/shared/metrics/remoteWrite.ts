import type { Registry } from 'prom-client';
import type { Metrics } from './metrics';
import {
  createHealthReporter,
  deliver,
  resolveReceiver,
  silentLogger,
  USER_AGENT,
  type FetchLike,
  type TelemetryLogger,
} from '../telemetry/delivery';

// snappyjs ships no types; it is the pure-JS block-format snappy remote_write requires.
const snappy: { compress(input: Uint8Array): Uint8Array } = require('snappyjs');

export interface RemoteWriteSample {
  value: number;
  timestampMs: number;
}

export interface RemoteWriteSeries {
  /** Must include `__name__`. Sorted by name when encoded. */
  labels: Record<string, string>;
  samples: RemoteWriteSample[];
}

// ---- protobuf (remote_write 1.0: prometheus.WriteRequest) ----------------------------------------
// WriteRequest { repeated TimeSeries timeseries = 1 }
// TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2 }
// Label        { string name = 1; string value = 2 }
// Sample       { double value = 1; int64 timestamp = 2 }
const TAG_LEN_1 = 0x0a; // field 1, wire type 2 (length-delimited)
const TAG_LEN_2 = 0x12; // field 2, wire type 2
const TAG_FIXED64_1 = 0x09; // field 1, wire type 1 (64-bit)
const TAG_VARINT_2 = 0x10; // field 2, wire type 0 (varint)

function varintSize(value: number): number {
  let size = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

// int64 varint. Timestamps are positive and below 2^53, so plain arithmetic does; a negative value
// (never expected) takes protobuf's ten-byte two's complement via BigInt.
function int64VarintSize(value: number): number {
  return value >= 0 ? varintSize(value) : 10;
}

function writeVarint(buffer: Buffer, offset: number, value: number): number {
  while (value >= 128) {
    buffer[offset++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  buffer[offset++] = value;
  return offset;
}

function writeInt64Varint(buffer: Buffer, offset: number, value: number): number {
  if (value >= 0) return writeVarint(buffer, offset, value);
  let big = BigInt.asUintN(64, BigInt(value));
  for (let i = 0; i < 10; i++) {
    const byte = Number(big & 0x7fn);
    big >>= 7n;
    buffer[offset++] = i < 9 ? byte | 0x80 : byte;
  }
  return offset;
}

const lengthDelimitedSize = (inner: number) => 1 + varintSize(inner) + inner;

// Label names and values are short and nearly always ASCII: a JS loop beats a native call per string.
function utf8Length(text: string): number {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return Buffer.byteLength(text, 'utf8');
  return text.length;
}

function writeString(buffer: Buffer, offset: number, text: string, byteLength: number): number {
  if (byteLength !== text.length) return offset + buffer.write(text, offset, 'utf8');
  for (let i = 0; i < text.length; i++) buffer[offset + i] = text.charCodeAt(i);
  return offset + byteLength;
}

/** Encodes a remote_write 1.0 WriteRequest (uncompressed protobuf). Labels are sorted by name. */
export function encodeWriteRequest(series: RemoteWriteSeries[]): Uint8Array {
  // Two passes: sizes first, so every length prefix is known and the buffer is allocated once;
  // strings are then written straight into it (this runs for every series on every push).
  const names: string[][] = new Array(series.length);
  const byteLengths: number[][] = new Array(series.length);
  const seriesSizes: number[] = new Array(series.length);
  let total = 0;
  for (let i = 0; i < series.length; i++) {
    const { labels, samples } = series[i]!;
    const sorted = Object.keys(labels).sort();
    const lengths: number[] = new Array(sorted.length * 2);
    let size = 0;
    for (let j = 0; j < sorted.length; j++) {
      const nameLength = utf8Length(sorted[j]!);
      const valueLength = utf8Length(labels[sorted[j]!] ?? '');
      lengths[2 * j] = nameLength;
      lengths[2 * j + 1] = valueLength;
      size += lengthDelimitedSize(lengthDelimitedSize(nameLength) + lengthDelimitedSize(valueLength));
    }
    for (const sample of samples) size += lengthDelimitedSize(1 + 8 + 1 + int64VarintSize(Math.trunc(sample.timestampMs)));
    names[i] = sorted;
    byteLengths[i] = lengths;
    seriesSizes[i] = size;
    total += lengthDelimitedSize(size);
  }

  const buffer = Buffer.allocUnsafe(total);
  let offset = 0;
  for (let i = 0; i < series.length; i++) {
    const { labels, samples } = series[i]!;
    const sorted = names[i]!;
    const lengths = byteLengths[i]!;
    buffer[offset++] = TAG_LEN_1;
    offset = writeVarint(buffer, offset, seriesSizes[i]!);
    for (let j = 0; j < sorted.length; j++) {
      const nameLength = lengths[2 * j]!;
      const valueLength = lengths[2 * j + 1]!;
      buffer[offset++] = TAG_LEN_1;
      offset = writeVarint(buffer, offset, lengthDelimitedSize(nameLength) + lengthDelimitedSize(valueLength));
      buffer[offset++] = TAG_LEN_1;
      offset = writeVarint(buffer, offset, nameLength);
      offset = writeString(buffer, offset, sorted[j]!, nameLength);
      buffer[offset++] = TAG_LEN_2;
      offset = writeVarint(buffer, offset, valueLength);
      offset = writeString(buffer, offset, labels[sorted[j]!] ?? '', valueLength);
    }
    for (const sample of samples) {
      const timestamp = Math.trunc(sample.timestampMs);
      buffer[offset++] = TAG_LEN_2;
      offset = writeVarint(buffer, offset, 1 + 8 + 1 + int64VarintSize(timestamp));
      buffer[offset++] = TAG_FIXED64_1;
      offset = buffer.writeDoubleLE(sample.value, offset);
      buffer[offset++] = TAG_VARINT_2;
      offset = writeInt64Varint(buffer, offset, timestamp);
    }
  }
  if (offset !== total) throw new Error(`remote_write encoder size mismatch: ${offset} != ${total}`);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);
}

// ---- registry → series ------------------------------------------------------------------------

/** The shape of `registry.getMetricsAsJSON()` that matters here. */
export interface MetricFamilyJson {
  name: string;
  type: string;
  values: { value: number; labels: Record<string, string | number | undefined>; metricName?: string }[];
}

/**
 * Turns prom-client's JSON into one series per sample: counters and gauges as is, histograms as
 * `_bucket{le}` (prom-client's buckets are already cumulative) + `_sum` + `_count`, summaries as
 * `{quantile}` + `_sum` + `_count`. Extra labels are added unless the metric already has that label.
 */
export function registryToSeries(families: MetricFamilyJson[], timestampMs: number, extraLabels: Record<string, string>): RemoteWriteSeries[] {
  const series: RemoteWriteSeries[] = [];
  for (const family of families) {
    for (const entry of family.values) {
      if (typeof entry.value !== 'number') continue;
      const labels: Record<string, string> = {};
      for (const [name, value] of Object.entries(entry.labels ?? {})) {
        if (value !== undefined) labels[name] = String(value);
      }
      for (const [name, value] of Object.entries(extraLabels)) {
        if (!(name in labels)) labels[name] = value;
      }
      labels.__name__ = entry.metricName ?? family.name;
      series.push({ labels, samples: [{ value: entry.value, timestampMs }] });
    }
  }
  return series;
}

// ---- pusher -----------------------------------------------------------------------------------

export interface MetricsPusherOptions {
  url: string;
  user?: string;
  password?: string;
  intervalSeconds: number;
  registry: Registry;
  metrics: Pick<Metrics, 'telemetryPushes' | 'telemetryPushFailures'>;
  labels: { source: string; instance: string };
  timeoutMs?: number;
  /** Batches waiting to be sent; when full the oldest is dropped (counters are cumulative, so only resolution is lost). */
  maxQueue?: number;
  maxAttempts?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  logger?: TelemetryLogger;
  fetchImpl?: FetchLike;
}

export interface MetricsPusher {
  /** Pushes every `intervalSeconds` on an unref'd timer. */
  start(): void;
  /** Collects now and resolves once that batch is delivered or given up. Never rejects. */
  pushNow(): Promise<void>;
  /** Stops the timer, pushes a final batch, and gives up on whatever is still queued after `deadlineMs`. */
  stop(deadlineMs?: number): Promise<void>;
}

interface Batch {
  body: Uint8Array;
  settle(): void;
  done: Promise<void>;
}

export function createMetricsPusher(options: MetricsPusherOptions): MetricsPusher {
  const receiver = resolveReceiver(options.url, options.user, options.password);
  const headers: Record<string, string> = {
    'Content-Encoding': 'snappy',
    'Content-Type': 'application/x-protobuf',
    'X-Prometheus-Remote-Write-Version': '0.1.0',
    'User-Agent': USER_AGENT,
  };
  if (receiver.authorization) headers.Authorization = receiver.authorization;
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxQueue = Math.max(1, options.maxQueue ?? 20);
  const retry = {
    maxAttempts: options.maxAttempts ?? 5,
    baseDelayMs: options.retryBaseMs ?? 500,
    maxDelayMs: options.retryMaxMs ?? 30_000,
    maxRetryAfterMs: 60_000,
  };
  const fetchImpl = options.fetchImpl ?? ((url, init) => fetch(url, init));
  const logger = options.logger ?? silentLogger;
  const health = createHealthReporter('metrics', receiver.logUrl, () => logger);
  const { telemetryPushes, telemetryPushFailures } = options.metrics;

  const queue: Batch[] = [];
  const closing = new AbortController();
  let draining: Promise<void> | null = null;
  let timer: NodeJS.Timeout | undefined;
  let lastTimestampMs = 0;

  const failBatch = (batch: Batch) => {
    telemetryPushFailures.inc({ sink: 'metrics' });
    batch.settle();
  };

  async function collect(): Promise<Batch> {
    // Strictly increasing timestamps: two pushes in one millisecond would be rejected as duplicates.
    const timestampMs = Math.max(Date.now(), lastTimestampMs + 1);
    lastTimestampMs = timestampMs;
    const families = (await options.registry.getMetricsAsJSON()) as unknown as MetricFamilyJson[];
    const body = snappy.compress(encodeWriteRequest(registryToSeries(families, timestampMs, options.labels)));
    let settle!: () => void;
    const done = new Promise<void>((resolve) => (settle = resolve));
    return { body, settle, done };
  }

  function enqueue(batch: Batch) {
    if (queue.length >= maxQueue) {
      const dropped = queue.shift()!;
      health.failed('queue_full', `dropped the oldest of ${maxQueue} queued batches`);
      failBatch(dropped);
    }
    queue.push(batch);
    startDrain();
  }

  function startDrain() {
    if (draining) return;
    draining = drain().finally(() => {
      draining = null;
      // A batch queued between the loop's last check and this callback would otherwise wait for the next one.
      if (queue.length) startDrain();
    });
  }

  async function drain() {
    // One request in flight at a time keeps samples in timestamp order, which receivers require.
    for (let batch = queue.shift(); batch; batch = queue.shift()) {
      if (closing.signal.aborted) {
        failBatch(batch);
        continue;
      }
      const result = await deliver({
        url: receiver.url,
        headers,
        body: batch.body,
        timeoutMs,
        retry,
        fetchImpl,
        signal: closing.signal,
        onAttempt: (outcome) => telemetryPushes.inc({ sink: 'metrics', outcome }),
      });
      if (result.kind === 'delivered') {
        health.succeeded();
        batch.settle();
        continue;
      }
      if (result.kind === 'rejected') health.failed('rejected', result.detail, { status: result.status });
      if (result.kind === 'gave_up') health.failed('gave_up', result.detail, { attempts: result.attempts });
      failBatch(batch);
    }
  }

  async function collectAndEnqueue(): Promise<Batch | undefined> {
    if (closing.signal.aborted) return undefined;
    try {
      const batch = await collect();
      enqueue(batch);
      return batch;
    } catch (error) {
      telemetryPushFailures.inc({ sink: 'metrics' });
      health.failed('collect', error instanceof Error ? error.message : String(error));
      return undefined;
    }
  }

  let collectChain: Promise<unknown> = Promise.resolve();
  let nextBatch: Promise<Batch | undefined> | undefined;

  // Callers that arrive before the next collection starts share it, so a burst of pushNow() costs one
  // snapshot; collections never overlap and each starts on a fresh event-loop turn.
  function requestBatch(): Promise<Batch | undefined> {
    if (nextBatch) return nextBatch;
    const batch = collectChain
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => {
        nextBatch = undefined;
        return collectAndEnqueue();
      });
    nextBatch = batch;
    collectChain = batch;
    return batch;
  }

  async function pushNow(): Promise<void> {
    if (closing.signal.aborted) return;
    const batch = await requestBatch();
    await batch?.done;
  }

  return {
    start() {
      if (timer || closing.signal.aborted) return;
      timer = setInterval(() => void pushNow(), Math.max(100, options.intervalSeconds * 1000));
      timer.unref();
    },
    pushNow,
    async stop(deadlineMs = timeoutMs) {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (closing.signal.aborted) return;
      let deadline: NodeJS.Timeout | undefined;
      await Promise.race([
        pushNow(),
        new Promise<void>((resolve) => {
          deadline = setTimeout(resolve, deadlineMs);
          deadline.unref();
        }),
      ]);
      clearTimeout(deadline);
      closing.abort();
      while (queue.length) failBatch(queue.shift()!);
      await draining;
    },
  };
}
