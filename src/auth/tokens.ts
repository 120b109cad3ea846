import jwt from 'jsonwebtoken';

interface TokenClaims { sub: string; sid: string }

export function signToken(claims: { userId: number; sessionId: string }, secret: string, ttlSeconds: number): string {
  return jwt.sign({ sid: claims.sessionId }, secret, { algorithm: 'HS256', subject: String(claims.userId), expiresIn: ttlSeconds });
}

/** The session id of a valid token, or undefined. Only HS256 with our secret: no `alg: none`, no key confusion. */
export function verifyToken(token: string, secret: string): { userId: number; sessionId: string } | undefined {
  try {
    const claims = jwt.verify(token, secret, { algorithms: ['HS256'] }) as Partial<TokenClaims>;
    if (typeof claims.sid !== 'string' || typeof claims.sub !== 'string') return undefined;
    return { userId: Number(claims.sub), sessionId: claims.sid };
  } catch {
    return undefined;
  }
}
