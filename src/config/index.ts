import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { configKeys, productionRules, type RawConfig } from './schema';

export class ConfigError extends Error {}

export type DatabaseConfig =
  | { kind: 'sqlite'; file: string }
  | { kind: 'mysql'; url: string; host: string; port: number; user: string; password: string; database: string };

export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  database: DatabaseConfig;
  dbPoolSize: number;
  dbTimeoutMs: number;
  dataDir: string;
  jwt: { secret: string; ttlSeconds: number };
  bcryptRounds: number;
  factory: {
    /** Undefined: start the embedded simulator. */
    url?: string;
    apiKey?: string;
    /** Accepted `iss` of pizza JWTs. */
    jwtIssuers: string[];
    timeoutMs: number;
    /** How long a timed-out factory call stays open for its late answer; 0: aborted at the timeout. */
    lateAnswerMs: number;
    circuitThreshold: number;
    circuitCooldownMs: number;
    simulatorPort: number;
    simulatorAdminKey?: string;
  };
  corsOrigins: string[] | 'localhost' | 'none';
  admin?: { email: string; password: string; name: string };
  seedDemoData: boolean;
  bodyLimit: string;
  /** Bounds on how slowly a client may send a request, and on idle keep-alive connections. */
  http: { headersTimeoutMs: number; bodyTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number };
  /** Express trust proxy value; undefined: no peer is believed (TRUST_PROXY=none, or unset outside production). */
  trustProxy?: string;
  /** perAccount: failures per (account, client address) pair; slowdownAfter/slowdownMaxMs: the per-account slow-down. */
  loginLimits: { perIp: number; perAccount: number; windowSeconds: number; slowdownAfter: number; slowdownMaxMs: number };
  rateLimitPerMinute: number;
  redisUrl?: string;
  redisKeyPrefix: string;
  log: { level: string; pretty: boolean };
  metrics: {
    token?: string;
    /** Set: /metrics is served on its own listener (host:port) instead of the service port. */
    listen?: { host: string; port: number };
    source: string; instanceId?: string; push?: { url: string; user?: string; password?: string; intervalSeconds: number } };
  logsPush?: { url: string; user?: string; password?: string };
  telemetryEnabled: boolean;
  shutdownTimeoutMs: number;
  webConcurrency: number;
}

