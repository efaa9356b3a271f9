import { AppError } from '@export/errors';
import { verifyServiceToken } from '@export/service-auth';
import {
  createParamDecorator,
  Inject,
  Injectable,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';
import type { Logger } from 'pino';
import { APP_CONFIG, APP_LOGGER } from '../app-tokens';
import type { ControlPlaneConfig } from '../config';
import { arrivedOnInternalListener } from '../http/internal-listener';

/** The verified caller of an internal route. */
export interface ServiceCaller {
  /** The calling service (the token's `sub`), as audit logs name it. */
  service: string;
}

type InternalRequest = Request & { serviceCaller?: ServiceCaller };

/**
 * Internal routes: only requests that arrived on the internal listener (anything else answers 404, as the
 * routing middleware already does), carrying a service token signed with INTERNAL_AUTH_SECRET (audience
 * `internal`, the control plane's issuer, a short `exp`). User tokens never verify here: they are signed
 * with another key and carry another audience.
 */
@Injectable()
export class ServiceAuthGuard implements CanActivate {
  constructor(
    @Inject(APP_CONFIG) private readonly config: ControlPlaneConfig,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<InternalRequest>();
    if (!arrivedOnInternalListener(request)) throw new AppError('not-found', `Cannot GET ${request.path}`);
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw new AppError('unauthenticated', 'Missing service token');
    try {
      const identity = await verifyServiceToken(this.config.INTERNAL_AUTH_SECRET, match[1]);
      request.serviceCaller = { service: identity.service };
      return true;
    } catch (error) {
      this.logger.warn(
        { path: request.path, reason: error instanceof Error ? error.message : 'invalid' },
        'service token refused',
      );
      throw new AppError('unauthenticated', 'Invalid or expired service token');
    }
  }
}

export const CurrentServiceCaller = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): ServiceCaller => {
    const caller = ctx.switchToHttp().getRequest<InternalRequest>().serviceCaller;
    if (!caller) throw new AppError('unauthenticated', 'Missing service token');
    return caller;
  },
);
