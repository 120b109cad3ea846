import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AppContext } from '../context';
import { forbidden, unauthorized } from '../shared/errors';
import { authenticate } from './authService';
import { isAdmin } from './policies';

function bearer(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

export function authMiddleware(ctx: AppContext) {
  const requireUser: RequestHandler = async (req: Request, _res: Response, next: NextFunction) => {
    const token = bearer(req);
    const user = token ? await authenticate(ctx, token) : undefined;
    if (!user) throw unauthorized();
    req.user = user;
    next();
  };
  /** Anonymous callers pass; a bad token is treated as anonymous (public pages must not break on a stale token). */
  const optionalUser: RequestHandler = async (req: Request, _res: Response, next: NextFunction) => {
    const token = bearer(req);
    if (token) req.user = await authenticate(ctx, token);
    next();
  };
  const requireAdmin: RequestHandler = async (req: Request, res: Response, next: NextFunction) => {
    await requireUser(req, res, () => undefined);
    if (!isAdmin(req.user)) throw forbidden('admin only');
    next();
  };
  return { requireUser, optionalUser, requireAdmin };
}
