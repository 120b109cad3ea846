import { z } from 'zod';
import { PRODUCTION_FACTORY_ISSUER } from '../factory/types';

/**
 * The one configuration schema. Every key is an environment variable; `config/.env.example` is generated
 * from the descriptions here (`npm run config:example`) and a test keeps it in sync.
 */
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

export const configKeys = {
  NODE_ENV: { schema: z.enum(['development', 'production', 'test']), default: 'development', doc: 'development | production | test. production refuses to start when a key breaks its Production rule; development seeds demo data.' },
  HOST: { schema: z.string().min(1), default: '0.0.0.0', doc: 'Interface to listen on.' },
  PORT: { schema: int(0, 65535), default: '3000', doc: 'HTTP port.' },
  DATABASE_URL: { schema: z.string().regex(/^(mysql:\/\/.+|sqlite:.+)$/, 'must be mysql://user:pass@host:port/db or sqlite:<path>'), default: 'sqlite:./data/pizza.db', doc: 'mysql://user:pass@host:port/db (MySQL/MariaDB, production) or sqlite:<path> (embedded; sqlite::memory: for a throwaway database).' },
  DB_POOL_SIZE: { schema: int(1, 200), default: '10', doc: 'MySQL connection pool size (upper bound of connections per process).' },
  DB_TIMEOUT_MS: { schema: int(100, 600000), default: '5000', doc: 'MySQL connect timeout and pool wait bound, in ms: a stopped database answers 503 fast instead of hanging.' },
  DATA_DIR: { schema: z.string().min(1), default: './data', doc: 'Where development keeps its generated JWT secret. (The default SQLite file is set by DATABASE_URL, not by this.)' },
  JWT_SECRET: { schema: optionalString, default: undefined, doc: 'HMAC secret for auth tokens (32+ characters). Generated once into DATA_DIR in development.' },
  JWT_TTL_SECONDS: { schema: int(60, 60 * 60 * 24 * 30), default: '86400', doc: 'Auth token and session lifetime in seconds.' },
  BCRYPT_ROUNDS: { schema: int(4, 15), default: '10', doc: 'bcrypt cost (4–15).' },
  FACTORY_URL: { schema: optionalString.pipe(z.string().url().optional()), default: undefined, doc: 'Pizza factory base URL. Unset: an embedded factory simulator is started on FACTORY_PORT.' },
  FACTORY_API_KEY: { schema: optionalString, default: undefined, doc: 'Vendor API key for the factory; the embedded simulator makes one up in development.' },
  FACTORY_TIMEOUT_MS: { schema: int(100, 120000), default: '8000', doc: 'Factory call timeout (the factory\'s throttle chaos holds calls ~32 s).' },
  FACTORY_LATE_ANSWER_MS: { schema: int(0, 600000), default: '45000', doc: 'After FACTORY_TIMEOUT_MS the order fails timeout, but the factory call stays open this much longer so its late answer (and chaos report URL) reaches on-call. 0: abort at the timeout.' },
  FACTORY_CIRCUIT_THRESHOLD: { schema: int(1, 1000), default: '5', doc: 'Consecutive factory failures that open the circuit breaker.' },
  FACTORY_CIRCUIT_COOLDOWN_MS: { schema: int(100, 3600000), default: '30000', doc: 'How long the open circuit fails fast before one probe is let through.' },
  FACTORY_PORT: { schema: int(0, 65535), default: '3001', doc: 'Port of the embedded factory simulator (only when FACTORY_URL is unset).' },
  FACTORY_JWT_ISSUER: { schema: z.string().regex(/^[^,\s]+(\s*,\s*[^,\s]+)*$/, 'must be one issuer or a comma-separated list'), default: PRODUCTION_FACTORY_ISSUER, doc: 'Accepted `iss` of pizza JWTs (comma-separated list). The production factory and the embedded simulator sign as cs329.click; a pizza from any other issuer is refused invalid_jwt.' },
  FACTORY_ADMIN_KEY: { schema: optionalString, default: undefined, doc: 'Chaos-control key of the embedded factory simulator. Unset: dev-factory-admin-key (the embedded simulator never runs in production).' },
  CORS_ORIGINS: { schema: optionalString, default: undefined, doc: 'Comma-separated allowed browser origins (exact match). Unset outside production: any http://localhost:* or 127.0.0.1 origin.' },
  ADMIN_EMAIL: { schema: optionalString.pipe(z.string().email().optional()), default: undefined, doc: 'Admin account created or updated at start-up (with ADMIN_PASSWORD).' },
  ADMIN_PASSWORD: { schema: optionalString, default: undefined, doc: 'Password of ADMIN_EMAIL.' },
  ADMIN_NAME: { schema: z.string().min(1), default: 'Admin', doc: 'Display name of ADMIN_EMAIL.' },
  SEED_DEMO_DATA: { schema: optionalString.pipe(bool.optional()), default: undefined, doc: 'Seed the classic demo users and franchise. Default: true in development, false otherwise (then only the menu is seeded).' },
  BODY_LIMIT: { schema: z.string().regex(/^\d+(b|kb|mb)$/i, 'must look like 1mb or 100kb'), default: '1mb', doc: 'Largest accepted JSON body; larger gets 413.' },
  HTTP_HEADERS_TIMEOUT_MS: { schema: int(100, 600000), default: '10000', doc: 'A request\'s headers must arrive within this (slow-header clients are cut off with a JSON 408).' },
  HTTP_BODY_TIMEOUT_MS: { schema: int(100, 600000), default: '10000', doc: 'A JSON body must arrive within this after its headers, else 408 JSON and the connection is closed. At most HTTP_REQUEST_TIMEOUT_MS.' },
  HTTP_REQUEST_TIMEOUT_MS: { schema: int(100, 600000), default: '30000', doc: 'The whole request (headers and any body) must arrive within this; the backstop for every route. At least HTTP_HEADERS_TIMEOUT_MS.' },
  HTTP_KEEP_ALIVE_TIMEOUT_MS: { schema: int(1000, 600000), default: '65000', doc: 'Idle keep-alive connections are closed after this. Keep it above the idle timeout of the proxy or load balancer in front (nginx 60 s, AWS ALB 60 s) so the proxy closes first.' },
  TRUST_PROXY: { schema: optionalString, default: undefined, doc: 'Which peers may tell the client address (X-Forwarded-For), in Express trust proxy syntax: the proxy address(es) or CIDR (e.g. 10.0.0.0/8), or a hop count when nothing but the proxy can reach the service; `none`: no proxy, every client connects directly. Unset outside production: like `none`. A header from a peer that is not trusted is never believed: every limit counts the peer\'s own address (forwarded requests from an untrusted peer are counted and warned about).' },
  LOGIN_MAX_FAILURES_PER_IP: { schema: int(1, 100000), default: '20', doc: 'Failed logins from one client address (any accounts) per LOGIN_WINDOW_SECONDS before that address gets 429 on login (credential stuffing).' },
  LOGIN_MAX_FAILURES_PER_ACCOUNT: { schema: int(1, 100000), default: '5', doc: 'Failed logins for one account from one client address per LOGIN_WINDOW_SECONDS before that (account, address) pair gets 429; a success clears the pair. Other addresses are not locked out.' },
  LOGIN_WINDOW_SECONDS: { schema: int(1, 86400), default: '900', doc: 'Login failure window in seconds.' },
  LOGIN_SLOWDOWN_AFTER_ACCOUNT_FAILURES: { schema: int(0, 100000), default: '10', doc: 'Failed logins for one account from all addresses per LOGIN_WINDOW_SECONDS after which every login for it is answered later (100 ms, doubling per further failure, at most LOGIN_SLOWDOWN_MAX_MS). Never refused, so the owner always gets in with the right password.' },
  LOGIN_SLOWDOWN_MAX_MS: { schema: int(0, 60000), default: '2000', doc: 'Longest slow-down of a login for an account under distributed guessing (see LOGIN_SLOWDOWN_AFTER_ACCOUNT_FAILURES); 0 turns the slow-down off.' },
  RATE_LIMIT_PER_MINUTE: { schema: int(0, 10000000), default: '6000', doc: 'General per-IP request limit per minute (0 disables).' },
  REDIS_URL: { schema: optionalString, default: undefined, doc: 'redis://host:port. When set, rate limits are shared by every instance through Redis.' },
  REDIS_KEY_PREFIX: { schema: z.string().min(1).max(100), default: 'jwt-pizza:rl:', doc: 'Prefix of the rate-limit keys in Redis: deployments that share one Redis keep their counts apart.' },
  LOG_LEVEL: { schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), default: 'info', doc: 'pino log level.' },
  LOG_PRETTY: { schema: optionalString.pipe(bool.optional()), default: undefined, doc: 'Pretty logs. Default: only when stdout is a TTY.' },
  METRICS_TOKEN: { schema: optionalString, default: undefined, doc: 'When set, GET /metrics requires Authorization: Bearer <token>.' },
  METRICS_PORT: { schema: optionalString.pipe(z.string().regex(/^\d{1,5}$/, 'must be a port number').transform(Number).pipe(z.number().max(65535, 'must be a port number')).optional()), default: undefined, doc: 'When set, GET /metrics is served only on this separate port (on METRICS_HOST), not on PORT.' },
  METRICS_HOST: { schema: z.string().min(1), default: '127.0.0.1', doc: 'Interface of the METRICS_PORT listener. Loopback by default; 0.0.0.0 in a container whose scraper is on another host of a private network.' },
  METRICS_SOURCE: { schema: z.string().min(1), default: 'jwt-pizza-service', doc: 'The `source` label on pushed metrics and `service` label on pushed logs.' },
  INSTANCE_ID: { schema: optionalString, default: undefined, doc: 'The `instance` label on pushed metrics. Default: the host name. A cluster worker appends :<pid> to either.' },
  METRICS_PUSH_URL: { schema: optionalString.pipe(z.string().url().optional()), default: undefined, doc: 'Prometheus remote_write URL (Grafana Cloud: https://.../api/prom/push). Unset: no metrics push.' },
  METRICS_PUSH_USER: { schema: optionalString, default: undefined, doc: 'Basic-auth user for METRICS_PUSH_URL (Grafana Cloud instance id).' },
  METRICS_PUSH_PASSWORD: { schema: optionalString, default: undefined, doc: 'Basic-auth password for METRICS_PUSH_URL (Grafana Cloud token).' },
  METRICS_PUSH_INTERVAL: { schema: z.coerce.number().min(0.1).max(3600), default: '15', doc: 'Seconds between metric pushes.' },
  LOGS_PUSH_URL: { schema: optionalString.pipe(z.string().url().optional()), default: undefined, doc: 'Loki push URL (…/loki/api/v1/push). Unset: logs go to stdout only.' },
  LOGS_PUSH_USER: { schema: optionalString, default: undefined, doc: 'Basic-auth user for LOGS_PUSH_URL.' },
  LOGS_PUSH_PASSWORD: { schema: optionalString, default: undefined, doc: 'Basic-auth password for LOGS_PUSH_URL.' },
  TELEMETRY_ENABLED: { schema: optionalString.pipe(bool.optional()), default: 'true', doc: 'false turns request metrics and request logs off (used by the benchmark to measure their cost).' },
  SHUTDOWN_TIMEOUT_MS: { schema: int(0, 600000), default: '10000', doc: 'How long SIGTERM waits for in-flight requests before closing.' },
  WEB_CONCURRENCY: { schema: int(1, 64), default: '1', doc: 'Worker processes (Node cluster). /metrics aggregates all workers.' },
} as const;

