import { createPool as createSchemaPool, type DatabaseTimeouts } from '@export/database';
import type { Pool } from 'pg';

export { inTransaction, type Queryable } from '@export/database';

export const SCHEMA = 'control_plane';

export function createPool(databaseUrl: string, timeouts?: Partial<DatabaseTimeouts>): Pool {
  // Every session resolves unqualified table names in the service's own schema.
  return createSchemaPool(databaseUrl, { max: 10, schema: SCHEMA, timeouts });
}
