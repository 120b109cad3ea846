import type { SessionUser } from '../auth/sessionsRepository';

declare global {
  namespace Express {
    interface Request {
      /** Set by the auth middleware when a valid, unrevoked bearer token came with the request. */
      user?: SessionUser;
      requestId: string;
      /** The client's address once worked out (see clientIp() in shared/http/middleware). */
      clientIp?: string;
    }
  }
}

export {};
