import { AppError } from '@export/errors';
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { Request } from 'express';
import { verifiedClaims } from './bearer-token';
import { ServiceClaims } from './principal';

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
