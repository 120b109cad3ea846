// Security tickets: scanner probes by category, login failure bursts, rate limiting, an undeclared proxy,
// the rate-limit store (Redis) out of reach.

import {
  LOGIN_FAILURE_BURST,
  PROXY_NOT_TRUSTED,
  RATE_LIMIT_STORE_DEGRADED,
  RATE_LIMITING_ACTIVE,
  SCANNER_PROBES_DETECTED,
} from '../rules/definitions';
import { expectFiring, RuleTestFile, Scenario } from './model';
import { counter, gauge, INSTANCE_A, INSTANCE_B, minutes, onTheMinute, serviceLabels, Series, within } from './series';

const CATEGORIES = ['dotenv', 'git', 'wordpress', 'php', 'admin', 'other'] as const;
const source = serviceLabels().source;

/** All label sets exist at 0 from start-up, as the service creates them. */
function probes(total: number, eventsAt: Partial<Record<(typeof CATEGORIES)[number], (t: number) => number>>): Series[] {
  return CATEGORIES.map((category) => ({
    name: 'http_suspicious_requests_total',
    labels: { ...serviceLabels(), category },
    values: counter(total, eventsAt[category] ?? (() => 0)),
  }));
}

function authAttempts(total: number, loginSuccess: (t: number) => number, loginFailure: (t: number) => number): Series[] {
  const series: Series[] = [];
  for (const action of ['login', 'register', 'logout']) {
    for (const outcome of ['success', 'failure']) {
      const eventsAt = action !== 'login' ? () => 0 : outcome === 'success' ? loginSuccess : loginFailure;
      series.push({ name: 'auth_attempts_total', labels: { ...serviceLabels(), action, outcome }, values: counter(total, eventsAt) });
    }
  }
  return series;
}

function rateLimited(total: number, login: (t: number) => number, general: (t: number) => number): Series[] {
  return [
    { name: 'rate_limited_requests_total', labels: { ...serviceLabels(), limiter: 'login' }, values: counter(total, login) },
    { name: 'rate_limited_requests_total', labels: { ...serviceLabels(), limiter: 'general' }, values: counter(total, general) },
  ];
}

/**
 * A scanner sends 8 GET /prod/.env-style probes in two minutes (10-12), later 3 .git probes.
 * dotenv reaches 5 in 10 m at 12 → ticket at once; below 5 at 21 → keep_firing_for 15m → through 35.
 * git (3 probes) stays below the threshold: the per-minute checks would catch a git alert.
 */
export const SCANNER: Scenario = {
  name: 'a scanner probes for .env files: one ticket for the dotenv category only',
  minutes: 45,
  series: probes(45, {
    dotenv: (t) => (within(t, 10, 12) ? 2 : 0),
    git: (t) => ([20.5, 21, 21.5].some((m) => t === minutes(m)) ? 1 : 0),
  }),
  expectations: [expectFiring(SCANNER_PROBES_DETECTED, { source, category: 'dotenv' }, [[12, 35]], { 12: '8' })],
};

/** 16 failed logins in two minutes: ticket at 12; below 10 in 5 m at 16 → keep_firing_for 10m → through 25. */
export const CREDENTIAL_STUFFING: Scenario = {
  name: '16 failed logins in two minutes: one LoginFailureBurst ticket',
  minutes: 35,
  series: authAttempts(35, (t) => (onTheMinute(t) ? 1 : 0), (t) => (within(t, 10, 12) ? 4 : 0)),
  expectations: [expectFiring(LOGIN_FAILURE_BURST, { source }, [[12, 25]], { 12: '16' })],
};

/** The login limiter refuses 4 requests a minute for 10 minutes: pending at 12, ticket at 14, through 33. */
export const LOGIN_LIMITER: Scenario = {
  name: 'the login rate limiter refuses 4 requests a minute for 10 minutes',
  minutes: 40,
  series: rateLimited(40, (t) => (within(t, 10, 20) ? 2 : 0), () => 0),
  expectations: [expectFiring(RATE_LIMITING_ACTIVE, { source, limiter: 'login' }, [[14, 33]], { 14: '16' })],
};

export const BACKGROUND_NOISE: Scenario = {
  name: 'background noise: a probe every 15 minutes, a mistyped password 3 times, 3 refused requests: no ticket',
  minutes: 60,
  series: [
    ...probes(60, { dotenv: (t) => ([10, 25, 40, 55].some((m) => t === minutes(m)) ? 1 : 0), php: (t) => (t === minutes(30) ? 1 : 0) }),
    ...authAttempts(60, (t) => (onTheMinute(t) ? 1 : 0), (t) => ([10, 10.5, 11].some((m) => t === minutes(m)) ? 1 : 0)),
    ...rateLimited(60, (t) => ([20, 20.5].some((m) => t === minutes(m)) ? 1 : 0), (t) => (t === minutes(40) ? 1 : 0)),
  ],
  expectations: [],
  quiet: [SCANNER_PROBES_DETECTED.alert, LOGIN_FAILURE_BURST.alert, RATE_LIMITING_ACTIVE.alert],
};

