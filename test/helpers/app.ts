import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Express } from 'express';
import supertest from 'supertest';
import { createApp } from '../../src/app';
import { type Config, loadConfig } from '../../src/config';
import type { AppContext } from '../../src/context';
import { issueToken } from '../../src/auth/authService';
import { createFactoryClient } from '../../src/factory/client';
import { createLateAnswerRecorder } from '../../src/orders/lateAnswers';
import { startFactorySimulator, type RunningFactorySimulator } from '../../src/factory/simulator';
import type { FactoryClient } from '../../src/factory/types';
import { seedMenu } from '../../src/seed';
import { openDatabase, type DatabaseHandle } from '../../src/shared/db';
import { createLogger } from '../../src/shared/logging/logger';
import { createMetrics } from '../../src/shared/metrics/metrics';
import type { RateLimitStore } from '../../src/shared/rateLimit/store';
import { insertRoles, insertUser, type RoleGrant, type User } from '../../src/users/usersRepository';
import bcrypt from 'bcrypt';
import { createTestDatabase, currentBackend, type TestDatabase } from './database';

export interface TestApp {
  app: Express;
  http: supertest.Agent;
  ctx: AppContext;
  config: Config;
  /** The DATABASE_URL this app runs on: pass it as `databaseUrl` to build a second instance over the same database. */
  databaseUrl: string;
  database: DatabaseHandle;
  simulator: RunningFactorySimulator;
  factory: FactoryClient;
  /** Every log line the app wrote so far, parsed. */
  logs(): Record<string, any>[];
  /** Raw log text, for secret scans. */
  rawLogs(): string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Reuse a database (two instances over one database). */
  databaseUrl?: string;
  /** Reuse a running factory simulator. */
  simulator?: RunningFactorySimulator;
  factoryTimeoutMs?: number;
  /** FACTORY_LATE_ANSWER_MS; 0 (abort at the timeout) unless a test opts in, so no late answer lands in another test. */
  factoryLateAnswerMs?: number;
  circuitThreshold?: number;
  circuitCooldownMs?: number;
  rateLimits?: RateLimitStore;
  seedMenu?: boolean;
  /** prom-client's process and Node.js metrics (off by default: they cost a little per scrape). */
  defaultMetrics?: boolean;
}

export const FACTORY_API_KEY = `test-factory-key-${randomBytes(6).toString('hex')}`;
export const FACTORY_ADMIN_KEY = `test-factory-admin-${randomBytes(6).toString('hex')}`;

/** The whole app on a fresh database of the current backend, with a real factory simulator on loopback. */
export async function buildTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  let testDb: TestDatabase | undefined;
  const databaseUrl = options.databaseUrl ?? (testDb = await createTestDatabase(currentBackend())).url;
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    BCRYPT_ROUNDS: '4',
    LOG_LEVEL: 'info',
    JWT_SECRET: 'test-secret-that-is-long-enough-for-hs256-0123456789',
    FACTORY_TIMEOUT_MS: String(options.factoryTimeoutMs ?? 5000),
    FACTORY_LATE_ANSWER_MS: String(options.factoryLateAnswerMs ?? 0),
    FACTORY_CIRCUIT_THRESHOLD: String(options.circuitThreshold ?? 1000),
    FACTORY_CIRCUIT_COOLDOWN_MS: String(options.circuitCooldownMs ?? 30000),
    ...options.env,
  });
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const logger = createLogger({ level: config.log.level, destination: destination as any, env: 'test' });
  const metrics = createMetrics({ defaultMetrics: options.defaultMetrics ?? false });
  const database = openDatabase(config.database, { poolSize: config.dbPoolSize, timeoutMs: config.dbTimeoutMs });
  await database.migrate();
  if (options.seedMenu !== false) await seedMenu(database.db);
  const ownSimulator = !options.simulator;
  const simulator = options.simulator ?? (await startFactorySimulator({ apiKey: FACTORY_API_KEY, adminKey: FACTORY_ADMIN_KEY, port: 0, oven: { fullDelayMs: 200 }, throttleDelayMs: 15000 }));
  const lateAnswers = createLateAnswerRecorder();
  const factory = createFactoryClient({
    url: simulator.url,
    apiKey: FACTORY_API_KEY,
    issuers: config.factory.jwtIssuers,
    timeoutMs: config.factory.timeoutMs,
    circuit: { failureThreshold: config.factory.circuitThreshold, cooldownMs: config.factory.circuitCooldownMs },
    lateAnswer: { windowMs: config.factory.lateAnswerMs, onAnswer: (answer) => lateAnswers.onAnswer(answer) },
    logger,
  });
  const { app, ctx } = createApp({ config, database, logger, metrics, factory, factoryPublicUrl: simulator.url, rateLimits: options.rateLimits });
  lateAnswers.bind(ctx);
  return {
    app,
    http: supertest.agent(app),
    ctx,
    config,
    databaseUrl,
    database,
    simulator,
    factory,
    logs: () => lines.map((l) => JSON.parse(l) as Record<string, any>),
    rawLogs: () => lines.join('\n'),
    async close() {
      await factory.close();
      if (ownSimulator) await simulator.close();
      await ctx.rateLimits.close();
      await database.close();
      await testDb?.drop();
      // Every app of the component and security suites: no log line may hold an email address in clear
      // (the scrubber masks them to d***@jwt.com; issue 25).
      const clear = lines.filter((line) => EMAIL_IN_CLEAR.test(line));
      if (clear.length) throw new Error(`${clear.length} log line(s) hold an email address in clear, e.g. ${clear[0].slice(0, 300)}`);
    },
  };
}

