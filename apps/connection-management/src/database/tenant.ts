import { TenantId as TenantIdSchema } from '@export/contracts';
import { AppError } from '@export/errors';

declare const brand: unique symbol;

/**
 * A tenant id that has passed authorization (from a verified token or a parsed event). Repository methods
 * take it as their first parameter, so a query without a tenant scope cannot be written by accident.
 */
export type TenantId = string & { readonly [brand]: 'TenantId' };

/** True for a plain name as the contracts define tenant ids (also the name of the tenant's snapshot folder). */
export function isTenantId(value: string): boolean {
  return TenantIdSchema.safeParse(value).success;
}

/**
 * Brands a tenant id after checking it is a plain name (contracts' TenantId: no `/`, `\`, `..`, control
 * characters, at most 64 characters). Throws a non-retryable validation error otherwise, so an id from a
 * token claim, a path or an event can never address another tenant's folder or rows.
 */
export function asTenantId(value: string): TenantId {
  if (!isTenantId(value)) {
    throw new AppError('validation', 'Not a valid tenant id (a plain name of at most 64 characters)', {
      code: 'INVALID_TENANT_ID',
      field: 'tenantId',
    });
  }
  return value as TenantId;
}
