import { setTimeout as sleep } from 'node:timers/promises';
import { SpanKind, SpanStatusCode, context, propagation, type Span } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';
import type { LogLine } from '../shared/logging/events';
import { tracer, tracingEnabled } from '../shared/tracing';
import { createCircuitBreaker } from './circuitBreaker';
import { createJsonTransport, TransportError, type JsonResponse } from './httpTransport';
import { createLatencyWindow } from './latencyWindow';
import { createPizzaJwtVerifier } from './pizzaJwtVerifier';
import { redactReportUrl, redactSecret } from './redact';
import { PRODUCTION_FACTORY_ISSUER, type FactoryClient, type FactoryClientState, type FactoryFailureReason, type FactoryOrderRequest, type FactoryOutcome } from './types';

export { redactReportUrl, reportUrlFixCode } from './redact';

export interface FactoryClientOptions {
  /** Base URL of the factory, e.g. https://pizza-factory.example or http://127.0.0.1:3001 */
  url: string;
  apiKey: string;
  /** Budget for one createPizza call, retries and key fetching included. */
  timeoutMs?: number;
  circuit?: { failureThreshold?: number; cooldownMs?: number };
  /** Accepted `iss` of pizza JWTs; default the production factory's. */
  issuers?: readonly string[];
  /** Clock skew allowed on a pizza's `exp`/`nbf`, in seconds (default 60). */
  jwtLeewaySeconds?: number;
  jwksTtlMs?: number;
  jwksMinRefreshIntervalMs?: number;
  retry?: { maxAttempts?: number; backoffMs?: number };
  /**
   * After the deadline the order has failed `timeout`, but the call may stay open up to `windowMs` more so that
   * the factory's late answer (and its report URL) is seen. 0: abort at the deadline. At most `maxOpen` at once.
   */
  lateAnswer?: { windowMs?: number; maxOpen?: number; onAnswer?: (answer: LateFactoryAnswer) => void | Promise<void> };
  logger?: Logger;
  now?: () => number;
}

/** Diner-safe texts: fixed strings, so they can never carry the API key or a report URL. */
export const FACTORY_FAILURE_MESSAGES: Record<FactoryFailureReason, string> = {
  factory_error: 'The pizza factory could not make your order',
  timeout: 'The pizza factory took too long to answer',
  circuit_open: 'The pizza factory is temporarily unavailable, please try again in a moment',
  invalid_jwt: 'The pizza factory returned an invalid pizza',
};

/** What the factory answered after its order had already failed `timeout`. */
export interface LateFactoryAnswer {
  orderId: number;
  status: number;
  /** A pizza JWT came back: the factory made a pizza for an order we failed (a reconciliation fact). */
  pizzaMade: boolean;
  /** Raw: it carries the API key. Only for storing on the failed order; log it redacted. */
  reportUrl?: string;
}

const DEADLINE = Symbol('factory deadline');
const LATE_DEADLINE = Symbol('factory late-answer window over');
const CLIENT_CLOSED = Symbol('factory client closed');
const MAX_LOGGED_FACTORY_MESSAGE = 200;
const VERIFIED = 'pizza verified';

/** A factory call waiting for its answer, until its deadline. */
interface PendingCall {
  deadlineAt: number;
  timedOut: boolean;
  /** Settles the call's wait as timed out. */
  expire: ((reason: typeof DEADLINE) => void) | undefined;
}

interface CallResult {
  outcome: FactoryOutcome;
  /** Whether the answer says anything about the factory's health, for the circuit breaker. */
  factoryHealthy: boolean;
  status?: number;
  /** The answer held a `jwt` string (valid or not). */
  jwtReturned?: boolean;
  detail: string;
  attempts: number;
}