/** An address as written (a masked one has `***` right before its @). */
const EMAIL_IN_CLEAR = /[A-Za-z0-9._%+-]@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+/;

let counter = 0;
/** A unique value per call, so tests never collide on unique columns. */
export function unique(prefix = 'x'): string {
  counter += 1;
  return `${prefix}${process.pid}${Date.now().toString(36)}${counter}${randomBytes(2).toString('hex')}`;
}

export interface TestUser extends User {
  password: string;
  token: string;
}

/** Creates a user straight through the repository (roles included) and a session token for it. */
export async function buildUser(t: TestApp, overrides: { name?: string; email?: string; password?: string; roles?: RoleGrant[] } = {}): Promise<TestUser> {
  const password = overrides.password ?? `pw-${unique()}`;
  const email = overrides.email ?? `${unique('user')}@test.jwt`;
  const name = overrides.name ?? `name ${unique()}`;
  const roles = overrides.roles ?? [{ role: 'diner' }];
  const id = await insertUser(t.ctx.db, { name, email, passwordHash: await bcrypt.hash(password, 4), roles: [] }, Date.now());
  await insertRoles(t.ctx.db, id, roles);
  const { token } = await issueToken(t.ctx, { id, name, email, roles });
  return { id, name, email, roles, password, token };
}

export const buildAdmin = (t: TestApp) => buildUser(t, { roles: [{ role: 'admin' }] });

/** A franchise with one store, through the API as an admin; the franchisee is created when not given. */
export async function buildFranchise(t: TestApp, options: { admin?: TestUser; franchisee?: TestUser; storeName?: string; name?: string } = {}) {
  const admin = options.admin ?? (await buildAdmin(t));
  const franchisee = options.franchisee ?? (await buildUser(t));
  const name = options.name ?? unique('franchise');
  const created = await t.http.post('/api/franchise').set('Authorization', `Bearer ${admin.token}`).send({ name, admins: [{ email: franchisee.email }] });
  if (created.status !== 200) throw new Error(`franchise create failed: ${created.status} ${JSON.stringify(created.body)}`);
  const store = await t.http
    .post(`/api/franchise/${created.body.id}/store`)
    .set('Authorization', `Bearer ${admin.token}`)
    .send({ name: options.storeName ?? unique('store') });
  if (store.status !== 200) throw new Error(`store create failed: ${store.status}`);
  // Roles are read from the database per request, so the franchisee's token now carries the new role.
  return { id: created.body.id as number, name, store: store.body as { id: number; name: string }, admin, franchisee };
}

export function bearer(user: { token: string }) {
  return `Bearer ${user.token}`;
}

/** Reads one sample from the app's /metrics text. */
export async function metricValue(t: TestApp, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = (await t.http.get('/metrics')).text;
  const want = Object.entries(labels);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (want.every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return NaN;
}

/** An order of one menu item (id 1) at the franchise's store, as the frontend sends it. */
export function oneItemOrder(f: { id: number; store: { id: number } }) {
  return { franchiseId: f.id, storeId: f.store.id, items: [{ menuId: 1 }] };
}

/** Polls until `read` returns a value, for at most `withinMs`. */
export async function eventually<T>(read: () => Promise<T | undefined>, withinMs: number): Promise<T | undefined> {
  const until = Date.now() + withinMs;
  for (;;) {
    const value = await read();
    if (value !== undefined || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
