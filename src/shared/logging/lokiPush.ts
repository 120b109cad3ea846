import type { Metrics } from '../metrics/metrics';
import {
  createHealthReporter,
  deliver,
  resolveReceiver,
  silentLogger,
  USER_AGENT,
  type FetchLike,
  type TelemetryLogger,
} from '../telemetry/delivery';

export interface LokiStreamOptions {
  url: string;
  user?: string;
  password?: string;
  labels: { service: string; env: string };
  /** Lines per push request. */
  batchSize?: number;
  flushIntervalMs?: number;
  /** Lines waiting to be sent; when full the oldest is dropped and counted. */
  maxBuffer?: number;
  timeoutMs?: number;
  /** Attempts per batch before it is dropped (and its lines counted as dropped). */
  maxAttempts?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  metrics: Pick<Metrics, 'telemetryPushes' | 'telemetryPushFailures' | 'logLinesDropped'>;
  /** Where the stream reports its own health changes; may be set later with setLogger (the logger writes into this stream). */
  logger?: TelemetryLogger;
  fetchImpl?: FetchLike;
}

export interface LokiStream {
  /** pino destination: `write` only buffers, it never waits on the network. */
  stream: { write(line: string): void };
  /** Sends everything buffered; resolves when the buffer is empty or the receiver gave up. Never rejects. */
  flush(): Promise<void>;
  /** Final flush bounded by `deadlineMs`; lines still unsent afterwards are counted as dropped. */
  stop(deadlineMs?: number): Promise<void>;
  setLogger(logger: TelemetryLogger): void;
}

interface BufferedLine {
  /** Unix epoch in nanoseconds, as Loki wants it: a decimal string. */
  ns: string;
  line: string;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const KNOWN_LEVELS = new Set(Object.values(LEVEL_NAMES));
// `type` is set by code, but a label must stay low-cardinality even if a line is odd.
const TYPE_LABEL = /^[a-z][a-z0-9_]{0,31}$/;

/** Ring-less deque: an array with a moving head, compacted now and then, so dropping the oldest is O(1). */
class LineQueue {
  private items: BufferedLine[] = [];
  private head = 0;
  get length() {
    return this.items.length - this.head;
  }
  push(item: BufferedLine) {
    this.items.push(item);
  }
  shift(): BufferedLine | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
  take(count: number): BufferedLine[] {
    const taken = this.items.slice(this.head, this.head + count);
    this.head += taken.length;
    if (this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return taken;
  }
}

/** Nanosecond timestamps that never go backwards, so lines written in one millisecond keep their order. */
function createClock() {
  let lastMs = 0;
  let sequence = 0;
  return (): string => {
    const now = Date.now();
    if (now > lastMs) {
      lastMs = now;
      sequence = 0;
    } else if (++sequence > 999_999) {
      lastMs++;
      sequence = 0;
    }
    return `${lastMs}${String(sequence).padStart(6, '0')}`;
  };
}

/**
 * Reads the top-level `level` and `type` of a JSON log line without parsing all of it (JSON.parse was
 * most of the per-line cost of the push). Only top-level members count: a `type` inside a logged request
 * body must never become a label value.
 */
function topLevelLevelAndType(line: string): { level?: string | number; type?: string } {
  const found: { level?: string | number; type?: string } = {};
  if (line.charCodeAt(0) !== 0x7b /* { */) return found;
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i + 1;
      let end = start;
      let escaped = false;
      while (end < line.length) {
        const d = line.charCodeAt(end);
        if (d === 0x5c /* \ */) {
          escaped = true;
          end += 2;
        } else if (d === 0x22) break;
        else end++;
      }
      i = end;
      if (depth !== 1 || escaped || line.charCodeAt(end + 1) !== 0x3a /* : */) continue;
      const key = line.slice(start, end);
      if (key !== 'level' && key !== 'type') continue;
      const valueStart = end + 2;
      if (line.charCodeAt(valueStart) === 0x22) {
        const valueEnd = line.indexOf('"', valueStart + 1);
        if (valueEnd > 0) found[key] = line.slice(valueStart + 1, valueEnd);
      } else if (key === 'level') {
        const match = /^\d+/.exec(line.slice(valueStart, valueStart + 4));
        if (match) found.level = Number(match[0]);
      }
      if (found.level !== undefined && found.type !== undefined) return found;
    } else if (c === 0x7b || c === 0x5b /* [ */) depth++;
    else if (c === 0x7d || c === 0x5d /* ] */) depth--;
  }
  return found;
}

export function streamLabelsOf(line: string, base: { service: string; env: string }): Record<string, string> {
  const { level: rawLevel, type: rawType } = topLevelLevelAndType(line);
  let level = 'info';
  if (typeof rawLevel === 'string' && KNOWN_LEVELS.has(rawLevel)) level = rawLevel;
  else if (typeof rawLevel === 'number') level = LEVEL_NAMES[rawLevel] ?? 'info';
  // Not JSON (e.g. a pretty-printed line) or no type: the default labels.
  const type = rawType !== undefined && TYPE_LABEL.test(rawType) ? rawType : 'app';
  return { service: base.service, env: base.env, level, type };
}

