import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { APP_CONFIG } from '../app-tokens';
import type { ControlPlaneConfig } from '../config';
import { bearerToken } from './bearer-token';
import { principalOf, type ClaimNames, type Principal } from './principal';
import { UserTokenVerifier } from './user-token.verifier';

/** Public routes: a user token (admin, contributor, operator). Service tokens are refused here. */
@Injectable()
export class UserAuthGuard implements CanActivate {
  private readonly claims: ClaimNames;

  constructor(
    private readonly verifier: UserTokenVerifier,
    @Inject(APP_CONFIG) config: Pick<ControlPlaneConfig, 'AUTH_TENANT_CLAIM' | 'AUTH_ROLE_CLAIM'>,
  ) {
    this.claims = { tenant: config.AUTH_TENANT_CLAIM, role: config.AUTH_ROLE_CLAIM };
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const payload = await this.verifier.verify(bearerToken(request));
    request.principal = principalOf(payload, this.claims);
    return true;
  }
}
