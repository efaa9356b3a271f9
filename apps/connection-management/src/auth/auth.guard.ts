import { AppError } from '@export/errors';
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { Request } from 'express';
import { ServiceClaims, toPrincipal, UserClaims, type Principal } from './principal';

async function verifiedClaims(jwt: JwtService, request: Request): Promise<Record<string, unknown>> {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match) throw new AppError('unauthenticated', 'Missing bearer token');
  try {
    return await jwt.verifyAsync<Record<string, unknown>>(match[1], { algorithms: ['HS256'] });
  } catch {
    throw new AppError('unauthenticated', 'Invalid or expired token');
  }
}

/** Public routes: a user token (admin, contributor, operator). Service tokens are refused here. */
@Injectable()
export class UserAuthGuard implements CanActivate {
  constructor(private readonly jwt: JwtService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const claims = await verifiedClaims(this.jwt, request);
    if (claims['role'] === 'service')
      throw new AppError('forbidden', 'Service tokens may only call internal routes');
    const parsed = UserClaims.safeParse(claims);
    if (!parsed.success) throw new AppError('unauthenticated', 'Token claims sub, tid and role are required');
    request.principal = toPrincipal(parsed.data);
    return true;
  }
}

/** Internal routes: only a service token (role `service`, tid `*`). */
@Injectable()
export class ServiceAuthGuard implements CanActivate {
  constructor(private readonly jwt: JwtService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request>();
    const claims = await verifiedClaims(this.jwt, request);
    if (!ServiceClaims.safeParse(claims).success)
      throw new AppError('forbidden', 'Internal routes need a service token');
    return true;
  }
}
