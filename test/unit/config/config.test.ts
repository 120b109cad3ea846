import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config';
import { renderEnvExample } from '../../../src/config/example';
import { productionEnv } from '../../helpers/productionEnv';

const production = productionEnv;

describe('configuration', () => {
  test('when nothing is configured, then development defaults: SQLite under ./data, port 3000, embedded factory, demo data', () => {
    const config = loadConfig({ DATA_DIR: join(__dirname, '../../../data/test-config') });
    expect(config.env).toBe('development');
    expect(config.port).toBe(3000);
    expect(config.database).toEqual({ kind: 'sqlite', file: './data/pizza.db' });
    expect(config.factory.url).toBeUndefined();
    expect(config.seedDemoData).toBe(true);
    expect(config.jwt.secret.length).toBeGreaterThanOrEqual(32);
    expect(config.corsOrigins).toBe('localhost');
  });

  test('when a key is invalid, then the error names the key', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'postgres://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });

  test('when a mysql URL is given, then its parts are parsed', () => {
    const config = loadConfig({ ...production });
    expect(config.database).toMatchObject({ kind: 'mysql', host: 'db.internal', port: 3306, user: 'pizza', password: 'pw', database: 'pizza' });
  });

  test('when production lacks a secret, a real factory or has a default admin password, then it refuses to start', () => {
    expect(() => loadConfig({ ...production, JWT_SECRET: '' })).toThrow(/JWT_SECRET: required in production/);
    expect(() => loadConfig({ ...production, JWT_SECRET: 'short' })).toThrow(/JWT_SECRET/);
    expect(() => loadConfig({ ...production, FACTORY_URL: '' })).toThrow(/FACTORY_URL/);
    expect(() => loadConfig({ ...production, ADMIN_EMAIL: 'a@jwt.com', ADMIN_PASSWORD: 'admin' })).toThrow(/ADMIN_PASSWORD/);
    expect(() => loadConfig({ ...production, BCRYPT_ROUNDS: '4' })).toThrow(/BCRYPT_ROUNDS/);
    expect(() => loadConfig({ ...production, ADMIN_EMAIL: 'a@jwt.com', ADMIN_PASSWORD: 'a-long-unique-passphrase' })).not.toThrow();
  });

  test('when production is configured, then no demo data and no CORS origins unless listed', () => {
    const config = loadConfig(production);
    expect(config.seedDemoData).toBe(false);
    expect(config.corsOrigins).toBe('none');
    expect(loadConfig({ ...production, CORS_ORIGINS: 'https://pizza.example, https://admin.pizza.example' }).corsOrigins).toEqual(['https://pizza.example', 'https://admin.pizza.example']);
  });

  test('when TRUST_PROXY names proxies, ranges or a hop count, then it is taken; anything else, `true` included, is refused naming the key', () => {
    for (const value of ['1', '127.0.0.1', '10.0.0.0/8, 172.16.0.0/12', 'loopback,uniquelocal', '::1', 'fd00::/8', '10.0.0.0/255.0.0.0']) {
      expect(loadConfig({ ...production, TRUST_PROXY: value }).trustProxy).toBe(value);
    }
    for (const value of ['true', 'all', '10.0.0.0/33', '300.1.1.1', 'proxy.internal', '10.0.0.1/8/8']) {
      expect(() => loadConfig({ ...production, TRUST_PROXY: value })).toThrow(/TRUST_PROXY: /);
    }
  });

  test('when production does not say whether a proxy is in front, then it refuses to start naming TRUST_PROXY; `none` means no proxy is believed, in production and outside it', () => {
    expect(() => loadConfig({ ...production, TRUST_PROXY: '' })).toThrow(/TRUST_PROXY: required in production/);
    expect(() => loadConfig({ ...production, TRUST_PROXY: undefined })).toThrow(/TRUST_PROXY: required in production/);
    expect(loadConfig({ ...production, TRUST_PROXY: 'none' }).trustProxy).toBeUndefined();
    expect(loadConfig({ ...production, TRUST_PROXY: '10.0.0.5' }).trustProxy).toBe('10.0.0.5');
    // Outside production, unset is the same as none.
    expect(loadConfig({ NODE_ENV: 'test', TRUST_PROXY: 'none' }).trustProxy).toBeUndefined();
    expect(loadConfig({ NODE_ENV: 'test' }).trustProxy).toBeUndefined();
  });

  test('when the login limits are configured, then the pair, per-address and slow-down numbers are taken (defaults 5, 20, after 10 failures up to 2 s)', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).loginLimits).toEqual({ perIp: 20, perAccount: 5, windowSeconds: 900, slowdownAfter: 10, slowdownMaxMs: 2000 });
    expect(loadConfig({ NODE_ENV: 'test', LOGIN_SLOWDOWN_AFTER_ACCOUNT_FAILURES: '3', LOGIN_SLOWDOWN_MAX_MS: '0' }).loginLimits).toMatchObject({ slowdownAfter: 3, slowdownMaxMs: 0 });
    expect(() => loadConfig({ NODE_ENV: 'test', LOGIN_SLOWDOWN_MAX_MS: '-1' })).toThrow(/LOGIN_SLOWDOWN_MAX_MS/);
  });

  test('when production has neither METRICS_TOKEN nor METRICS_PORT, then it refuses to start and names both keys', () => {
    expect(() => loadConfig({ ...production, METRICS_TOKEN: '' })).toThrow(/METRICS_TOKEN or METRICS_PORT: required in production/);
    const separate = loadConfig({ ...production, METRICS_TOKEN: '', METRICS_PORT: '9464' });
    expect(separate.metrics.listen).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(separate.metrics.token).toBeUndefined();
    expect(loadConfig({ ...production, METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' }).metrics).toMatchObject({ token: 'scrape-token', listen: { host: '0.0.0.0', port: 9464 } });
    expect(loadConfig(production).metrics.listen).toBeUndefined();
  });

  test('when METRICS_PORT is not a port or is the service port, then the error names it', () => {
    expect(() => loadConfig({ METRICS_PORT: 'nine' })).toThrow(/METRICS_PORT: must be a port number/);
    expect(() => loadConfig({ METRICS_PORT: '70000' })).toThrow(/METRICS_PORT: must be a port number/);
    expect(() => loadConfig({ PORT: '3000', METRICS_PORT: '3000' })).toThrow(/METRICS_PORT: must differ from PORT/);
  });

  test('when an OTEL_* variable the tracing SDK would silently replace is malformed, then the error names it', () => {
    const traced = { NODE_ENV: 'test', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };
    // The SDK would export nowhere, sample 100% instead of a typo'd ratio, or drop every span.
    expect(() => loadConfig({ NODE_ENV: 'test', OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT: must be an http\(s\) URL/);
    expect(() => loadConfig({ NODE_ENV: 'test', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://x/v1/traces' })).toThrow(/OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: must be an http\(s\) URL/);
    expect(() => loadConfig({ ...traced, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '10%' })).toThrow(/OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1/);
    expect(() => loadConfig({ ...traced, OTEL_TRACES_SAMPLER_ARG: '1.5' })).toThrow(/OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1/);
    expect(() => loadConfig({ ...traced, OTEL_TRACES_SAMPLER: 'ratio' })).toThrow(/OTEL_TRACES_SAMPLER: must be one of .*parentbased_traceidratio/);
    expect(() => loadConfig({ ...traced, OTEL_BSP_MAX_QUEUE_SIZE: '-5' })).toThrow(/OTEL_BSP_MAX_QUEUE_SIZE: must be a positive integer/);
    expect(() => loadConfig({ ...traced, OTEL_BSP_MAX_QUEUE_SIZE: '0' })).toThrow(/OTEL_BSP_MAX_QUEUE_SIZE: must be a positive integer/);
    expect(() => loadConfig({ ...traced, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1', OTEL_BSP_MAX_QUEUE_SIZE: '4096' })).not.toThrow();
    expect(() => loadConfig({ ...traced, OTEL_TRACES_SAMPLER_ARG: '1e-2' })).not.toThrow();
    expect(() => loadConfig({ ...traced, OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp-gateway.example/otlp', OTEL_TRACES_SAMPLER_ARG: '' })).not.toThrow();
  });

  test('when nothing is set outside production, then /metrics stays on the service port with no token (development, tests, bench, game day)', () => {
    for (const NODE_ENV of ['development', 'test']) {
      const config = loadConfig({ NODE_ENV, DATA_DIR: join(__dirname, '../../../data/test-config') });
      expect(config.metrics.listen).toBeUndefined();
      expect(config.metrics.token).toBeUndefined();
    }
  });

  test('when slow-client bounds are set, then they are used, and a request bound below the header or body bound is refused', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).http).toEqual({ headersTimeoutMs: 10_000, bodyTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 65_000 });
    expect(loadConfig({ NODE_ENV: 'test', HTTP_HEADERS_TIMEOUT_MS: '2000', HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_BODY_TIMEOUT_MS: '1500', HTTP_KEEP_ALIVE_TIMEOUT_MS: '75000' }).http).toEqual({
      headersTimeoutMs: 2000,
      bodyTimeoutMs: 1500,
      requestTimeoutMs: 5000,
      keepAliveTimeoutMs: 75_000,
    });
    expect(() => loadConfig({ NODE_ENV: 'test', HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '2000' })).toThrow(/HTTP_REQUEST_TIMEOUT_MS: must be at least HTTP_HEADERS_TIMEOUT_MS/);
    expect(() => loadConfig({ NODE_ENV: 'test', HTTP_BODY_TIMEOUT_MS: '10' })).toThrow(/HTTP_BODY_TIMEOUT_MS/);
    expect(() => loadConfig({ NODE_ENV: 'test', HTTP_BODY_TIMEOUT_MS: '40000' })).toThrow(/HTTP_BODY_TIMEOUT_MS: must be at most HTTP_REQUEST_TIMEOUT_MS/);
  });

  test('the error type is ConfigError so the entry point can exit cleanly', () => {
    expect(() => loadConfig({ PORT: '-1' })).toThrow(ConfigError);
  });

  test('config/.env.example is the rendering of the schema', () => {
    expect(readFileSync(join(__dirname, '../../../config/.env.example'), 'utf8')).toBe(renderEnvExample());
  });
});
