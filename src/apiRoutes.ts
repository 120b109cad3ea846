import { authMiddleware } from './auth/middleware';
import { authRouter } from './auth/authRouter';
import type { AppContext } from './context';
import { franchisesRouter } from './franchises/franchisesRouter';
import { MenuCache } from './menu/menuService';
import { ordersRouter } from './orders/ordersRouter';
import { RouteCatalogue, type MountedRoutes, type RouteDoc } from './shared/http/routes';
import { usersRouter } from './users/usersRouter';

/** The API's routers in mount order; each records its routes in `catalogue` (/api/docs, /api/openapi.json, docs/reference/api.md). */
export function apiRouters(ctx: AppContext, catalogue: RouteCatalogue): MountedRoutes[] {
  const auth = authMiddleware(ctx);
  const menu = new MenuCache(ctx);
  return [authRouter(ctx, catalogue, auth), usersRouter(ctx, catalogue, auth), ordersRouter(ctx, catalogue, auth, menu), franchisesRouter(ctx, catalogue, auth)];
}

/**
 * The API's routes, grouped by router prefix, without building an app: building the routers reads nothing
 * from the context (only their handlers do, per request), so an empty one serves and nothing is opened.
 */
export function listRoutes(): Array<{ prefix: string; routes: RouteDoc[] }> {
  const catalogue = new RouteCatalogue();
  const mounted = apiRouters({} as AppContext, catalogue);
  const under = (prefix: string, path: string) => path === prefix || path.startsWith(`${prefix}/`);
  return mounted.map(({ prefix }) => ({ prefix, routes: catalogue.routes.filter((route) => under(prefix, route.path)) }));
}
