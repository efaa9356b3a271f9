import { migrateDatabase } from '@export/database';
import type { Logger } from 'pino';

export const SCHEMA = 'delivery';

/**
 * Makes the database usable: creates it when missing (a fresh machine has only `postgres`), then applies
 * the migrations of schema `delivery`. node-pg-migrate holds an advisory lock, so instances starting
 * together migrate once.
 */
export function prepareDatabase(databaseUrl: string, migrationsDir: string, logger: Logger): Promise<void> {
  return migrateDatabase(databaseUrl, { schema: SCHEMA, dir: migrationsDir, logger });
}
