import { z } from 'zod';
import type { authMiddleware } from '../auth/middleware';
import type { AppContext } from '../context';
import { id, queryInt, type MountedRoutes, type RouteCatalogue } from '../shared/http/routes';
import { emailField, namePattern, nameField } from '../shared/http/schemas';
import * as service from './franchisesService';

const exampleFranchise = { id: 1, name: 'pizzaPocket', admins: [{ id: 4, name: 'pizza franchisee', email: 'f@jwt.com' }], stores: [{ id: 1, name: 'SLC', totalRevenue: 0.0038 }] };

export function franchisesRouter(ctx: AppContext, catalogue: RouteCatalogue, auth: ReturnType<typeof authMiddleware>): MountedRoutes {
  const franchiseParams = z.object({ franchiseId: id });
  return catalogue.router('/api/franchise', [
    {
      method: 'GET',
      path: '/',
      auth: 'none',
      description: 'List franchises, 0-based pages; name filter with * wildcards. Admins also see admins and store revenue',
      example: `curl 'localhost:3000/api/franchise?page=0&limit=10&name=pizza*'`,
      response: { franchises: [{ id: 1, name: 'pizzaPocket', stores: [{ id: 1, name: 'SLC' }] }], more: true },
      before: [auth.optionalUser],
      query: z.object({ page: queryInt(0, 1_000_000, 0), limit: queryInt(1, 100, 10), name: namePattern }),
      handle: ({ req, query }) => service.listFranchisesPage(ctx, req.user, query),
    },
    {
      method: 'GET',
      path: '/:userId',
      auth: 'self/admin',
      description: "List a user's franchises (with admins and store revenue)",
      example: `curl localhost:3000/api/franchise/4 -H 'Authorization: Bearer tttttt'`,
      response: [exampleFranchise],
      before: [auth.requireUser],
      params: z.object({ userId: id }),
      handle: ({ req, params }) => service.franchisesOfUser(ctx, req.user!, params.userId),
    },
    {
      method: 'POST',
      path: '/',
      auth: 'admin',
      description: 'Create a franchise; each admin email must belong to an existing user',
      example: `curl -X POST localhost:3000/api/franchise -d '{"name": "pizzaPocket", "admins": [{"email": "f@jwt.com"}]}' -H 'Content-Type: application/json' -H 'Authorization: Bearer tttttt'`,
      response: { id: 1, name: 'pizzaPocket', admins: [{ email: 'f@jwt.com', id: 4, name: 'pizza franchisee' }] },
      before: [auth.requireAdmin],
      body: z.object({ name: nameField, admins: z.array(z.object({ email: emailField })).max(50, 'at most 50 admins').default([]) }),
      handle: ({ body }) => service.createFranchise(ctx, body),
    },
    {
      method: 'DELETE',
      path: '/:franchiseId',
      auth: 'admin',
      description: 'Delete a franchise and its stores (orders are kept)',
      example: `curl -X DELETE localhost:3000/api/franchise/1 -H 'Authorization: Bearer tttttt'`,
      response: { message: 'franchise deleted' },
      before: [auth.requireAdmin],
      params: franchiseParams,
      handle: async ({ params }) => {
        await service.removeFranchise(ctx, params.franchiseId);
        return { message: 'franchise deleted' };
      },
    },
    {
      method: 'POST',
      path: '/:franchiseId/store',
      auth: 'owner/admin',
      description: 'Create a store in a franchise',
      example: `curl -X POST localhost:3000/api/franchise/1/store -d '{"name":"SLC"}' -H 'Content-Type: application/json' -H 'Authorization: Bearer tttttt'`,
      response: { id: 1, franchiseId: 1, name: 'SLC', totalRevenue: 0 },
      before: [auth.requireUser],
      params: franchiseParams,
      body: z.object({ name: nameField }),
      handle: ({ req, params, body }) => service.createStore(ctx, req.user!, params.franchiseId, body.name),
    },
    {
      method: 'DELETE',
      path: '/:franchiseId/store/:storeId',
      auth: 'owner/admin',
      description: 'Delete a store',
      example: `curl -X DELETE localhost:3000/api/franchise/1/store/1 -H 'Authorization: Bearer tttttt'`,
      response: { message: 'store deleted' },
      before: [auth.requireUser],
      params: z.object({ franchiseId: id, storeId: id }),
      handle: async ({ req, params }) => {
        await service.removeStore(ctx, req.user!, params.franchiseId, params.storeId);
        return { message: 'store deleted' };
      },
    },
  ]);
}
