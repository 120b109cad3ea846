import { alertList, dashboard, DashboardIdentity, JsonObject, logs, logStream, row, sel, stat, timeseries } from './panels';

export const AUTH_SECURITY: DashboardIdentity = {
  uid: 'jwt-pizza-auth-security',
  slug: 'jwt-pizza-auth-and-security',
  title: 'JWT Pizza / Auth & security',
};

export const AUTH_SECURITY_PANELS = {
  authAttempts: 6,
  rateLimited: 10,
  probes: 11,
  securityLogs: 13,
  untrustedForwarded: 17,
  rateLimitStore: 18,
} as const;

const rate = (selector: string) => `rate(${selector}[$__rate_interval])`;
const auth = (...matchers: string[]) => sel('auth_attempts_total', ...matchers);

export function buildAuthSecurity(): JsonObject {
  return dashboard({
    ...AUTH_SECURITY,
    description: 'Logins and registrations, active users, rate limiting and scanner probes, with the security log.',
    tags: ['auth', 'security'],
    panels: [
      row(1, 'At a glance'),
      stat({ id: 2, title: 'Active users', query: { expr: `sum(${sel('active_users')})` } }),
      stat({
        id: 3,
        title: 'Failed logins (15m)',
        query: { expr: `sum(increase(${auth('action="login"', 'outcome="failure"')}[15m]))` },
        decimals: 0,
        thresholdSteps: [
          { value: null, color: 'green' },
          { value: 10, color: 'red' },
        ],
      }),
      stat({
        id: 4,
        title: 'Rate-limited requests (15m)',
        query: { expr: `sum(increase(${sel('rate_limited_requests_total')}[15m]))` },
        decimals: 0,
        thresholdSteps: [
          { value: null, color: 'green' },
          { value: 1, color: 'orange' },
        ],
      }),
      stat({
        id: 5,
        title: 'Scanner probes (1h)',
        query: { expr: `sum(increase(${sel('http_suspicious_requests_total')}[1h]))` },
        decimals: 0,
        thresholdSteps: [
          { value: null, color: 'green' },
          { value: 5, color: 'orange' },
        ],
      }),
      alertList({ id: 14, title: 'Security alerts', labelFilter: 'team=pizza-oncall, severity=ticket', w: 8, h: 4 }),
      row(15, 'Authentication'),
      timeseries({
        id: AUTH_SECURITY_PANELS.authAttempts,
        title: 'Auth attempts per minute (success / failure)',
        queries: [{ expr: `sum by (action, outcome) (${rate(auth())}) * 60`, legend: '{{action}} {{outcome}}' }],
      }),
      timeseries({
        id: 7,
        title: 'Login failure ratio',
        queries: [
          {
            expr: `sum(${rate(auth('action="login"', 'outcome="failure"'))}) / sum(${rate(auth('action="login"'))})`,
            legend: 'failed logins',
          },
        ],
        unit: 'percentunit',
        min: 0,
        max: 1,
      }),
      timeseries({
        id: 8,
        title: 'Active users',
        description: 'Distinct users with a live session seen in the last 5 minutes.',
        queries: [{ expr: `sum(${sel('active_users')})`, legend: 'active users' }],
      }),
      timeseries({
        id: 16,
        title: 'Refused requests per minute (401 / 403 / 429)',
        queries: [
          { expr: `sum by (status_code) (${rate(sel('http_requests_total', 'status_code=~"401|403|429"'))}) * 60`, legend: '{{status_code}}' },
        ],
        unit: 'reqpm',
      }),
      row(9, 'Abuse'),
      timeseries({
        id: AUTH_SECURITY_PANELS.rateLimited,
        title: 'Rate-limited requests per minute by limiter',
        queries: [{ expr: `sum by (limiter) (${rate(sel('rate_limited_requests_total'))}) * 60`, legend: '{{limiter}}' }],
        unit: 'reqpm',
        drawStyle: 'bars',
      }),
      timeseries({
        id: AUTH_SECURITY_PANELS.probes,
        title: 'Scanner probes per minute by category',
        description: 'Requests to known scanner paths (/.env, /.git/, wp-*, *.php, /admin...); the raw path is in the security log only.',
        queries: [{ expr: `sum by (category) (${rate(sel('http_suspicious_requests_total'))}) * 60`, legend: '{{category}}' }],
        unit: 'reqpm',
        stack: true,
        drawStyle: 'bars',
      }),
      timeseries({
        id: AUTH_SECURITY_PANELS.untrustedForwarded,
        title: 'Requests forwarded by an undeclared proxy per minute',
        description:
          'Requests that carried X-Forwarded-For while TRUST_PROXY is unset, beside all requests. They skip the general per-IP limit; ' +
          'when most traffic is forwarded, the service sits behind a proxy that TRUST_PROXY should name.',
        queries: [
          { expr: `sum(${rate(sel('http_untrusted_forwarded_requests_total'))}) * 60`, legend: 'forwarded by an untrusted peer (counted as that peer)' },
          { expr: `sum(${rate(sel('http_requests_total'))}) * 60`, legend: 'all requests' },
        ],
        unit: 'reqpm',
      }),
      timeseries({
        id: AUTH_SECURITY_PANELS.rateLimitStore,
        title: 'Rate-limit store (Redis) degraded, per instance',
        description:
          '1 while an instance cannot reach Redis: the general limit fails open and login limits count per instance. ' +
          'RateLimitStoreDegraded fires after 5 minutes at 1.',
        queries: [{ expr: `max by (instance) (${sel('rate_limit_store_degraded')})`, legend: '{{instance}}' }],
        min: 0,
        max: 1,
        drawStyle: 'bars',
      }),
      logs({ id: AUTH_SECURITY_PANELS.securityLogs, title: 'Security log (probes, auth failure bursts, rate limits)', expr: logStream('type="security"') }),
    ],
  });
}