export type ConfigKey = keyof typeof configKeys;

/** The keys' values once parsed (before loadConfig shapes them into a Config). */
export type RawConfig = { [K in ConfigKey]: z.output<(typeof configKeys)[K]['schema']> };

const WEAK_PASSWORDS = new Set(['admin', 'password', 'changeme', 'a', 'admin123', 'password123', 'diner', 'franchisee', 'toomanysecrets']);

export interface ProductionRule {
  /** The rule as documented: the Production column of docs/reference/configuration.md and config/.env.example. */
  rule: string;
  /** The check loadConfig runs under NODE_ENV=production: the problem (naming the key), or false. None: behaviour only. */
  refuses?: (raw: RawConfig) => string | false;
}

/** What production demands of a key, the documented rule beside the check that enforces it, so the two cannot drift. */
export const productionRules: { [K in ConfigKey]?: ProductionRule } = {
  JWT_SECRET: { rule: 'Required.', refuses: (raw) => raw.JWT_SECRET === undefined && 'JWT_SECRET: required in production' },
  BCRYPT_ROUNDS: { rule: 'At least 10.', refuses: (raw) => raw.BCRYPT_ROUNDS < 10 && 'BCRYPT_ROUNDS: must be at least 10 in production' },
  FACTORY_URL: { rule: 'Required: the embedded factory simulator makes no real pizzas.', refuses: (raw) => !raw.FACTORY_URL && 'FACTORY_URL: required in production (the embedded factory simulator makes no real pizzas)' },
  FACTORY_API_KEY: { rule: 'Required with FACTORY_URL.', refuses: (raw) => !!raw.FACTORY_URL && !raw.FACTORY_API_KEY && 'FACTORY_API_KEY: required with FACTORY_URL in production' },
  CORS_ORIGINS: { rule: 'Unset: no browser origin is allowed.' },
  ADMIN_PASSWORD: {
    rule: '12+ characters and not a well-known default.',
    refuses: (raw) =>
      raw.ADMIN_PASSWORD !== undefined &&
      (raw.ADMIN_PASSWORD.length < 12 || WEAK_PASSWORDS.has(raw.ADMIN_PASSWORD.toLowerCase())) &&
      'ADMIN_PASSWORD: refusing a short or well-known default password in production (12+ characters)',
  },
  // The demo accounts have published passwords (a@jwt.com / admin): in production they would be an open door.
  SEED_DEMO_DATA: { rule: 'Must not be true: the demo accounts have published passwords.', refuses: (raw) => raw.SEED_DEMO_DATA === true && 'SEED_DEMO_DATA: refusing the demo accounts and their well-known passwords in production' },
  // Production must say whether a proxy is in front: guessing wrong either way costs the per-client limits.
  TRUST_PROXY: {
    rule: 'Required (`none` when clients connect directly): the service refuses to start without it.',
    refuses: (raw) => raw.TRUST_PROXY === undefined && 'TRUST_PROXY: required in production: the proxy address/CIDR (or hop count) in front of the service, or none when clients connect directly',
  },
  // A scrape endpoint on the public port with no token would hand anyone the service's internals.
  METRICS_TOKEN: {
    rule: 'This or METRICS_PORT is required, so /metrics is never public by accident.',
    refuses: (raw) =>
      !raw.METRICS_TOKEN && raw.METRICS_PORT === undefined &&
      'METRICS_TOKEN or METRICS_PORT: required in production, so /metrics is never public by accident (a bearer token for the scraper, or a separate listener on METRICS_HOST, default 127.0.0.1)',
  },
  METRICS_PORT: { rule: 'This or METRICS_TOKEN is required (checked with METRICS_TOKEN).' },
  METRICS_PUSH_PASSWORD: { rule: 'Required with METRICS_PUSH_URL.', refuses: (raw) => !!raw.METRICS_PUSH_URL && !raw.METRICS_PUSH_PASSWORD && 'METRICS_PUSH_PASSWORD: required with METRICS_PUSH_URL in production' },
};
