import type { ConsoleSignIn } from '@export/contracts';
import { AppError } from '@export/errors';
import { Body, Controller, Get, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiBody, ApiTags } from '@nestjs/swagger';
import { SignJWT } from 'jose';
import { z } from 'zod';
import { UserClaims } from '../auth/principal';
import type { ControlPlaneConfig } from '../config';
import { openApiSchema } from '../http/id-param';
import { parseInput } from '../http/parse-input';

/** The control plane's configuration, as the console module is given it. */
export const CONSOLE_CONFIG = Symbol('console-config');

export type ConsoleSettings = Pick<
  ControlPlaneConfig,
  | 'NODE_ENV'
  | 'AUTH_ISSUER'
  | 'AUTH_AUDIENCE'
  | 'AUTH_JWT_SECRET'
  | 'AUTH_TENANT_CLAIM'
  | 'AUTH_ROLE_CLAIM'
  | 'CONSOLE_OIDC_CLIENT_ID'
  | 'CONSOLE_OIDC_SCOPE'
>;

export const DevTokenBody = z.object({
  tenant: UserClaims.shape.tid,
  user: UserClaims.shape.sub.max(200),
  role: UserClaims.shape.role,
});

/** How long a development sign-in lasts; the console asks again after it. */
export const DEV_TOKEN_TTL_SECONDS = 8 * 60 * 60;

/** The development token endpoint exists only with NODE_ENV=development and no OpenID Connect issuer. */
export function devSignInEnabled(config: Pick<ConsoleSettings, 'NODE_ENV' | 'AUTH_ISSUER'>): boolean {
  return config.NODE_ENV === 'development' && !config.AUTH_ISSUER;
}

export function consoleSignIn(config: ConsoleSettings): ConsoleSignIn {
  if (config.AUTH_ISSUER) {
    if (!config.CONSOLE_OIDC_CLIENT_ID)
      return { signIn: 'unavailable', reason: 'CONSOLE_OIDC_CLIENT_ID is not set' };
    return {
      signIn: 'oidc',
      issuer: config.AUTH_ISSUER,
      clientId: config.CONSOLE_OIDC_CLIENT_ID,
      scope: config.CONSOLE_OIDC_SCOPE,
      tenantClaim: config.AUTH_TENANT_CLAIM,
      roleClaim: config.AUTH_ROLE_CLAIM,
      ...(config.AUTH_AUDIENCE ? { audience: config.AUTH_AUDIENCE } : {}),
    };
  }
  if (devSignInEnabled(config)) return { signIn: 'development' };
  return { signIn: 'unavailable', reason: 'no OpenID Connect issuer is configured (AUTH_ISSUER)' };
}

/** Unauthenticated routes of the web console: its sign-in settings and, in development only, a token. */
@ApiTags('console')
@Controller('v1/console')
export class ConsoleController {
  constructor(@Inject(CONSOLE_CONFIG) private readonly config: ConsoleSettings) {}

  @Get('config')
  settings(): ConsoleSignIn {
    return consoleSignIn(this.config);
  }

  /**
   * Development only: a user token for the tenant, user and role typed into the console's sign-in form.
   * Production (and any configuration with an issuer) answers 404, as if the route did not exist.
   */
  @Post('dev-token')
  @HttpCode(200)
  @ApiBody({ schema: openApiSchema(DevTokenBody) })
  async devToken(@Body() body: unknown): Promise<{ token: string; expiresAt: string }> {
    if (!devSignInEnabled(this.config)) throw new AppError('not-found', 'Cannot POST /v1/console/dev-token');
    const { tenant, user, role } = parseInput(DevTokenBody, body);
    const now = Math.floor(Date.now() / 1000);
    const exp = now + DEV_TOKEN_TTL_SECONDS;
    let jwt = new SignJWT({ [this.config.AUTH_TENANT_CLAIM]: tenant, [this.config.AUTH_ROLE_CLAIM]: role })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(user)
      .setIssuedAt(now)
      .setExpirationTime(exp);
    if (this.config.AUTH_AUDIENCE) jwt = jwt.setAudience(this.config.AUTH_AUDIENCE);
    const token = await jwt.sign(new TextEncoder().encode(this.config.AUTH_JWT_SECRET));
    return { token, expiresAt: new Date(exp * 1000).toISOString() };
  }
}
