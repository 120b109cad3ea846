import { z } from 'zod';
import type { AppContext } from '../context';
import type { MountedRoutes, RouteCatalogue } from '../shared/http/routes';
import { clientIp } from '../shared/http/middleware';
import { emailField, nameField, newPasswordField, passwordField } from '../shared/http/schemas';
import { login, logout, register } from './authService';
import type { authMiddleware } from './middleware';

const exampleUser = { id: 2, name: 'pizza diner', email: 'd@jwt.com', roles: [{ role: 'diner' }] };

export function authRouter(ctx: AppContext, catalogue: RouteCatalogue, auth: ReturnType<typeof authMiddleware>): MountedRoutes {
  return catalogue.router('/api/auth', [
    {
      method: 'POST',
      path: '/',
      auth: 'none',
      description: 'Register a new user (always a diner)',
      example: `curl -X POST localhost:3000/api/auth -d '{"name":"pizza diner", "email":"d@jwt.com", "password":"<password>"}' -H 'Content-Type: application/json'`,
      response: { user: exampleUser, token: 'tttttt' },
      body: z.object({ name: nameField, email: emailField, password: newPasswordField }),
      handle: ({ body }) => register(ctx, body),
    },
    {
      method: 'PUT',
      path: '/',
      auth: 'none',
      description: 'Login an existing user',
      example: `curl -X PUT localhost:3000/api/auth -d '{"email":"d@jwt.com", "password":"<password>"}' -H 'Content-Type: application/json'`,
      response: { user: exampleUser, token: 'tttttt' },
      body: z.object({ email: emailField, password: passwordField }),
      handle: ({ body, req }) => login(ctx, body, clientIp(req)),
    },
    {
      method: 'DELETE',
      path: '/',
      auth: 'user',
      description: 'Logout: the token stops working on every instance',
      example: `curl -X DELETE localhost:3000/api/auth -H 'Authorization: Bearer tttttt'`,
      response: { message: 'logout successful' },
      before: [auth.requireUser],
      handle: async ({ req }) => {
        await logout(ctx, req.user!);
        return { message: 'logout successful' };
      },
    },
  ]);
}
