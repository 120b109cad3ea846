import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Response } from 'supertest';
import type { RateLimitStore } from '../../src/shared/rateLimit/store';
import { bearer, buildAdmin, buildFranchise, buildUser, type TestApp, type TestUser } from '../helpers/app';

/** The five callers of the access-control matrix. */
export const ROLES = ['anonymous', 'diner', 'otherFranchisee', 'ownFranchisee', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface FranchiseFixture {
  id: number;
  name: string;
  store: { id: number; name: string };
}

export interface World {
  admin: TestUser;
  diner: TestUser;
  /** Franchisee of `franchise` ("this franchise"). */
  ownFranchisee: TestUser;
  /** Franchisee of `otherFranchise` only. */
  otherFranchisee: TestUser;
  franchise: FranchiseFixture;
  otherFranchise: FranchiseFixture;
}

/** A fresh cast: one admin, one plain diner, and two franchises with a store and a franchisee each. */
export async function buildWorld(t: TestApp): Promise<World> {
  const admin = await buildAdmin(t);
  const diner = await buildUser(t);
  const ownFranchisee = await buildUser(t);
  const otherFranchisee = await buildUser(t);
  const franchise = await buildFranchise(t, { admin, franchisee: ownFranchisee });
  const otherFranchise = await buildFranchise(t, { admin, franchisee: otherFranchisee });
  return {
    admin,
    diner,
    ownFranchisee,
    otherFranchisee,
    franchise: { id: franchise.id, name: franchise.name, store: franchise.store },
    otherFranchise: { id: otherFranchise.id, name: otherFranchise.name, store: otherFranchise.store },
  };
}

export function tokenOf(world: World, role: Role): string | undefined {
  return role === 'anonymous' ? undefined : world[role].token;
}

export interface CatalogueRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Express style, e.g. /api/franchise/:franchiseId/store */
  path: string;
  auth: string;
  pathParams: string[];
  queryParams: string[];
  /** JSON schema of the body, from the OpenAPI document. */
  bodySchema?: JsonSchema;
}

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  required?: string[];
}

/** Every served route, read from the service's own OpenAPI document (the catalogue cannot drift from it). */
export async function routeCatalogue(t: TestApp): Promise<CatalogueRoute[]> {
  const res = await t.http.get('/api/openapi.json');
  if (res.status !== 200) throw new Error(`openapi.json answered ${res.status}`);
  const routes: CatalogueRoute[] = [];
  for (const [openApiPath, operations] of Object.entries(res.body.paths as Record<string, Record<string, any>>)) {
    for (const [method, op] of Object.entries(operations)) {
      const parameters = (op.parameters ?? []) as { name: string; in: string }[];
      routes.push({
        method: method.toUpperCase() as CatalogueRoute['method'],
        path: openApiPath.replace(/\{(\w+)\}/g, ':$1'),
        auth: op['x-auth'],
        pathParams: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: parameters.filter((p) => p.in === 'query').map((p) => p.name),
        bodySchema: op.requestBody?.content?.['application/json']?.schema,
      });
    }
  }
  return routes;
}

export const routeKey = (r: { method: string; path: string }) => `${r.method} ${r.path}`;

export interface SendOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** One request through the app; bodies always go as serialized JSON so any JSON value can be sent. */
export function send(t: TestApp, method: string, path: string, options: SendOptions = {}) {
  const verb = method.toLowerCase() as 'get' | 'post' | 'put' | 'delete';
  let request = t.http[verb](path);
  if (options.token) request = request.set('Authorization', bearer({ token: options.token }));
  for (const [name, value] of Object.entries(options.headers ?? {})) request = request.set(name, value);
  if (options.body !== undefined) request = request.set('Content-Type', 'application/json').send(JSON.stringify(options.body));
  return request;
}

export const TABLES = ['users', 'user_roles', 'sessions', 'menu_items', 'franchises', 'stores', 'orders', 'order_items'] as const;

/**
 * The full content of every table, one string per table. sessions.last_seen_at is left out: reading
 * with a token may refresh it (at most once a minute), which is not a change an attacker makes.
 */
export async function snapshotRows(t: TestApp): Promise<Record<string, string>> {
  const snapshot: Record<string, string> = {};
  for (const table of TABLES) {
    const rows = (await t.ctx.db.selectFrom(table as any).selectAll().orderBy('id').execute()) as Record<string, unknown>[];
    snapshot[table] = JSON.stringify(rows.map((row) => (table === 'sessions' ? { ...row, last_seen_at: undefined } : row)));
  }
  return snapshot;
}

export async function rowCounts(t: TestApp): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TABLES) {
    const row = await t.ctx.db.selectFrom(table as any).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    counts[table] = Number(row?.n ?? 0);
  }
  return counts;
}