export function createFactoryClient(options: FactoryClientOptions): FactoryClient {
  const timeoutMs = options.timeoutMs ?? 8000;
  const now = options.now ?? Date.now;
  const logger = options.logger ?? pino({ level: 'silent' });
  const maxAttempts = options.retry?.maxAttempts ?? 3;
  const backoffMs = options.retry?.backoffMs ?? 50;
  const apiKey = options.apiKey;
  const baseUrl = options.url.endsWith('/') ? options.url : `${options.url}/`;
  const orderUrl = new URL('api/order', baseUrl);
  const orderPath = orderUrl.pathname;
  // The same headers object for every call without trace context (the transport copies it).
  const orderHeaders: Readonly<Record<string, string>> = { authorization: `Bearer ${apiKey}` };
  const lateWindowMs = options.lateAnswer?.windowMs ?? 0;
  const lateMaxOpen = options.lateAnswer?.maxOpen ?? 16;
  const onLateAnswer = options.lateAnswer?.onAnswer;

  const transport = createJsonTransport();
  const latencies = createLatencyWindow(200);
  const inFlight = new Set<AbortController>();
  /** Calls waiting for an answer, oldest first (see watchDeadline). */
  const deadlines = new Set<PendingCall>();
  let deadlineTimer: NodeJS.Timeout | undefined;
  const lateCalls = new Set<AbortController>();
  let closed = false;
  let lastError: FactoryClientState['lastError'] = null;
  let activeReportUrl: string | null = null;

  const breaker = createCircuitBreaker({
    failureThreshold: options.circuit?.failureThreshold ?? 5,
    cooldownMs: options.circuit?.cooldownMs ?? 30_000,
    now,
    onTransition: (from, to, consecutiveFailures) =>
      logger.warn({ type: 'factory', event: 'circuit', from, to, consecutiveFailures } satisfies LogLine, `factory circuit ${to}`),
  });

  const verifier = createPizzaJwtVerifier({
    jwksUrl: new URL('.well-known/jwks.json', baseUrl),
    transport,
    ttlMs: options.jwksTtlMs ?? 10 * 60_000,
    minRefreshIntervalMs: options.jwksMinRefreshIntervalMs ?? 5_000,
    fetchTimeoutMs: timeoutMs,
    now,
    logger,
    issuers: options.issuers ?? [PRODUCTION_FACTORY_ISSUER],
    leewaySeconds: options.jwtLeewaySeconds ?? 60,
  });

  function failed(reason: FactoryFailureReason, latencyMs: number, extra: { factoryStatus?: number; reportUrl?: string } = {}): FactoryOutcome {
    return { kind: 'failed', reason, message: FACTORY_FAILURE_MESSAGES[reason], latencyMs, ...definedOnly(extra) };
  }

  // Retry rule: a retry may only happen when the order certainly never reached the factory, otherwise
  // the diner could pay once and get two pizzas made. That is the case only when no connection was ever
  // established (connection refused, unreachable host, DNS failure). A timeout, a reset on an
  // established connection or any HTTP answer (5xx included) is final: the pizza may have been made.
  // Past the deadline a call kept open for its late answer is never retried: the order has failed `timeout`.
  async function sendOrder(request: FactoryOrderRequest, signal: AbortSignal, pastDeadline: () => boolean): Promise<{ response: JsonResponse; attempts: number }> {
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await transport.send({
          method: 'POST',
          url: orderUrl,
          headers: tracingEnabled() ? withTraceContext({ ...orderHeaders }) : orderHeaders,
          body: { diner: request.diner, order: request.order },
          signal,
        });
        return { response, attempts: attempt };
      } catch (error) {
        const neverSent = error instanceof TransportError && !error.requestSent;
        if (!neverSent || attempt >= maxAttempts || signal.aborted || pastDeadline()) throw Object.assign(error as Error, { attempts: attempt });
        await sleep(backoffMs * 2 ** (attempt - 1), undefined, { signal });
        if (pastDeadline()) throw Object.assign(error as Error, { attempts: attempt });
      }
    }
  }

  async function callFactory(request: FactoryOrderRequest, signal: AbortSignal, startedAt: number, pastDeadline: () => boolean): Promise<CallResult> {
    let response: JsonResponse;
    let attempts: number;
    try {
      ({ response, attempts } = await sendOrder(request, signal, pastDeadline));
    } catch (error) {
      return transportFailure(error, signal, startedAt);
    }

    const body = (response.body ?? {}) as { jwt?: unknown; message?: unknown; reportUrl?: unknown };
    const reportUrl = typeof body.reportUrl === 'string' ? body.reportUrl : undefined;
    const status = response.status;

    if (status < 200 || status >= 300) {
      const factoryMessage = typeof body.message === 'string' ? body.message.slice(0, MAX_LOGGED_FACTORY_MESSAGE) : '';
      return {
        outcome: failed('factory_error', elapsed(startedAt), { factoryStatus: status, reportUrl }),
        factoryHealthy: !tripsBreaker(status),
        status,
        detail: `factory answered ${status}${factoryMessage ? `: ${factoryMessage}` : ''}`,
        attempts,
      };
    }

    const jwtReturned = typeof body.jwt === 'string';
    if (typeof body.jwt !== 'string') {
      return { outcome: failed('invalid_jwt', elapsed(startedAt), { factoryStatus: status, reportUrl }), factoryHealthy: false, status, detail: 'no jwt in the factory answer', attempts };
    }

    let verdict;
    try {
      verdict = await verifier.verify(body.jwt, { orderId: request.order.id, dinerId: request.diner.id }, signal);
    } catch (error) {
      const result = transportFailure(error, signal, startedAt);
      return { ...result, outcome: { ...result.outcome, ...definedOnly({ factoryStatus: status, reportUrl }) }, status, jwtReturned, attempts, detail: `${result.detail} while fetching the factory keys` };
    }
    if (!verdict.valid) {
      const detail = verdict.problem === 'jwks_unavailable' ? `cannot verify the pizza: ${verdict.detail}` : `pizza JWT rejected: ${verdict.detail}`;
      return { outcome: failed('invalid_jwt', elapsed(startedAt), { factoryStatus: status, reportUrl }), factoryHealthy: false, status, jwtReturned, detail, attempts };
    }
    return {
      outcome: reportUrl === undefined ? { kind: 'fulfilled', jwt: body.jwt, latencyMs: elapsed(startedAt) } : { kind: 'fulfilled', jwt: body.jwt, latencyMs: elapsed(startedAt), reportUrl },
      factoryHealthy: true,
      status,
      jwtReturned,
      detail: VERIFIED,
      attempts,
    };
  }

  function transportFailure(error: unknown, signal: AbortSignal, startedAt: number): CallResult {
    const attempts = (error as { attempts?: number } | null)?.attempts ?? 1;
    if (signal.aborted && signal.reason === DEADLINE) {
      return { outcome: failed('timeout', elapsed(startedAt)), factoryHealthy: false, detail: `no answer within ${timeoutMs} ms`, attempts };
    }
    if (signal.aborted && signal.reason === LATE_DEADLINE) {
      return { outcome: failed('timeout', elapsed(startedAt)), factoryHealthy: false, detail: `no late answer within ${timeoutMs + lateWindowMs} ms`, attempts };
    }
    if (signal.aborted && signal.reason === CLIENT_CLOSED) {
      return { outcome: failed('factory_error', elapsed(startedAt)), factoryHealthy: false, detail: 'factory client closed', attempts };
    }
    const code = error instanceof TransportError ? error.code : undefined;
    const message = error instanceof Error ? error.message : String(error);
    return { outcome: failed('factory_error', elapsed(startedAt)), factoryHealthy: false, detail: `factory unreachable: ${code ?? message}`, attempts };
  }

  function record(request: FactoryOrderRequest, result: CallResult): void {
    const { outcome } = result;
    latencies.record(outcome.latencyMs);
    if (result.factoryHealthy) breaker.recordSuccess();
    else breaker.recordFailure();

    if (outcome.reportUrl) activeReportUrl = redactReportUrl(outcome.reportUrl);
    else if (outcome.kind === 'fulfilled') activeReportUrl = null;

    // 'pizza verified' is the detail of every fulfilled call: fixed text, nothing to redact.
    const detail = result.detail === VERIFIED ? VERIFIED : redactReportUrl(redactSecret(result.detail, apiKey));
    if (outcome.kind === 'failed') lastError = { reason: outcome.reason, message: detail, at: new Date(now()).toISOString() };
    log(request, outcome, { status: result.status, attempts: result.attempts, detail });
  }

  /** The order's one log line (placeOrder writes none of its own): `factory order fulfilled` or `order failed at factory`. */
  function log(request: FactoryOrderRequest, outcome: FactoryOutcome, extra: { status?: number; attempts: number; detail: string }): void {
    const failed = outcome.kind === 'failed';
    const event = {
      type: 'factory',
      event: 'order',
      method: 'POST',
      url: orderPath,
      status: extra.status,
      latencyMs: outcome.latencyMs,
      outcome: outcome.kind,
      reason: failed ? outcome.reason : undefined,
      reportUrl: outcome.reportUrl ? redactReportUrl(outcome.reportUrl) : undefined,
      attempts: extra.attempts,
      circuit: breaker.state(),
      orderId: request.order.id,
      detail: extra.detail,
    } satisfies LogLine;
    if (failed) logger.warn(event, 'order failed at factory');
    else logger.info(event, 'factory order fulfilled');
  }

  async function createPizza(request: FactoryOrderRequest, span?: Span): Promise<FactoryOutcome> {
    const startedAt = performance.now();
    if (closed || !breaker.tryAcquire()) {
      const reason = closed ? 'factory_error' : 'circuit_open';
      const outcome = failed(reason, elapsed(startedAt));
      log(request, outcome, { attempts: 0, detail: closed ? 'factory client closed' : 'circuit open, factory not called' });
      span?.setAttributes({ 'factory.outcome': reason, 'factory.attempts': 0, 'factory.circuit': breaker.state() });
      return outcome;
    }

    const controller = new AbortController();
    const pending: PendingCall = { deadlineAt: startedAt + timeoutMs, timedOut: false, expire: undefined };
    const pastDeadline = () => pending.timedOut;
    inFlight.add(controller);
    watchDeadline(pending);
    try {
      const call = callFactory(request, controller.signal, startedAt, pastDeadline).catch(
        (error: unknown): CallResult => transportFailure(error, controller.signal, startedAt),
      );
      const first = await new Promise<CallResult | typeof DEADLINE>((resolve) => {
        pending.expire = resolve;
        void call.then(resolve);
      });
      let result: CallResult;
      if (first !== DEADLINE) result = first;
      else if (keepForLateAnswer(request, controller, call)) {
        result = { outcome: failed('timeout', elapsed(startedAt)), factoryHealthy: false, detail: `no answer within ${timeoutMs} ms (late answer awaited)`, attempts: 1 };
      } else {
        controller.abort(DEADLINE);
        result = await call;
      }
      record(request, result);
      if (span) {
        span.setAttributes({
          'factory.outcome': result.outcome.kind === 'fulfilled' ? 'fulfilled' : result.outcome.reason,
          'factory.attempts': result.attempts,
          'factory.circuit': breaker.state(),
        });
        if (result.status !== undefined) span.setAttribute('http.response.status_code', result.status);
      }
      return result.outcome;
    } finally {
      deadlines.delete(pending);
      inFlight.delete(controller);
    }
  }

  /**
   * The deadlines of the calls in flight share one timer. Every call has the same timeout, so the order the
   * calls started in is the order their deadlines come in: the timer waits for the oldest call's, expires every
   * call past its deadline, and waits for the next oldest. At a few hundred orders a second it fires about once
   * per timeout, where a timer per call was set and cleared for every order.
   */
  function watchDeadline(pending: PendingCall): void {
    deadlines.add(pending);
    if (deadlineTimer === undefined) armDeadlineTimer();
  }

  function armDeadlineTimer(): void {
    const oldest = deadlines.values().next().value;
    if (oldest === undefined) {
      deadlineTimer = undefined;
      return;
    }
    deadlineTimer = setTimeout(expireDeadlines, Math.max(1, Math.ceil(oldest.deadlineAt - performance.now())));
    // An open call keeps the process alive by its socket (or its backoff timer): the shared timer need not.
    deadlineTimer.unref();
  }

  function expireDeadlines(): void {
    const now = performance.now();
    for (const pending of deadlines) {
      if (pending.deadlineAt > now) break;
      deadlines.delete(pending);
      pending.timedOut = true;
      pending.expire?.(DEADLINE);
    }
    armDeadlineTimer();
  }

  /**
   * Leaves a timed-out call open for its late answer (bounded in time and in number). The order's outcome is
   * already `timeout` and stays so; the answer only tells on-call what the factory did (and how to end its chaos).
   */
  function keepForLateAnswer(request: FactoryOrderRequest, controller: AbortController, call: Promise<CallResult>): boolean {
    if (closed || lateWindowMs <= 0 || lateCalls.size >= lateMaxOpen) return false;
    lateCalls.add(controller);
    const window = setTimeout(() => controller.abort(LATE_DEADLINE), lateWindowMs);
    void call
      .then((late) => lateAnswered(request, late))
      .catch((error: unknown) => logger.error({ type: 'factory', event: 'late_answer', orderId: request.order.id, err: error }, 'handling the factory late answer failed'))
      .finally(() => {
        clearTimeout(window);
        lateCalls.delete(controller);
      });
    return true;
  }

  async function lateAnswered(request: FactoryOrderRequest, late: CallResult): Promise<void> {
    const orderId = request.order.id;
    if (late.status === undefined) {
      logger.info({ type: 'factory', event: 'late_answer_none', orderId, detail: redactReportUrl(redactSecret(late.detail, apiKey)) }, 'no late factory answer');
      return;
    }
    const reportUrl = late.outcome.reportUrl;
    const pizzaMade = late.jwtReturned === true;
    if (reportUrl) activeReportUrl = redactReportUrl(reportUrl);
    logger.warn(
      { type: 'factory', event: 'late_answer', method: 'POST', url: orderUrl.pathname, status: late.status, pizzaMade, latencyMs: late.outcome.latencyMs, reportUrl: reportUrl ? redactReportUrl(reportUrl) : undefined, orderId },
      pizzaMade ? 'factory answered after the order failed timeout, with a pizza' : 'factory answered after the order failed timeout',
    );
    await onLateAnswer?.({ orderId, status: late.status, pizzaMade, ...definedOnly({ reportUrl }) });
  }

  return {
    createPizza(request) {
      if (!tracingEnabled()) return createPizza(request);
      // The span's attributes are fixed names and bounded values: no URL (the report URL holds our key),
      // no diner details. Its context goes to the factory as `traceparent`.
      return tracer.startActiveSpan(
        'factory create pizza',
        { kind: SpanKind.CLIENT, attributes: { 'http.request.method': 'POST', 'url.path': orderUrl.pathname, 'order.id': request.order.id, 'factory.circuit_before': breaker.state() } },
        async (span) => {
          try {
            const outcome = await createPizza(request, span);
            if (outcome.kind === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.reason });
            return outcome;
          } finally {
            span.end();
          }
        },
      );
    },

    state() {
      return {
        circuit: breaker.state(),
        consecutiveFailures: breaker.consecutiveFailures(),
        recentLatencyMs: latencies.summary(),
        lastError,
        activeReportUrl,
      };
    },

    async close() {
      closed = true;
      clearTimeout(deadlineTimer);
      for (const controller of inFlight) controller.abort(CLIENT_CLOSED);
      for (const controller of lateCalls) controller.abort(CLIENT_CLOSED);
      transport.close();
    },
  };
}

// A 4xx other than 408/429 means the factory is up and judged our request (bad body, bad key): opening the
// circuit would refuse every other diner's valid order without relieving anything, so it counts as a
// healthy answer. 5xx, 408 and 429 say the factory itself is in trouble.
function tripsBreaker(status: number): boolean {
  if (status === 408 || status === 429) return true;
  return status < 400 || status >= 500;
}

/** The W3C `traceparent` (and `tracestate`) of the active span, when tracing is on. */
function withTraceContext(headers: Record<string, string>): Record<string, string> {
  if (tracingEnabled()) propagation.inject(context.active(), headers);
  return headers;
}

function elapsed(startedAt: number): number {
  return Math.round(performance.now() - startedAt);
}

/** The fields whose value is not undefined (a plain loop: Object.entries/fromEntries allocated per order). */
function definedOnly<T extends object>(fields: T): Partial<T> {
  const defined: Partial<T> = {};
  for (const key in fields) if (fields[key] !== undefined) defined[key] = fields[key];
  return defined;
}
