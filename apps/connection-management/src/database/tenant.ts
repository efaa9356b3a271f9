declare const brand: unique symbol;

/**
 * A tenant id that has passed authorization (from a verified token or a parsed event). Repository methods
 * take it as their first parameter, so a query without a tenant scope cannot be written by accident.
 */
export type TenantId = string & { readonly [brand]: 'TenantId' };

export function asTenantId(value: string): TenantId {
  return value as TenantId;
}
