import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp, type AppDeps } from '../../../src/app';
import { listRoutes } from '../../../src/apiRoutes';
import { testConfig } from '../../../src/config';
import { openApiDocument } from '../../../src/docs/docsRouter';
import { createLogger } from '../../../src/shared/logging/logger';
import { createMetrics } from '../../../src/shared/metrics/metrics';
import { renderApiReference } from '../../../scripts/docs/api';

const committed = readFileSync(join(__dirname, '../../../docs/reference/api.md'), 'utf8');

/** `METHOD path` of every table row of the reference. */
function tableRows(markdown: string): string[] {
  return [...markdown.matchAll(/^\| (GET|POST|PUT|DELETE) \| `([^`]+)` \|/gm)].map((m) => `${m[1]} ${m[2]}`);
}

type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle: { stack?: Layer[] } };

/** `METHOD path` of every route an Express app serves, mounted routers included (their routes carry their full path as `label`). */
function servedRoutes(stack: Layer[]): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      const path = layer.route.path;
      return Object.keys(layer.route.methods).map((method) => `${method.toUpperCase()} ${path}`);
    }
    return layer.handle.stack ? servedRoutes(layer.handle.stack) : [];
  });
}

/** The app as the service builds it; nothing listens and nothing is opened (the routes are only listed). */
function builtApp() {
  const config = testConfig();
  const deps = {
    config,
    database: {},
    logger: createLogger({ level: 'silent', env: 'test' }),
    metrics: createMetrics(),
    factory: {},
    factoryPublicUrl: 'http://factory.invalid',
  } as unknown as AppDeps;
  return createApp(deps).app;
}

describe('docs/reference/api.md', () => {
  const catalogue = listRoutes().flatMap((group) => group.routes);

  it('has a row for every route the app serves', () => {
    const served = servedRoutes((builtApp() as unknown as { router: { stack: Layer[] } }).router.stack);
    expect(served.length).toBeGreaterThan(catalogue.length);
    expect(served.filter((route) => !tableRows(committed).includes(route))).toEqual([]);
  });

  it('lists the same API routes as the catalogue the app mounts', () => {
    const served = servedRoutes((builtApp() as unknown as { router: { stack: Layer[] } }).router.stack);
    for (const route of catalogue) expect(served).toContain(`${route.method} ${route.path}`);
  });

  it("agrees with the OpenAPI document's paths and methods", () => {
    const openApi = openApiDocument(catalogue, 'test');
    const fromOpenApi = Object.entries(openApi.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    const apiSection = committed.slice(0, committed.indexOf('## Service endpoints'));
    expect(tableRows(apiSection).sort()).toEqual(fromOpenApi.sort());
  });

  it('changes when a route is added (the committed file is then stale)', () => {
    const groups = listRoutes();
    groups[0].routes.push({ method: 'GET', path: `${groups[0].prefix}/scratch`, auth: 'none', description: 'scratch route' });
    expect(renderApiReference(groups)).not.toBe(committed);
    expect(renderApiReference()).toBe(committed);
  });
});
