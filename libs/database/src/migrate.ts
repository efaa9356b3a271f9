import { runner, type RunnerOption } from 'node-pg-migrate';
import type { Logger } from 'pino';
import { ensureDatabase } from './create-database';

/** Each service keeps its migrations table in its own schema: `<schema>.pgmigrations`. */
export const MIGRATIONS_TABLE = 'pgmigrations';

export interface MigrateOptions {
  /** The service's schema: created if missing, and where the migrations table lives. */
  schema: string;
  /** Folder of the versioned SQL migrations. */
  dir: string;
  logger: Logger;
}

/** How node-pg-migrate runs a service's migrations: all pending ones, up, in order, under its advisory lock. */
export function migrationRunnerOptions(
  databaseUrl: string,
  { schema, dir, logger }: MigrateOptions,
): RunnerOption {
  const context = { component: 'migrations' };
  return {
    databaseUrl,
    dir,
    direction: 'up',
    count: Infinity,
    migrationsTable: MIGRATIONS_TABLE,
    schema,
    createSchema: true,
    migrationsSchema: schema,
    createMigrationsSchema: true,
    checkOrder: true,
    logger: {
      debug: () => undefined,
      info: (message) => logger.debug(context, message),
      warn: (message) => logger.warn(context, message),
      error: (message) => logger.error(context, message),
    },
  };
}

/**
 * Makes the database usable: creates it when missing, then applies the pending SQL migrations in `dir` to
 * `schema`. node-pg-migrate holds an advisory lock, so instances starting together migrate once.
 */
export async function migrateDatabase(databaseUrl: string, options: MigrateOptions): Promise<void> {
  await ensureDatabase(databaseUrl, options.logger);
  const applied = await runner(migrationRunnerOptions(databaseUrl, options));
  options.logger.info({ applied: applied.map((m) => m.name) }, 'database migrated');
}
