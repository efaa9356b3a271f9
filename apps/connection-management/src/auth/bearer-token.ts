import { AppError } from '@export/errors';
import { JwtService } from '@nestjs/jwt';
import type { Request } from 'express';

export async function verifiedClaims(jwt: JwtService, request: Request): Promise<Record<string, unknown>> {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match) throw new AppError('unauthenticated', 'Missing bearer token');
  try {
    return await jwt.verifyAsync<Record<string, unknown>>(match[1], { algorithms: ['HS256'] });
  } catch {
    throw new AppError('unauthenticated', 'Invalid or expired token');
  }
}
