import { AppError } from '@export/errors';
import { JwtService } from '@nestjs/jwt';
import type { Request } from 'express';

/** The token of an `Authorization: Bearer <token>` header, or a 401 naming what is missing (never the header). */
export function bearerToken(request: Request): string {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match) throw new AppError('unauthenticated', 'Missing bearer token');
  return match[1];
}

/** Service tokens (HS256 with AUTH_JWT_SECRET); user tokens go through UserTokenVerifier. */
export async function verifiedClaims(jwt: JwtService, request: Request): Promise<Record<string, unknown>> {
  const token = bearerToken(request);
  try {
    return await jwt.verifyAsync<Record<string, unknown>>(token, { algorithms: ['HS256'] });
  } catch {
    throw new AppError('unauthenticated', 'Invalid or expired token');
  }
}
