import { migrateDatabase } from '@export/database';
import type { Logger } from 'pino';

export const SCHEMA = 'delivery';

/**
 * Makes the database usable: creates it when missing (a fresh machine has only `postgres`), then applies
 * the migrations of schema `delivery`. Instances starting together wait on the schema's migration lock and
 * migrate once.
 */
export function prepareDatabase(databaseUrl: string, migrationsDir: string, logger: Logger): Promise<void> {
  return migrateDatabase(databaseUrl, { schema: SCHEMA, dir: migrationsDir, logger });
}
