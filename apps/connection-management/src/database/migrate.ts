import { migrateDatabase as migrateSchema } from '@export/database';
import type { Logger } from 'pino';
import { SCHEMA } from './database';

/**
 * Creates the database when it is missing, then applies the versioned SQL migrations in `dir` to the
 * control_plane schema (instances starting together wait on the schema's migration lock).
 */
export function migrateDatabase(databaseUrl: string, dir: string, logger: Logger): Promise<void> {
  return migrateSchema(databaseUrl, { schema: SCHEMA, dir, logger });
}
