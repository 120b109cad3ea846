import { Router } from 'express';
import { z } from 'zod';
import type { RouteCatalogue, RouteDoc } from '../shared/http/routes';

const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}').replace(/\/$/, '') || '/';

function jsonSchema(schema: z.ZodType | undefined, io: 'input' | 'output' = 'input') {
  if (!schema) return undefined;
  try {
    return z.toJSONSchema(schema, { io, unrepresentable: 'any' });
  } catch {
    return {};
  }
}

/** OpenAPI 3.1 from the same route specs that are served, so the document cannot drift. */
export function openApiDocument(routes: RouteDoc[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    const params = [...route.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'integer', minimum: 1 } }));
    const query = jsonSchema(route.query) as { properties?: Record<string, unknown> } | undefined;
    const queryParams = Object.entries(query?.properties ?? {}).map(([name, schema]) => ({ name, in: 'query', required: false, schema }));
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = {
      summary: route.description,
      'x-auth': route.auth,
      security: route.auth === 'none' ? [] : [{ bearerAuth: [] }],
      parameters: [...params, ...queryParams],
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body) } } } } : {}),
      responses: {
        '200': { description: 'success', content: { 'application/json': { example: route.response } } },
        default: { description: 'error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'jwt-pizza-service', version },
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Error: { type: 'object', required: ['message'], properties: { message: { type: 'string' } } } },
    },
  };
}

export function docsRouter(catalogue: RouteCatalogue, version: string, factoryUrl: string): Router {
  const router = Router();
  let docs: unknown;
  let openApi: unknown;
  router.get('/api/docs', (_req, res) => {
    docs ??= {
      version,
      endpoints: catalogue.routes.map((r) => ({ method: r.method, path: r.path, description: r.description, example: r.example, response: r.response, requiresAuth: r.auth !== 'none', auth: r.auth })),
      config: { factory: factoryUrl },
    };
    res.json(docs);
  });
  router.get('/api/openapi.json', (_req, res) => {
    openApi ??= openApiDocument(catalogue.routes, version);
    res.json(openApi);
  });
  return router;
}
