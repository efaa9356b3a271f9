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

/** Where a verified user token carries its tenant and role (AUTH_TENANT_CLAIM, AUTH_ROLE_CLAIM). */
export interface ClaimNames {
  tenant: string;
  role: string;
}

/**
 * The caller named by a verified user token. Service tokens (role `service`, tenant `*`) are refused with
 * 403: they belong on the internal listener only. A missing or unknown claim, or a tenant that is not a
 * plain tenant id, is a 401 that names the claim, never its value.
 */
export function principalOf(payload: Record<string, unknown>, names: ClaimNames): Principal {
  const tenant = payload[names.tenant];
  const role = payload[names.role];
  if (role === 'service' || tenant === '*')
    throw new AppError('forbidden', 'Service tokens may only call internal routes');
  const parsed = UserClaims.safeParse({ sub: payload['sub'], tid: tenant, role });
  if (!parsed.success)
    throw new AppError(
      'unauthenticated',
      `Token claims sub, ${names.tenant} and ${names.role} (one of ${UserRole.options.join(', ')}) are required`,
    );
  try {
    return toPrincipal(parsed.data);
  } catch {
    throw new AppError('unauthenticated', `Token claim ${names.tenant} is not a valid tenant id`);
  }
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
