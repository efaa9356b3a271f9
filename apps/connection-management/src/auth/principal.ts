import { AppError } from '@export/errors';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { TenantId as TenantIdSchema } from '@export/contracts';
import { z } from 'zod';
import { asTenantId, type TenantId } from '../database/tenant';

export const UserRole = z.enum(['admin', 'contributor', 'operator']);
export type UserRole = z.infer<typeof UserRole>;

// tid names the tenant's rows and its snapshot folder: a plain name, or the token is refused (401).
export const UserClaims = z.object({ sub: z.string().min(1), tid: TenantIdSchema, role: UserRole });
export const ServiceClaims = z.object({
  sub: z.string().min(1),
  tid: z.literal('*'),
  role: z.literal('service'),
});

/** The caller of a public route, from a verified token. */
export interface Principal {
  sub: string;
  tenantId: TenantId;
  role: UserRole;
}

export function toPrincipal(claims: z.infer<typeof UserClaims>): Principal {
  return { sub: claims.sub, tenantId: asTenantId(claims.tid), role: claims.role };
}

export function requireRole(principal: Principal, ...roles: UserRole[]): void {
  if (!roles.includes(principal.role)) {
    throw new AppError('forbidden', `This action needs the role ${roles.join(' or ')}`);
  }
}

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<{ principal?: Principal }>().principal;
  if (!principal) throw new AppError('unauthenticated', 'Missing bearer token');
  return principal;
});
