import { readdir } from 'node:fs/promises';
import { runner, type RunnerOption } from 'node-pg-migrate';
import { Client } from 'pg';
import type { Logger } from 'pino';
import { ensureDatabase, quoteIdentifier } from './create-database';

/** Each service keeps its migrations table in its own schema: `<schema>.pgmigrations`. */
export const MIGRATIONS_TABLE = 'pgmigrations';

/**
 * First key of the two-key advisory lock every migration takes; the second key is the schema's hash, so
 * services with their own schemas migrate side by side and instances of one service queue.
 */
export const MIGRATION_LOCK_CLASS = 7_301_104;

/** How long a start waits for another instance's migration before it gives up (and its supervisor retries). */
export const DEFAULT_MIGRATION_LOCK_TIMEOUT_MS = 120_000;

/** The schema's migration lock was not had in time: another instance is migrating it (or died holding it). */
export class MigrationLockTimeoutError extends Error {
  constructor(
    readonly schema: string,
    readonly timeoutMs: number,
  ) {
    super(
      `Gave up after ${timeoutMs / 1000} s waiting for the migration lock of schema ${schema}: another ` +
        `instance is migrating it (or died holding it; the lock ends with its session). Start again, or run ` +
        `the service's migrate command alone.`,
    );
    this.name = 'MigrationLockTimeoutError';
  }
}

export interface MigrateOptions {
  /** The service's schema: created if missing, and where the migrations table lives. */
  schema: string;
  /** Folder of the versioned SQL migrations. */
  dir: string;
  logger: Logger;
  /** How long to wait for the schema's migration lock. */
  lockTimeoutMs?: number;
}

/** How node-pg-migrate runs a service's migrations: all pending ones, up, in order (the lock is ours). */
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
    // node-pg-migrate's own lock does not wait: a second instance starting at the same moment fails with
    // "Another migration is already running". migrateDatabase holds a waiting lock of its own instead.
    noLock: true,
    logger: {
      debug: () => undefined,
      info: (message) => logger.debug(context, message),
      warn: (message) => logger.warn(context, message),
      error: (message) => logger.error(context, message),
    },
  };
}

/** Migration names (file names without extension) in `dir`, in the order node-pg-migrate applies them. */
async function migrationFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.(sql|js|cjs|mjs|ts)$/.test(e.name))
    .map((e) => e.name.replace(/\.[^.]+$/, ''))
    .sort();
}

/** The migrations of `dir` not yet applied to `schema` (all of them when the schema has no migrations table). */
export async function pendingMigrations(databaseUrl: string, schema: string, dir: string): Promise<string[]> {
  const files = await migrationFiles(dir);
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await pendingWith(client, schema, files);
  } finally {
    await client.end();
  }
}

async function pendingWith(client: Client, schema: string, files: string[]): Promise<string[]> {
  const { rows: table } = await client.query<{ exists: boolean }>(
    'SELECT to_regclass($1) IS NOT NULL AS exists',
    [`${quoteIdentifier(schema)}.${MIGRATIONS_TABLE}`],
  );
  if (!table[0]?.exists) return files;
  const { rows } = await client.query<{ name: string }>(
    `SELECT name FROM ${quoteIdentifier(schema)}.${MIGRATIONS_TABLE}`,
  );
  const applied = new Set(rows.map((r) => r.name));
  return files.filter((f) => !applied.has(f));
}

/**
 * Makes the database usable: creates it when missing, then applies the pending SQL migrations in `dir` to
 * `schema`. Safe when many instances start at once: each waits (up to `lockTimeoutMs`) on an advisory lock
 * of its schema, and a start with nothing pending returns after one cheap query, without the lock.
 * Throws a MigrationLockTimeoutError naming the schema when the lock is not had in time.
 */
export async function migrateDatabase(databaseUrl: string, options: MigrateOptions): Promise<void> {
  const { schema, dir, logger } = options;
  const timeoutMs = options.lockTimeoutMs ?? DEFAULT_MIGRATION_LOCK_TIMEOUT_MS;
  await ensureDatabase(databaseUrl, logger);
  const files = await migrationFiles(dir);
  const client = new Client({ connectionString: databaseUrl, application_name: `migrate:${schema}` });
  await client.connect();
  try {
    if ((await pendingWith(client, schema, files)).length === 0) {
      logger.info({ schema }, 'database schema up to date');
      return;
    }
    await client.query(`SET lock_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
    await client.query(`SET statement_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
    try {
      await client.query('SELECT pg_advisory_lock($1::int, hashtext($2))', [MIGRATION_LOCK_CLASS, schema]);
    } catch (error) {
      if ((error as { code?: string }).code === '57014' || (error as { code?: string }).code === '55P03') {
        throw new MigrationLockTimeoutError(schema, timeoutMs);
      }
      throw error;
    }
    await client.query('RESET statement_timeout');
    await client.query('RESET lock_timeout');
    try {
      const applied = await runner(migrationRunnerOptions(databaseUrl, options));
      logger.info({ schema, applied: applied.map((m) => m.name) }, 'database migrated');
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::int, hashtext($2))', [MIGRATION_LOCK_CLASS, schema]);
    }
  } finally {
    await client.end();
  }
}