const INTERNALS: RegExp[] = [
  /\n\s+at\s/, // a stack frame
  /\bat\s+[\w.<>$]+\s+\(/, // "at fn (" of a frame
  /[\w./\\-]+\.(ts|js|mjs|cjs):\d+/, // file:line
  /node_modules/,
  /SQLITE_[A-Z]/,
  /\bER_[A-Z_]{3,}/,
  /SQL syntax/i,
  /sqlMessage|sqlState|errno/,
  /better-sqlite3|mysql2|kysely/i,
  /syntax error/i,
  /no such (table|column)/i,
  /Unknown column/i,
  /Incorrect (string|integer) value/i,
  /ZodError|"issues"\s*:/,
];
const SQL_STATEMENT = /\b(select|insert|update|delete|drop|union)\b[\s\S]{0,80}\b(from|into|set|table|select|where)\b/i;

/** Removes echoes of attacker input (raw, JSON-escaped, trimmed, lower-cased) before looking for internals. */
function withoutEchoes(text: string, payloads: string[]): string {
  let cleaned = text;
  for (const payload of payloads) {
    for (const variant of new Set([payload, payload.trim(), payload.toLowerCase(), payload.trim().toLowerCase()])) {
      if (!variant) continue;
      const escaped = JSON.stringify(variant).slice(1, -1);
      cleaned = cleaned.split(escaped).join('').split(variant).join('');
    }
  }
  return cleaned;
}

/** No stack trace, no driver or SQL error text, no SQL statement in a response (beyond echoes of the caller's own input). */
export function internalsIn(res: Pick<Response, 'text' | 'status'>, payloads: string[] = []): string | undefined {
  const text = withoutEchoes(res.text ?? '', payloads);
  for (const pattern of INTERNALS) if (pattern.test(text)) return `body matches ${pattern}: ${text.slice(0, 300)}`;
  // A success may return stored data that looks like SQL (a menu item titled "1; DELETE FROM orders").
  if (res.status >= 400 && SQL_STATEMENT.test(text)) return `error body contains SQL: ${text.slice(0, 300)}`;
  return undefined;
}

export function expectNoInternals(res: Pick<Response, 'text' | 'status'>, payloads: string[] = []): void {
  const problem = internalsIn(res, payloads);
  if (problem) throw new Error(`HTTP ${res.status}: ${problem}`);
}

/** Every answer, error or not, is a JSON document (the frontend calls r.json() on everything). */
export function expectJson(res: Pick<Response, 'status' | 'headers' | 'text'>): void {
  expect(String(res.headers['content-type'] ?? '')).toMatch(/application\/json/);
  expect(() => JSON.parse(res.text)).not.toThrow();
}

/** A failed order of `diner`: the simulator's fail chaos is switched on for exactly one order. */
export async function failedOrder(t: TestApp, world: World, diner: TestUser = world.diner): Promise<number> {
  t.simulator.simulator.chaos.activate('fail');
  try {
    const res = await t.http
      .post('/api/order')
      .set('Authorization', bearer(diner))
      .send({ franchiseId: world.franchise.id, storeId: world.franchise.store.id, items: [{ menuId: 1 }] });
    if (res.status !== 502 || typeof res.body.orderId !== 'number') throw new Error(`expected a failed order, got ${res.status} ${res.text}`);
    return res.body.orderId as number;
  } finally {
    t.simulator.simulator.chaos.end();
  }
}

/** A fulfilled order of `diner`. */
export async function fulfilledOrder(t: TestApp, world: World, diner: TestUser = world.diner) {
  const res = await t.http
    .post('/api/order')
    .set('Authorization', bearer(diner))
    .send({ franchiseId: world.franchise.id, storeId: world.franchise.store.id, items: [{ menuId: 1 }] });
  if (res.status !== 200) throw new Error(`expected a fulfilled order, got ${res.status} ${res.text}`);
  return res.body as { order: { id: number }; jwt: string };
}

/** Env for apps whose tests make many failed logins on purpose (rate limits tested elsewhere). */
export const NO_LOGIN_LIMITS = { LOGIN_MAX_FAILURES_PER_IP: '100000', LOGIN_MAX_FAILURES_PER_ACCOUNT: '100000', RATE_LIMIT_PER_MINUTE: '0' };

/** Row counts of every table in one round trip (cheap enough to run around every attack request). */
export async function countAll(t: TestApp): Promise<Record<string, number>> {
  const { sql } = await import('kysely');
  const columns = TABLES.map((table) => sql`(select count(*) from ${sql.table(table)}) as ${sql.ref(table)}`);
  const result = await sql<Record<string, number>>`select ${sql.join(columns)}`.execute(t.ctx.db);
  return Object.fromEntries(Object.entries(result.rows[0]).map(([k, v]) => [k, Number(v)]));
}

export type FieldPath = (string | number)[];

/** Leaf fields of a body: those the schema declares and those the example body carries (passthrough objects). */
export function leafPaths(schema: JsonSchema | undefined, example: unknown, prefix: FieldPath = []): FieldPath[] {
  const paths = new Map<string, FieldPath>();
  const add = (p: FieldPath) => paths.set(JSON.stringify(p), p);
  if (Array.isArray(example)) {
    const inner = leafPaths(schema?.items, example[0], [...prefix, 0]);
    inner.forEach(add);
    if (!inner.length) add([...prefix, 0]);
  } else if (example !== null && typeof example === 'object') {
    const keys = new Set([...Object.keys(schema?.properties ?? {}), ...Object.keys(example)]);
    for (const key of keys) leafPaths(schema?.properties?.[key], (example as Record<string, unknown>)[key], [...prefix, key]).forEach(add);
  } else if (prefix.length) {
    add(prefix);
  }
  return [...paths.values()];
}

/** A deep copy of `body` with the value at `path` replaced. */
export function withValue(body: unknown, path: FieldPath, value: unknown): unknown {
  if (!path.length) return value;
  const copy: any = Array.isArray(body) ? [...body] : { ...(body as object) };
  const [head, ...rest] = path;
  copy[head] = withValue(copy[head] ?? (typeof rest[0] === 'number' ? [] : {}), rest, value);
  return copy;
}

export interface BaseRequest {
  params: Record<string, number>;
  query?: Record<string, string>;
  body?: unknown;
  token?: string;
}

/**
 * A valid request for every route of the catalogue, made by the caller who reaches deepest into the
 * code (an admin, or nobody for register/login). Attacks start from these and spoil one input at a time.
 */
export async function baseRequests(t: TestApp, w: World): Promise<Record<string, BaseRequest>> {
  const victim = await buildUser(t);
  const orderId = await failedOrder(t, w);
  const admin = w.admin.token;
  return {
    'POST /api/auth': { params: {}, body: { name: 'pizza diner', email: 'new.diner@test.jwt', password: 'pw-12345' } },
    'PUT /api/auth': { params: {}, body: { email: w.diner.email, password: w.diner.password } },
    'DELETE /api/auth': { params: {}, token: (await buildUser(t)).token },
    'GET /api/user/me': { params: {}, token: admin },
    'PUT /api/user/:userId': { params: { userId: victim.id }, body: { name: 'victim', email: victim.email, password: 'pw-12345' }, token: admin },
    'GET /api/user': { params: {}, query: { page: '1', limit: '10', name: '*' }, token: admin },
    'DELETE /api/user/:userId': { params: { userId: victim.id }, token: admin },
    'GET /api/order/menu': { params: {} },
    'PUT /api/order/menu': { params: {}, body: { title: 'Student', description: 'No topping', image: 'pizza9.png', price: 0.0001 }, token: admin },
    'GET /api/order': { params: {}, query: { page: '1' }, token: admin },
    'POST /api/order': {
      params: {},
      body: { franchiseId: w.franchise.id, storeId: w.franchise.store.id, items: [{ menuId: 1, description: 'Veggie', price: 0.0038 }] },
      token: admin,
    },
    'POST /api/order/:orderId/retry': { params: { orderId }, token: admin },
    'GET /api/order/failures': { params: {}, query: { limit: '20' }, token: admin },
    'GET /api/order/factory': { params: {}, token: admin },
    'POST /api/order/factory/report': { params: {}, token: admin },
    'GET /api/franchise': { params: {}, query: { page: '0', limit: '10', name: '*' }, token: admin },
    'GET /api/franchise/:userId': { params: { userId: w.ownFranchisee.id }, token: admin },
    'POST /api/franchise': { params: {}, body: { name: 'pizzaPocket', admins: [{ email: w.diner.email }] }, token: admin },
    'DELETE /api/franchise/:franchiseId': { params: { franchiseId: w.franchise.id }, token: admin },
    'POST /api/franchise/:franchiseId/store': { params: { franchiseId: w.franchise.id }, body: { name: 'SLC' }, token: admin },
    'DELETE /api/franchise/:franchiseId/store/:storeId': { params: { franchiseId: w.franchise.id, storeId: w.franchise.store.id }, token: admin },
  };
}

/** The URL of a route with its params (raw strings are URL-encoded) and query. */
export function urlOf(path: string, params: Record<string, number | string>, query: Record<string, string> = {}): string {
  const filled = path.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(String(params[name])));
  const search = new URLSearchParams(query).toString();
  return search ? `${filled}?${search}` : filled;
}

/** A loopback port that was free a moment ago (nothing listens on it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A Redis-backed store once its connection is ready: it is degraded (memory or fail-open) until then, so count only once shared. */
export async function sharedStoreReady(store: RateLimitStore, url: string): Promise<RateLimitStore> {
  const deadline = Date.now() + 5000;
  while (store.degraded?.() !== false) {
    if (Date.now() > deadline) throw new Error(`Redis at ${url} did not become ready within 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return store;
}