/** Loki's JSON push body: one stream per label set, lines in arrival order within each. */
export function buildLokiPushBody(lines: BufferedLine[], base: { service: string; env: string }): string {
  const streams = new Map<string, { stream: Record<string, string>; values: [string, string][] }>();
  for (const { ns, line } of lines) {
    const labels = streamLabelsOf(line, base);
    const key = `${labels.level}\u0000${labels.type}`;
    let entry = streams.get(key);
    if (!entry) {
      entry = { stream: labels, values: [] };
      streams.set(key, entry);
    }
    entry.values.push([ns, line]);
  }
  return JSON.stringify({ streams: [...streams.values()] });
}

export function createLokiStream(options: LokiStreamOptions): LokiStream {
  const receiver = resolveReceiver(options.url, options.user, options.password);
  const headers: Record<string, string> = { 'Content-Type': 'application/json', 'User-Agent': USER_AGENT };
  if (receiver.authorization) headers.Authorization = receiver.authorization;
  const batchSize = Math.max(1, options.batchSize ?? 500);
  const maxBuffer = Math.max(1, options.maxBuffer ?? 10_000);
  const timeoutMs = options.timeoutMs ?? 5000;
  const retry = {
    maxAttempts: options.maxAttempts ?? 6,
    baseDelayMs: options.retryBaseMs ?? 500,
    maxDelayMs: options.retryMaxMs ?? 30_000,
    maxRetryAfterMs: 60_000,
  };
  const fetchImpl = options.fetchImpl ?? ((url, init) => fetch(url, init));
  let logger = options.logger ?? silentLogger;
  const health = createHealthReporter('logs', receiver.logUrl, () => logger);
  const { telemetryPushes, telemetryPushFailures, logLinesDropped } = options.metrics;

  const pending = new LineQueue();
  const clock = createClock();
  const closing = new AbortController();
  let draining: Promise<void> | null = null;
  let drainScheduled = false;
  let bufferFullReported = false;

  const interval = setInterval(() => {
    if (pending.length) startDrain();
  }, options.flushIntervalMs ?? 1000);
  interval.unref();

  function startDrain(): Promise<void> {
    if (!draining) {
      draining = drain().finally(() => {
        draining = null;
        // Lines written between the loop's last check and here: a full batch goes now, the rest on the timer.
        if (pending.length >= batchSize && !closing.signal.aborted) void startDrain();
      });
    }
    return draining;
  }

  async function drain() {
    // One batch in flight at a time: a stream's lines reach Loki in order, each exactly once.
    while (pending.length && !closing.signal.aborted) {
      const batch = pending.take(batchSize);
      const result = await deliver({
        url: receiver.url,
        headers,
        body: buildLokiPushBody(batch, options.labels),
        timeoutMs,
        retry,
        fetchImpl,
        signal: closing.signal,
        onAttempt: (outcome) => telemetryPushes.inc({ sink: 'logs', outcome }),
      });
      if (result.kind === 'delivered') {
        health.succeeded();
        bufferFullReported = false;
        continue;
      }
      logLinesDropped.inc(batch.length);
      telemetryPushFailures.inc({ sink: 'logs' });
      if (result.kind === 'rejected') health.failed('rejected', result.detail, { status: result.status, droppedLines: batch.length });
      if (result.kind === 'gave_up') health.failed('gave_up', result.detail, { attempts: result.attempts, droppedLines: batch.length });
    }
  }

  const stream = {
    write(chunk: string) {
      if (closing.signal.aborted) {
        logLinesDropped.inc();
        return;
      }
      if (pending.length >= maxBuffer) {
        pending.shift();
        logLinesDropped.inc();
        if (!bufferFullReported) {
          bufferFullReported = true;
          // Deferred: the logger writes into this very stream, and pino is inside write() right now.
          queueMicrotask(() => health.failed('buffer_full', `dropping the oldest lines beyond ${maxBuffer}`));
        }
      }
      const line = chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk;
      pending.push({ ns: clock(), line });
      // A full batch goes out soon, but never from inside write(): that is the caller's request path.
      if (pending.length >= batchSize && !draining && !drainScheduled) {
        drainScheduled = true;
        setImmediate(() => {
          drainScheduled = false;
          void startDrain();
        });
      }
    },
  };

  async function flush() {
    while (pending.length && !closing.signal.aborted) await startDrain();
    await draining;
  }

  return {
    stream,
    flush,
    async stop(deadlineMs = timeoutMs) {
      clearInterval(interval);
      if (closing.signal.aborted) return;
      let deadline: NodeJS.Timeout | undefined;
      await Promise.race([
        flush(),
        new Promise<void>((resolve) => {
          deadline = setTimeout(resolve, deadlineMs);
          deadline.unref();
        }),
      ]);
      clearTimeout(deadline);
      closing.abort();
      await draining;
      if (pending.length) logLinesDropped.inc(pending.take(pending.length).length);
    },
    setLogger(next: TelemetryLogger) {
      logger = next;
    },
  };
}
