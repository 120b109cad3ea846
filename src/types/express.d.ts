import type { SessionUser } from '../auth/sessionsRepository';
import type { VerifiedToken } from '../auth/tokens';

declare global {
  namespace Express {
    interface Request {
      /** Set by the auth middleware when a valid, unrevoked bearer token came with the request. */
      user?: SessionUser;
      /** A bearer token whose signature checked (auth.requireSignedToken); its session is not checked yet. */
      signedToken?: VerifiedToken;
      /** Set when a route read the caller's rows through auth.readOwn(), which checked the session. */
      authenticatedUserId?: number;
      requestId: string;
    }
    /**
     * Per-request values of our middlewares live on res.locals (a prototype-less object made per request), not
     * as new properties of req or res: adding one gives every request object another hidden class, and the
     * router and Node's HTTP code that read them slow down with it.
     */
    interface Locals {
      /** When the request came in (performance.now()), for its duration (observeRequests). */
      startedAt?: number;
      /** The client's address once worked out (see clientIp() in shared/http/middleware). */
      clientIp?: string;
    }
  }
}

export {};
