/**
 * Every kind of structured log line the service (and its factory simulator) writes: its `type` (also a Loki
 * label), its `event` when it has one, the levels it is written at, the fields it carries besides the ones
 * every line has, and what it means. docs/reference/logs.md is generated from this list (`npm run docs`), and
 * test/unit/docs/logEvents.test.ts fails when a `type`/`event` pair written in src/ is missing here, or when
 * one listed here is no longer written.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface LogEventSpec {
  type: string;
  /** Absent for lines that carry only a `type`. */
  event?: string;
  levels: readonly LogLevel[];
  fields: readonly string[];
  meaning: string;
}

/** On every line: `level`, `time`, `service`, `env`, `msg`; `trace_id` and `span_id` inside a traced request; `component` on the simulator's and cluster primary's lines. */
export const COMMON_LOG_FIELDS = ['level', 'time', 'service', 'env', 'msg'] as const;

export const LOG_EVENTS = [
  {
    type: 'http',
    levels: ['info', 'warn', 'error'],
    fields: ['reqId', 'method', 'route', 'path', 'status', 'latencyMs', 'authorized', 'ip', 'reqBytes', 'reqType', 'reqBody', 'error', 'url', 'database', 'factory', 'reason'],
    meaning: 'One line per answered request (warn for 4xx, error for 5xx; reqBody only as the route schema accepted it); also the server listening, its metrics listener, and its drain and end at shutdown',
  },
  { type: 'security', event: 'probe', levels: ['warn'], fields: ['category', 'method', 'path', 'ip', 'reqId'], meaning: 'A request to a known scanner path (/.env, /.git/, wp-*, *.php, ...)' },
  { type: 'security', event: 'rate_limit', levels: ['warn'], fields: ['limiter', 'ip', 'scope'], meaning: 'A request refused with 429: every login refusal (scope ip or account_ip), the first general refusal of a client in a window' },
  { type: 'security', event: 'auth_failure_burst', levels: ['warn'], fields: ['ip', 'ipFailures', 'accountIpFailures', 'accountFailures'], meaning: 'Failed logins reached a limit or the slowdown threshold (once per threshold crossed)' },
  { type: 'security', event: 'untrusted_forwarded', levels: ['warn'], fields: ['ip'], meaning: 'X-Forwarded-For came from a peer TRUST_PROXY does not name; logged once per process, then only counted' },
  { type: 'security', event: 'rate_limit_store', levels: ['warn', 'info'], fields: ['state', 'err'], meaning: 'The Redis rate-limit store became unreachable (state degraded, warn) or reachable again (state ok, info)' },
  {
    type: 'factory',
    levels: ['info', 'error'],
    fields: ['url', 'chaosKey', 'chaosAdminKey', 'method', 'status', 'latencyMs', 'outcome', 'kids', 'detail'],
    meaning: 'The embedded factory simulator started; a fetch of the factory JWKS (outcome jwks_refreshed, or jwks_unavailable at error)',
  },
  {
    type: 'factory',
    event: 'order',
    levels: ['info', 'warn'],
    fields: ['method', 'url', 'status', 'latencyMs', 'outcome', 'reason', 'reportUrl', 'attempts', 'circuit', 'orderId', 'detail'],
    meaning: "An order's one line: its factory call fulfilled (info) or failed (warn, with the failure reason)",
  },
  { type: 'factory', event: 'circuit', levels: ['warn'], fields: ['from', 'to', 'consecutiveFailures'], meaning: 'The factory circuit breaker changed state' },
  {
    type: 'factory',
    event: 'late_answer',
    levels: ['warn', 'info', 'error'],
    fields: ['method', 'url', 'status', 'pizzaMade', 'latencyMs', 'reportUrl', 'orderId', 'err'],
    meaning: 'The factory answered an order that had already failed timeout (warn); its report URL was not stored because the order is no longer failed (info); handling the answer threw (error)',
  },
  { type: 'factory', event: 'late_answer_none', levels: ['info'], fields: ['orderId', 'detail'], meaning: 'A timed-out call kept open for a late answer ended without one' },
  {
    type: 'factory',
    event: 'report',
    levels: ['info', 'warn'],
    fields: ['orderId', 'reportUrl', 'outcome', 'status', 'factoryMessage', 'detail', 'err'],
    meaning: "An admin's resolve of the running chaos: the report URL called (info), refused before calling or unreachable (warn)",
  },
  { type: 'factory', event: 'order_received', levels: ['info'], fields: ['orderId', 'traceparent', 'trace_id', 'parent_span_id'], meaning: 'Simulator: a traced order arrived' },
  { type: 'factory', event: 'keys_rotated', levels: ['info'], fields: ['kid'], meaning: 'Simulator: its pizza-signing key was rotated' },
  { type: 'factory', event: 'listening', levels: ['info'], fields: ['url', 'publicUrl', 'kids'], meaning: 'Simulator (standalone): listening' },
  { type: 'factory', event: 'stopping', levels: ['info'], fields: ['signal'], meaning: 'Simulator (standalone): stopping on a signal' },
  { type: 'chaos', event: 'activated', levels: ['warn'], fields: ['by', 'chaos'], meaning: 'Simulator: a chaos was started (by an admin or the vendor)' },
  { type: 'chaos', event: 'resolved', levels: ['warn'], fields: ['chaosType', 'by'], meaning: 'Simulator: the running chaos was resolved' },
  { type: 'chaos', event: 'strike', levels: ['info'], fields: ['chaosType', 'reportUrl', 'trace_id'], meaning: 'Simulator: the running chaos hit an order' },
  {
    type: 'db',
    levels: ['info', 'warn', 'error', 'fatal'],
    fields: ['err', 'reqId', 'orderId', 'retryInMs', 'email', 'backend'],
    meaning: 'Database start-up failed (fatal), seeding, a request or readiness check that found it unavailable, an order step retried, a session touch or background sweep that failed',
  },
  { type: 'db', event: 'pending_sweep', levels: ['warn'], fields: ['orderIds'], meaning: 'Orders left pending by an interrupted process were marked failed' },
  { type: 'error', levels: ['error'], fields: ['err', 'reqId', 'method', 'path', 'orderId'], meaning: 'An unhandled error (the client sees a generic 500 and the reqId), or the factory client threw' },
  {
    type: 'telemetry',
    levels: ['warn', 'info'],
    fields: ['sink', 'receiver', 'reason', 'detail', 'status', 'attempts', 'droppedLines'],
    meaning: 'A push sink (metrics, logs) started failing (warn, once until it recovers) or recovered (info)',
  },
  {
    type: 'cluster',
    levels: ['info', 'error', 'fatal'],
    fields: ['workerId', 'pid', 'code', 'signal', 'crashes', 'workers', 'reason', 'forced'],
    meaning: 'The cluster primary forked, lost (error) or stopped workers; fatal when workers keep dying',
  },
] as const satisfies readonly LogEventSpec[];

type Pair<E> = E extends { type: infer T; event: infer V } ? { type: T; event: V } : E extends { type: infer T } ? { type: T; event?: undefined } : never;

/** A catalogued `type`/`event` pair; check a log line's fields with `satisfies LogLine`. */
export type LogEvent = Pair<(typeof LOG_EVENTS)[number]>;
export type LogLine = LogEvent & Record<string, unknown>;
