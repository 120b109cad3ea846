import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config';
import { renderEnvExample } from '../../../src/config/example';

const production = {
  NODE_ENV: 'production',
  JWT_SECRET: 'a-production-secret-of-at-least-32-characters',
  FACTORY_URL: 'https://factory.example',
  FACTORY_API_KEY: 'vendor-key',
  DATABASE_URL: 'mysql://pizza:pw@db.internal:3306/pizza',
};

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

  test('the error type is ConfigError so the entry point can exit cleanly', () => {
    expect(() => loadConfig({ PORT: '-1' })).toThrow(ConfigError);
  });

  test('config/.env.example is the rendering of the schema', () => {
    expect(readFileSync(join(__dirname, '../../../config/.env.example'), 'utf8')).toBe(renderEnvExample());
  });
});