function parseRaw(env: NodeJS.ProcessEnv): RawConfig {
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, spec] of Object.entries(configKeys)) {
    const value = env[key] ?? spec.default;
    const parsed = (spec.schema as z.ZodType).safeParse(value);
    if (parsed.success) raw[key] = parsed.data;
    else problems.push(`${key}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  if (problems.length) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  return raw as RawConfig;
}

function parseDatabaseUrl(url: string): DatabaseConfig {
  if (url.startsWith('sqlite:')) return { kind: 'sqlite', file: url.slice('sqlite:'.length) };
  const u = new URL(url);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!database) throw new ConfigError('DATABASE_URL: a mysql URL needs a database name (mysql://user:pass@host:port/db)');
  return {
    kind: 'mysql',
    url,
    host: u.hostname,
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database,
  };
}

const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * TRUST_PROXY in Express's trust proxy syntax (a hop count, or addresses, CIDRs and named ranges), minus
 * `true`: believing X-Forwarded-For from every peer would let any client choose its own address. Checked
 * here so a typo is a configuration error naming the key, not a start-up crash inside Express.
 */
function trustProxyProblem(value: string): string | undefined {
  if (/^\d+$/.test(value)) return undefined;
  for (const entry of value.split(',').map((e) => e.trim())) {
    if (PROXY_RANGES.has(entry)) continue;
    const [address, mask, ...rest] = entry.split('/');
    const family = isIP(address);
    const maskOk = mask === undefined || (/^\d+$/.test(mask) && Number(mask) <= (family === 6 ? 128 : 32)) || (family === 4 && isIP(mask) === 4);
    if (family !== 0 && rest.length === 0 && maskOk) continue;
    return `TRUST_PROXY: "${entry}" is not a proxy address, CIDR, loopback/linklocal/uniquelocal or a hop count (trusting every peer is refused)`;
  }
  return undefined;
}

const OTEL_SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'];

/**
 * The OTEL_* variables are read by the OpenTelemetry SDK, which replaces a malformed value with its default
 * and says so only on its own (silent) diagnostic channel: a ratio of `10%` would sample every request, a
 * queue size of 0 would drop every span. Those it reads are checked here, so a typo names its key.
 */
function otelProblems(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const set = (key: string) => (env[key]?.trim() ? env[key]!.trim() : undefined);
  for (const key of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) {
    const value = set(key);
    if (value !== undefined && !/^https?:\/\/[^/\s]+/i.test(value)) problems.push(`${key}: must be an http(s) URL of the OTLP/HTTP collector`);
  }
  const sampler = set('OTEL_TRACES_SAMPLER');
  if (sampler !== undefined && !OTEL_SAMPLERS.includes(sampler)) problems.push(`OTEL_TRACES_SAMPLER: must be one of ${OTEL_SAMPLERS.join(', ')}`);
  const ratio = set('OTEL_TRACES_SAMPLER_ARG');
  if (ratio !== undefined && !(Number(ratio) >= 0 && Number(ratio) <= 1)) problems.push('OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1 (the share of new traces sampled)');
  const queue = set('OTEL_BSP_MAX_QUEUE_SIZE');
  if (queue !== undefined && !(Number.isInteger(Number(queue)) && Number(queue) > 0)) problems.push('OTEL_BSP_MAX_QUEUE_SIZE: must be a positive integer');
  return problems;
}

/** Development keeps one generated secret in the data dir so tokens survive restarts. */
function developmentSecret(dataDir: string): string {
  const file = join(dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: { isTty?: boolean } = {}): Config {
  const raw = parseRaw(env);
  const production = raw.NODE_ENV === 'production';
  const problems: string[] = [];
  // What production demands of a key is declared in schema.ts beside its documented rule.
  if (production) {
    for (const spec of Object.values(productionRules)) {
      const problem = spec.refuses?.(raw);
      if (problem) problems.push(problem);
    }
  }

  const dataDir = resolve(raw.DATA_DIR);
  let secret = raw.JWT_SECRET;
  if (secret !== undefined && secret.length < 32) problems.push('JWT_SECRET: must be at least 32 characters');
  if (secret === undefined && !production) secret = raw.NODE_ENV === 'test' ? randomBytes(32).toString('hex') : developmentSecret(dataDir);

  let admin: Config['admin'];
  if (raw.ADMIN_EMAIL || raw.ADMIN_PASSWORD) {
    if (!raw.ADMIN_EMAIL || !raw.ADMIN_PASSWORD) problems.push('ADMIN_EMAIL and ADMIN_PASSWORD: set both or neither');
    else admin = { email: raw.ADMIN_EMAIL.toLowerCase(), password: raw.ADMIN_PASSWORD, name: raw.ADMIN_NAME };
  }

  if (raw.METRICS_PORT !== undefined && raw.METRICS_PORT !== 0 && raw.METRICS_PORT === raw.PORT) problems.push('METRICS_PORT: must differ from PORT');
  if (raw.HTTP_REQUEST_TIMEOUT_MS < raw.HTTP_HEADERS_TIMEOUT_MS) problems.push('HTTP_REQUEST_TIMEOUT_MS: must be at least HTTP_HEADERS_TIMEOUT_MS');
  // Past the request bound Node answers 408 itself, before the body timer's JSON 408 through the error handler.
  if (raw.HTTP_BODY_TIMEOUT_MS > raw.HTTP_REQUEST_TIMEOUT_MS) problems.push('HTTP_BODY_TIMEOUT_MS: must be at most HTTP_REQUEST_TIMEOUT_MS');
  const trustProxy = raw.TRUST_PROXY === undefined || raw.TRUST_PROXY.trim() === 'none' ? undefined : trustProxyProblem(raw.TRUST_PROXY);
  if (trustProxy) problems.push(trustProxy);
  problems.push(...otelProblems(env));

  let database: DatabaseConfig | undefined;
  try {
    database = parseDatabaseUrl(raw.DATABASE_URL);
  } catch (error) {
    problems.push(error instanceof ConfigError ? error.message : 'DATABASE_URL: not a valid URL');
  }

  if (problems.length || !database || !secret) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);

  const corsOrigins: Config['corsOrigins'] = raw.CORS_ORIGINS
    ? raw.CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean)
    : production
      ? 'none'
      : 'localhost';

  return {
    env: raw.NODE_ENV,
    host: raw.HOST,
    port: raw.PORT,
    database,
    dbPoolSize: raw.DB_POOL_SIZE,
    dbTimeoutMs: raw.DB_TIMEOUT_MS,
    dataDir,
    jwt: { secret, ttlSeconds: raw.JWT_TTL_SECONDS },
    bcryptRounds: raw.BCRYPT_ROUNDS,
    factory: {
      url: raw.FACTORY_URL,
      apiKey: raw.FACTORY_API_KEY,
      jwtIssuers: raw.FACTORY_JWT_ISSUER.split(',').map((issuer) => issuer.trim()),
      timeoutMs: raw.FACTORY_TIMEOUT_MS,
      lateAnswerMs: raw.FACTORY_LATE_ANSWER_MS,
      circuitThreshold: raw.FACTORY_CIRCUIT_THRESHOLD,
      circuitCooldownMs: raw.FACTORY_CIRCUIT_COOLDOWN_MS,
      simulatorPort: raw.FACTORY_PORT,
      simulatorAdminKey: raw.FACTORY_ADMIN_KEY,
    },
    corsOrigins,
    admin,
    seedDemoData: raw.SEED_DEMO_DATA ?? raw.NODE_ENV === 'development',
    bodyLimit: raw.BODY_LIMIT,
    http: {
      headersTimeoutMs: raw.HTTP_HEADERS_TIMEOUT_MS,
      bodyTimeoutMs: raw.HTTP_BODY_TIMEOUT_MS,
      requestTimeoutMs: raw.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: raw.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    },
    trustProxy: raw.TRUST_PROXY?.trim() === 'none' ? undefined : raw.TRUST_PROXY,
    loginLimits: {
      perIp: raw.LOGIN_MAX_FAILURES_PER_IP,
      perAccount: raw.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      windowSeconds: raw.LOGIN_WINDOW_SECONDS,
      slowdownAfter: raw.LOGIN_SLOWDOWN_AFTER_ACCOUNT_FAILURES,
      slowdownMaxMs: raw.LOGIN_SLOWDOWN_MAX_MS,
    },
    rateLimitPerMinute: raw.RATE_LIMIT_PER_MINUTE,
    redisUrl: raw.REDIS_URL,
    redisKeyPrefix: raw.REDIS_KEY_PREFIX,
    log: { level: raw.LOG_LEVEL, pretty: raw.LOG_PRETTY ?? options.isTty ?? false },
    metrics: {
      token: raw.METRICS_TOKEN,
      listen: raw.METRICS_PORT === undefined ? undefined : { host: raw.METRICS_HOST, port: raw.METRICS_PORT },
      source: raw.METRICS_SOURCE,
      instanceId: raw.INSTANCE_ID,
      push: raw.METRICS_PUSH_URL
        ? { url: raw.METRICS_PUSH_URL, user: raw.METRICS_PUSH_USER, password: raw.METRICS_PUSH_PASSWORD, intervalSeconds: raw.METRICS_PUSH_INTERVAL }
        : undefined,
    },
    logsPush: raw.LOGS_PUSH_URL ? { url: raw.LOGS_PUSH_URL, user: raw.LOGS_PUSH_USER, password: raw.LOGS_PUSH_PASSWORD } : undefined,
    telemetryEnabled: raw.TELEMETRY_ENABLED ?? true,
    shutdownTimeoutMs: raw.SHUTDOWN_TIMEOUT_MS,
    webConcurrency: raw.WEB_CONCURRENCY,
  };
}

/** A complete test configuration: in-memory SQLite, cheap bcrypt, no seeding; override per test. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  const base = loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'sqlite::memory:', BCRYPT_ROUNDS: '4', LOG_LEVEL: 'silent' });
  return { ...base, ...overrides };
}
