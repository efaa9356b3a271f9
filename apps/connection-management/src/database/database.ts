import { createPool as createSchemaPool } from '@export/database';
import type { Pool } from 'pg';

export { inTransaction, type Queryable } from '@export/database';

export const SCHEMA = 'control_plane';

export function createPool(databaseUrl: string): Pool {
  // Every session resolves unqualified table names in the service's own schema.
  return createSchemaPool(databaseUrl, { max: 10, schema: SCHEMA });
}
