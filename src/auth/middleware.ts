import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AppContext } from '../context';
import { forbidden, unauthorized } from '../shared/errors';
import { authenticate, readOwnRows } from './authService';
import { isAdmin } from './policies';
import type { SessionCheckedRead } from './sessionsRepository';
import { verifyToken } from './tokens';

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
  /**
   * Checks only the token's signature and expiry (no database), so that an anonymous caller gets 401
   * before any validation; the handler must then read through readOwn(), which checks the session.
   */
  const requireSignedToken: RequestHandler = (req: Request, _res: Response, next: NextFunction) => {
    const token = bearer(req);
    const claims = token ? verifyToken(token, ctx.config.jwt.secret) : undefined;
    if (!claims) throw unauthorized();
    req.signedToken = claims;
    next();
  };
  /** The caller's own rows, read in the statement that checks their session; 401 when it is gone. */
  const readOwn = async <A extends (string | number)[], R>(req: Request, read: SessionCheckedRead<A, R>, ...args: A) => {
    if (!req.signedToken) throw new Error('readOwn() needs auth.requireSignedToken before the handler');
    const own = await readOwnRows(ctx, req.signedToken, read, ...args);
    if (!own) throw unauthorized();
    req.authenticatedUserId = own.userId;
    return own;
  };
  return { requireUser, optionalUser, requireAdmin, requireSignedToken, readOwn };
}
