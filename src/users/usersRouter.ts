import { z } from 'zod';
import type { authMiddleware } from '../auth/middleware';
import type { AppContext } from '../context';
import { id, queryInt, type MountedRoutes, type RouteCatalogue } from '../shared/http/routes';
import { emailField, namePattern, nameField, newPasswordField } from '../shared/http/schemas';
import { listUsersPage, publicUser, removeUser, updateUserProfile } from './usersService';

const exampleUser = { id: 1, name: 'Admin', email: 'a@jwt.com', roles: [{ role: 'admin' }] };

export function usersRouter(ctx: AppContext, catalogue: RouteCatalogue, auth: ReturnType<typeof authMiddleware>): MountedRoutes {
  return catalogue.router('/api/user', [
    {
      method: 'GET',
      path: '/me',
      auth: 'user',
      description: 'Get the authenticated user',
      example: `curl -X GET localhost:3000/api/user/me -H 'Authorization: Bearer tttttt'`,
      response: exampleUser,
      before: [auth.requireUser],
      handle: ({ req }) => publicUser(req.user!),
    },
    {
      method: 'PUT',
      path: '/:userId',
      auth: 'self/admin',
      description: 'Update a user (yourself, or anyone as admin); returns the user and a fresh token',
      example: `curl -X PUT localhost:3000/api/user/1 -d '{"name":"Admin", "email":"a@jwt.com", "password":"<password>"}' -H 'Content-Type: application/json' -H 'Authorization: Bearer tttttt'`,
      response: { user: exampleUser, token: 'tttttt' },
      before: [auth.requireUser],
      params: z.object({ userId: id }),
      body: z.object({ name: nameField.optional(), email: emailField.optional(), password: newPasswordField.optional() }),
      handle: ({ req, params, body }) => updateUserProfile(ctx, req.user!, params.userId, body, req.headers.authorization!.replace(/^Bearer\s+/i, '')),
    },
    {
      method: 'GET',
      path: '/',
      auth: 'admin',
      description: 'List users, 1-based pages; name filter with * wildcards',
      example: `curl -X GET 'localhost:3000/api/user?page=1&limit=10&name=*' -H 'Authorization: Bearer tttttt'`,
      response: { users: [exampleUser], more: false },
      before: [auth.requireAdmin],
      query: z.object({ page: queryInt(1, 1_000_000, 1), limit: queryInt(1, 100, 10), name: namePattern }),
      handle: ({ query }) => listUsersPage(ctx, query),
    },
    {
      method: 'DELETE',
      path: '/:userId',
      auth: 'admin',
      description: 'Delete a user; their tokens stop working everywhere, their orders are kept',
      example: `curl -X DELETE localhost:3000/api/user/3 -H 'Authorization: Bearer tttttt'`,
      response: { message: 'user deleted' },
      before: [auth.requireAdmin],
      params: z.object({ userId: id }),
      handle: async ({ params }) => {
        await removeUser(ctx, params.userId);
        return { message: 'user deleted' };
      },
    },
  ]);
}
