import { AppError } from '@export/errors';
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { Request } from 'express';
import { verifiedClaims } from './bearer-token';
import { toPrincipal, UserClaims, type Principal } from './principal';

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