/** All requests, and those of them that carried X-Forwarded-For while TRUST_PROXY was unset. */
function forwarded(total: number, requestsPer30s: number, forwardedAt: (t: number) => number): Series[] {
  return [
    { name: 'http_requests_total', labels: { ...serviceLabels(), method: 'GET', route: '/api/order/menu', status_code: '200' }, values: counter(total, () => requestsPer30s) },
    { name: 'http_untrusted_forwarded_requests_total', labels: serviceLabels(), values: counter(total, forwardedAt) },
  ];
}

/**
 * 200 requests a minute; from minute 10 a load balancer nobody declared forwards 90% of them. The 10 m
 * share passes one half at 16 → ticket at 26 (for 10m); the proxy is declared at 40 (the counter stops)
 * and the share falls under one half at 45.
 */
export const UNDECLARED_PROXY: Scenario = {
  name: 'a load balancer in front, TRUST_PROXY unset: one ProxyNotTrusted ticket, resolved once it is declared',
  minutes: 55,
  series: forwarded(55, 100, (t) => (within(t, 10, 40) ? 90 : 0)),
  expectations: [expectFiring(PROXY_NOT_TRUSTED, { source }, [[26, 44]])],
};

/** No proxy: 5% of the requests carry X-Forwarded-For because their clients send it: no ticket. */
export const FORWARDING_CLIENTS: Scenario = {
  name: 'some clients send X-Forwarded-For themselves: no ticket',
  minutes: 40,
  series: forwarded(40, 100, (t) => (t > minutes(5) ? 5 : 0)),
  expectations: [],
  quiet: [PROXY_NOT_TRUSTED.alert],
};

/** A quiet service whose few requests (4 a minute, 40 in 10 m) all come forwarded: under the volume guard, no ticket. */
export const LITTLE_FORWARDED_TRAFFIC: Scenario = {
  name: 'a trickle of requests, all forwarded: under the volume guard, no ticket',
  minutes: 40,
  series: forwarded(40, 2, (t) => (t > 0 ? 2 : 0)),
  expectations: [],
  quiet: [PROXY_NOT_TRUSTED.alert],
};

function storeDegraded(total: number, degradedA: (t: number) => boolean, degradedB: (t: number) => boolean): Series[] {
  return [
    { name: 'rate_limit_store_degraded', labels: serviceLabels(INSTANCE_A), values: gauge(total, (t) => (degradedA(t) ? 1 : 0)) },
    { name: 'rate_limit_store_degraded', labels: serviceLabels(INSTANCE_B), values: gauge(total, (t) => (degradedB(t) ? 1 : 0)) },
  ];
}

/**
 * Instance A cannot reach Redis from minute 10 to 20: pending at 11, ticket at 16 (for 5m), back at 20:30 →
 * keep_firing_for 5m → through 25. Instance B hangs on Redis for 2 minutes at 30: pending only. From 40 to 50
 * both instances are cut off: one ticket for the source, counting 2 instances.
 */
export const REDIS_UNREACHABLE: Scenario = {
  name: 'Redis unreachable for 10 minutes (one ticket), a 2-minute hang (none), both instances cut off (one ticket)',
  minutes: 60,
  series: storeDegraded(
    60,
    (t) => within(t, 10, 20) || within(t, 40, 50),
    (t) => within(t, 30, 32) || within(t, 40, 50),
  ),
  expectations: [expectFiring(RATE_LIMIT_STORE_DEGRADED, { source }, [[16, 25], [46, 55]], { 16: '1', 46: '2' })],
};

/** Redis restarts: a quick one seen by A at 5, a slow one (4 minutes, a large data set to load) by both at 15: no ticket. */
export const REDIS_RESTARTS: Scenario = {
  name: 'Redis restarts, one of them taking 4 minutes: no ticket',
  minutes: 30,
  series: storeDegraded(
    30,
    (t) => within(t, 5, 5.5) || within(t, 15, 19),
    (t) => within(t, 15, 19),
  ),
  expectations: [],
  quiet: [RATE_LIMIT_STORE_DEGRADED.alert],
};

export const SECURITY_TEST_FILE: RuleTestFile = {
  path: 'grafana/alerts/tests/security.test.yml',
  ruleFiles: ['../security.yml'],
  header: 'Security tickets: scanner probes by category, login failure bursts, rate limiting, an undeclared proxy, the rate-limit store.',
  scenarios: [
    SCANNER,
    CREDENTIAL_STUFFING,
    LOGIN_LIMITER,
    BACKGROUND_NOISE,
    UNDECLARED_PROXY,
    FORWARDING_CLIENTS,
    LITTLE_FORWARDED_TRAFFIC,
    REDIS_UNREACHABLE,
    REDIS_RESTARTS,
  ],
};
