import fc from 'fast-check';
import { buildTestApp, type TestApp } from '../helpers/app';
import {
  baseRequests,
  buildWorld,
  expectJson,
  internalsIn,
  leafPaths,
  NO_LOGIN_LIMITS,
  routeCatalogue,
  routeKey,
  send,
  snapshotRows,
  urlOf,
  withValue,
  type BaseRequest,
  type CatalogueRoute,
} from './support';

// Property-based fuzzing with fast-check over every endpoint: arbitrary JSON bodies and near misses of a
// valid body (one field replaced by any JSON value, a field dropped, extra fields, the wrong container),
// then arbitrary path and query values. Properties: never a 5xx, never internals in the body, always JSON,
// and a rejected (4xx) request changes no row. Runs are bounded and seeded for reproducibility.

const SEED = Number(process.env.FUZZ_SEED ?? 20261122);
const BODY_RUNS = 50;
const PARAM_RUNS = 25;

const json = fc.jsonValue({ maxDepth: 3 });

/** Bodies close to a valid one, where validation bugs hide. */
function nearMisses(valid: unknown, schemaLeaves: (string | number)[][]): fc.Arbitrary<unknown> {
  if (valid === undefined || valid === null || typeof valid !== 'object') return json;
  const leaves = schemaLeaves.length ? schemaLeaves : [['x']];
  const leaf = fc.constantFrom(...leaves);
  const keys = Object.keys(valid as object);
  return fc.oneof(
    // one field replaced by anything JSON can hold
    fc.tuple(leaf, json).map(([path, value]) => withValue(valid, path, value)),
    // one field replaced by a string of any characters (unicode, control, huge)
    fc.tuple(leaf, fc.string({ unit: 'binary', maxLength: 300 })).map(([path, value]) => withValue(valid, path, value)),
    // numbers at the edges
    fc.tuple(leaf, fc.constantFrom(0, -1, 1.5, 2 ** 31, 2 ** 53, -(2 ** 63), 1e308, Number.MIN_VALUE, '1e3', ' 1', '01', '١')).map(([path, value]) => withValue(valid, path, value)),
    // a field dropped
    fc.constantFrom(...(keys.length ? keys : ['x'])).map((key) => {
      const copy = { ...(valid as Record<string, unknown>) };
      delete copy[key];
      return copy;
    }),
    // extra fields, including prototype-looking keys
    fc.dictionary(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'prototype', 'id', 'roles', 'status', 'jwt')), json, { maxKeys: 4 }).map((extra) => ({ ...(valid as object), ...extra })),
    // the whole body wrapped or replaced by its values
    fc.constant([valid]),
    fc.constant(Object.values(valid as object)),
  );
}

describe('fuzzing every endpoint with fast-check', () => {
  let t: TestApp;
  let catalogue: CatalogueRoute[];
  let bases: Record<string, BaseRequest>;
  let requests = 0;

  beforeAll(async () => {
    t = await buildTestApp({ env: NO_LOGIN_LIMITS });
    const world = await buildWorld(t);
    catalogue = await routeCatalogue(t);
    bases = await baseRequests(t, world);
  });
  afterAll(async () => {
    await t.close();
    if (process.env.FUZZ_REPORT) console.info(`fuzz: ${requests} requests`);
  });

  async function check(route: CatalogueRoute, url: string, token: string | undefined, body: unknown): Promise<void> {
    const before = await snapshotRows(t);
    const res = await send(t, route.method, url, { token, body });
    requests += 1;
    const context = `${routeKey(route)} ${url} ${JSON.stringify(body)?.slice(0, 300)} → ${res.status} ${res.text.slice(0, 200)}`;
    if (res.status >= 500) throw new Error(`5xx: ${context}`);
    const leak = internalsIn(res, typeof body === 'string' ? [body] : []);
    if (leak) throw new Error(`${leak}: ${context}`);
    expectJson(res);
    if (res.status >= 400) {
      if (typeof res.body.message !== 'string') throw new Error(`no message: ${context}`);
      const after = await snapshotRows(t);
      if (JSON.stringify(after) !== JSON.stringify(before)) throw new Error(`rejected request changed rows: ${context}`);
    }
  }

  // Every route that takes a body, plus the body-less POSTs (a stray body must not break them).
  const BODY_ROUTES = [
    'POST /api/auth', 'PUT /api/auth', 'PUT /api/user/:userId', 'PUT /api/order/menu', 'POST /api/order', 'POST /api/order/:orderId/retry',
    'POST /api/order/factory/report', 'POST /api/franchise', 'POST /api/franchise/:franchiseId/store',
  ];

  test('when the catalogue is read, then every POST/PUT route is fuzzed', () => {
    const writes = catalogue.filter((r) => r.method === 'POST' || r.method === 'PUT').map(routeKey);
    expect(writes.filter((key) => !BODY_ROUTES.includes(key))).toEqual([]);
  });

  test.each(BODY_ROUTES)('when %s gets arbitrary and near-miss JSON bodies, then never a 5xx or internals, and rejections change no row', async (key) => {
    const route = catalogue.find((r) => routeKey(r) === key)!;
    const base = bases[key];
    const leaves = leafPaths(route.bodySchema, base.body);
    const url = urlOf(route.path, base.params, base.query);
    await fc.assert(
      fc.asyncProperty(fc.oneof(json, nearMisses(base.body ?? {}, leaves)), async (body) => {
        await check(route, url, base.token, body);
      }),
      { numRuns: BODY_RUNS, seed: SEED, endOnFailure: true },
    );
  });

  test('when path parameters and query strings get arbitrary text, then never a 5xx or internals, and rejections change no row', async () => {
    const routes = catalogue.filter((r) => r.pathParams.length || r.queryParams.length);
    // Pure digits could name a real row and a DELETE would then legitimately succeed; ids are covered above.
    const text = fc.string({ unit: 'binary', maxLength: 60 }).filter((s) => !/^\s*\d+\s*$/.test(s));
    for (const route of routes) {
      const base = bases[routeKey(route)];
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...route.pathParams, ...route.queryParams), text, async (name, value) => {
          const params = route.pathParams.includes(name) ? { ...base.params, [name]: value } : base.params;
          const query = route.queryParams.includes(name) ? { ...base.query, [name]: value } : base.query;
          await check(route, urlOf(route.path, params as Record<string, string>, query), base.token, base.body);
        }),
        { numRuns: PARAM_RUNS, seed: SEED, endOnFailure: true },
      );
    }
  });
});
