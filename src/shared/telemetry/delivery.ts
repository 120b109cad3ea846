// HTTP delivery shared by the metrics pusher and the Loki stream: one POST with a timeout, retried with
// exponential backoff and jitter on network errors, 429 and 5xx; any other 4xx is final.

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** The logger surface the telemetry sinks use, so a pino Logger or a test double both fit. */
export interface TelemetryLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export const silentLogger: TelemetryLogger = { info: () => undefined, warn: () => undefined };

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Upper bound on a receiver's Retry-After, so a misconfigured receiver cannot park a batch for hours. */
  maxRetryAfterMs: number;
}

export interface DeliveryRequest {
  url: string;
  headers: Record<string, string>;
  body: Uint8Array | string;
  timeoutMs: number;
  retry: RetryPolicy;
  fetchImpl: FetchLike;
  /** Aborts the attempt in flight and any backoff wait (shutdown). */
  signal: AbortSignal;
  onAttempt(outcome: 'success' | 'failure'): void;
}

export type DeliveryResult =
  | { kind: 'delivered'; attempts: number }
  | { kind: 'rejected'; attempts: number; status: number; detail: string }
  | { kind: 'gave_up'; attempts: number; detail: string }
  | { kind: 'cancelled'; attempts: number };

type AttemptResult =
  | { kind: 'ok' }
  | { kind: 'retryable'; detail: string; retryAfterMs?: number }
  | { kind: 'final'; status: number; detail: string };

export async function deliver(request: DeliveryRequest): Promise<DeliveryResult> {
  let attempts = 0;
  while (!request.signal.aborted) {
    attempts++;
    const result = await attempt(request);
    if (result.kind === 'ok') {
      request.onAttempt('success');
      return { kind: 'delivered', attempts };
    }
    if (request.signal.aborted) return { kind: 'cancelled', attempts };
    request.onAttempt('failure');
    if (result.kind === 'final') return { kind: 'rejected', attempts, status: result.status, detail: result.detail };
    if (attempts >= request.retry.maxAttempts) return { kind: 'gave_up', attempts, detail: result.detail };
    const backoff = backoffDelayMs(attempts, request.retry);
    const wait = result.retryAfterMs === undefined ? backoff : Math.max(backoff, Math.min(result.retryAfterMs, request.retry.maxRetryAfterMs));
    await sleep(wait, request.signal);
  }
  return { kind: 'cancelled', attempts };
}

async function attempt(request: DeliveryRequest): Promise<AttemptResult> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, request.timeoutMs);
  timer.unref();
  const onClose = () => controller.abort();
  request.signal.addEventListener('abort', onClose, { once: true });
  try {
    const response = await request.fetchImpl(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: controller.signal,
    });
    // Reading the body frees the connection for keep-alive; only error bodies are kept (truncated).
    const text = await response.text().catch(() => '');
    if (response.ok) return { kind: 'ok' };
    const detail = `HTTP ${response.status}${text ? `: ${text.slice(0, 200).trim()}` : ''}`;
    if (response.status === 429 || response.status >= 500) {
      return { kind: 'retryable', detail, retryAfterMs: parseRetryAfterMs(response.headers.get('retry-after')) };
    }
    return { kind: 'final', status: response.status, detail };
  } catch (error) {
    return { kind: 'retryable', detail: timedOut ? `timeout after ${request.timeoutMs} ms` : describeNetworkError(error) };
  } finally {
    clearTimeout(timer);
    request.signal.removeEventListener('abort', onClose);
  }
}

/** Exponential backoff with jitter in [50%, 100%] of the step, so many instances do not retry in lockstep. */
export function backoffDelayMs(failedAttempts: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, random = Math.random): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failedAttempts - 1));
  return Math.round(step * (0.5 + random() / 2));
}

/** Retry-After is either delay-seconds or an HTTP date. */
export function parseRetryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? error.message;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener('abort', done, { once: true });
  });
}

export interface ReceiverTarget {
  /** The URL to POST to, without user info (fetch refuses URLs that carry credentials). */
  url: string;
  /** The URL safe to log: no user info, no query string. */
  logUrl: string;
  authorization?: string;
}

/** Basic auth from explicit user/password, or from user info embedded in the URL. */
export function resolveReceiver(rawUrl: string, user?: string, password?: string): ReceiverTarget {
  const url = new URL(rawUrl);
  const effectiveUser = user ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const effectivePassword = password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  url.username = '';
  url.password = '';
  const logUrl = `${url.origin}${url.pathname}`;
  const authorization =
    effectiveUser !== undefined || effectivePassword !== undefined
      ? `Basic ${Buffer.from(`${effectiveUser ?? ''}:${effectivePassword ?? ''}`).toString('base64')}`
      : undefined;
  return { url: url.toString(), logUrl, authorization };
}

export const USER_AGENT = 'jwt-pizza-service-telemetry/1.0';

/**
 * Logs a sink's health changes instead of every failure, so a dead receiver costs a few lines, not
 * one per attempt (the Loki sink would otherwise feed its own buffer).
 */
export function createHealthReporter(sink: 'metrics' | 'logs', logUrl: string, getLogger: () => TelemetryLogger) {
  let failing = false;
  return {
    failed(reason: string, detail: string, extra: object = {}) {
      if (failing) return;
      failing = true;
      getLogger().warn({ type: 'telemetry', sink, receiver: logUrl, reason, detail, ...extra }, `${sink} push failing; further failures are counted, not logged, until it recovers`);
    },
    succeeded() {
      if (!failing) return;
      failing = false;
      getLogger().info({ type: 'telemetry', sink, receiver: logUrl }, `${sink} push recovered`);
    },
  };
}
