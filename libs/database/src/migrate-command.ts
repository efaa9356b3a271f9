import { commonEnv, ConfigError, databaseEnv, loadConfig } from '@export/config';
import { createLogger } from '@export/logging';
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  DEFAULT_MIGRATION_LOCK_TIMEOUT_MS,
  MigrationLockTimeoutError,
  migrateDatabase,
  pendingMigrations,
} from './migrate';

/**
 * Exit codes of a service's `migrate` command (sysexits.h where one fits), so a Job, an init container or
 * compose can tell "try again" from "a human must look". A wrong command line exits 64 (libs/service).
 */
export const MIGRATE_EXIT_CODES = {
  /** The schema is up to date: migrated now, or nothing was pending. */
  ok: 0,
  /** A migration failed (SQL error, checksum or order problem): retrying will not help; see the log. */
  failed: 1,
  /** The database could not be reached, or another instance held the schema's lock too long: try again. */
  tempFail: 75,
  /** The environment is invalid (the log names each variable at fault). */
  config: 78,
} as const;

const flag = (fallback: 'true' | 'false') =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback)
    .transform((v) => v === 'true' || v === '1');

/** Settings of the services that own a schema (spread into their configuration schema). */
export const migrationEnv = {
  /**
   * Apply pending migrations when the service starts (default). `false` where a Job, an init container or a
   * compose service runs the `migrate` command first: the service then only checks that nothing is pending
   * and refuses to start otherwise.
   */
  MIGRATE_ON_START: flag('true'),
  /** How long a migration waits for another instance's migration of the same schema before it gives up. */
  MIGRATION_LOCK_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(DEFAULT_MIGRATION_LOCK_TIMEOUT_MS),
};

/**
 * The environment of the migrate command: the database and the lock's timeout only, so a migrate Job or init
 * container needs no Kafka, API or encryption secrets. Apps extend it (e.g. with MIGRATIONS_DIR).
 */
export const MigrateCommandConfig = z.object({
  NODE_ENV: commonEnv.NODE_ENV,
  LOG_LEVEL: commonEnv.LOG_LEVEL,
  ...databaseEnv,
  MIGRATION_LOCK_TIMEOUT_MS: migrationEnv.MIGRATION_LOCK_TIMEOUT_MS,
});

/** Error codes of a database that is down, starting, restarting or out of connections: worth another try. */
const TRANSIENT_NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'EPIPE']);
const TRANSIENT_SQLSTATE = new Set(['57P01', '57P02', '57P03', '53300', '40001', '40P01']);

/** The exit code for an error of the migrate command: try again (75), fix the configuration (78), or look (1). */
export function migrateExitCode(error: unknown): number {
  if (error instanceof ConfigError) return MIGRATE_EXIT_CODES.config;
  if (error instanceof MigrationLockTimeoutError) return MIGRATE_EXIT_CODES.tempFail;
  const code = String((error as { code?: unknown } | undefined)?.code ?? '');
  if (TRANSIENT_NETWORK.has(code) || TRANSIENT_SQLSTATE.has(code) || code.startsWith('08')) return MIGRATE_EXIT_CODES.tempFail;
  // pg reports a connection closed under it without a code.
  if (error instanceof Error && /Connection terminated|timeout expired/i.test(error.message)) return MIGRATE_EXIT_CODES.tempFail;
  return MIGRATE_EXIT_CODES.failed;
}

/** What the migrate command needs; loaded from the environment by the app (libraries read no environment). */
export interface MigrateSettings {
  databaseUrl: string;
  /** Folder of the service's SQL migrations (beside main.js in the build). */
  dir: string;
  lockTimeoutMs: number;
  logLevel?: string;
}

export interface MigrateCommandOptions {
  service: string;
  schema: string;
  /** Validates the environment; a ConfigError it throws exits 78 with every variable at fault named. */
  settings: () => MigrateSettings;
}

/**
 * The one-shot `migrate` command: creates the database when missing, applies the schema's pending
 * migrations (waiting on the schema's lock while another instance migrates it) and resolves to the exit
 * code (see MIGRATE_EXIT_CODES), having logged what it did or why it failed. Never throws.
 */
export async function runMigrateCommand({ service, schema, settings }: MigrateCommandOptions): Promise<number> {
  let logger: Logger | undefined;
  const startedAt = Date.now();
  try {
    const { databaseUrl, dir, lockTimeoutMs, logLevel } = settings();
    logger = createLogger({ service, level: logLevel ?? 'info' });
    logger.info({ command: 'migrate', schema, lockTimeoutMs }, 'migrate: started');
    await migrateDatabase(databaseUrl, { schema, dir, logger, lockTimeoutMs });
    logger.info(
      { command: 'migrate', schema, exitCode: MIGRATE_EXIT_CODES.ok, durationMs: Date.now() - startedAt },
      'migrate: schema up to date',
    );
    return MIGRATE_EXIT_CODES.ok;
  } catch (error) {
    const exitCode = migrateExitCode(error);
    const message = error instanceof Error ? error.message : String(error);
    const meaning = exitCode === MIGRATE_EXIT_CODES.tempFail ? 'try again' : exitCode === MIGRATE_EXIT_CODES.failed ? 'a migration failed' : 'invalid configuration';
    if (logger) {
      logger.error(
        { command: 'migrate', schema, exitCode, code: (error as { code?: unknown })?.code, durationMs: Date.now() - startedAt },
        `migrate: failed (${meaning}): ${message}`,
      );
    } else {
      // No logger without a valid configuration: the ConfigError lists the variables at fault.
      console.error(`${message}\n${service}: migrate not run (exit ${exitCode}: ${meaning})`);
    }
    return exitCode;
  }
}

/** A service's own PostgreSQL schema, migrated at start or by `node main.js migrate`. */
export interface ServiceSchema {
  schema: string;
  /** Folder of its SQL migrations: beside main.js, where the build copies them (webpack assets). */
  migrationsDir: string;
}

/**
 * The `migrate` command of a service with a schema, for libs/service's `commands`: reads only the database
 * and the lock's timeout from `env` (a migrate Job needs no Kafka, API or encryption secrets).
 */
export function migrateCommand({ schema, migrationsDir }: ServiceSchema) {
  return {
    summary: 'apply the pending migrations of its schema, then exit (0: up to date)',
    run: (service: string, env: NodeJS.ProcessEnv) =>
      runMigrateCommand({
        service,
        schema,
        settings: () => {
          const config = loadConfig(service, MigrateCommandConfig, env);
          return {
            databaseUrl: config.DATABASE_URL,
            dir: migrationsDir,
            lockTimeoutMs: config.MIGRATION_LOCK_TIMEOUT_MS,
            logLevel: config.LOG_LEVEL,
          };
        },
      }),
  };
}

/** What a service with a schema has in its configuration (libs/config databaseEnv, migrationEnv). */
export interface SchemaStartConfig {
  DATABASE_URL: string;
  MIGRATE_ON_START: boolean;
  MIGRATION_LOCK_TIMEOUT_MS: number;
}

/** The schema's step at start, for libs/service's `beforeStart`: see prepareSchemaAtStart. */
export function prepareSchemaStep({ schema, migrationsDir }: ServiceSchema) {
  return (config: SchemaStartConfig, logger: Logger): Promise<void> =>
    prepareSchemaAtStart({
      databaseUrl: config.DATABASE_URL,
      schema,
      dir: migrationsDir,
      logger,
      migrateOnStart: config.MIGRATE_ON_START,
      lockTimeoutMs: config.MIGRATION_LOCK_TIMEOUT_MS,
    });
}

/** Raised at start with MIGRATE_ON_START=false while the schema still has migrations to apply. */
export class SchemaNotMigratedError extends Error {
  constructor(
    readonly schema: string,
    readonly pending: string[],
  ) {
    super(
      `Schema ${schema} has ${pending.length} pending migration(s) (${pending.join(', ')}) and MIGRATE_ON_START=false: ` +
        `run the service's migrate command first (\`node main.js migrate\`: the migrate init container in ` +
        `Kubernetes, the migrate service in docker compose), or set MIGRATE_ON_START=true.`,
    );
    this.name = 'SchemaNotMigratedError';
  }
}

export interface PrepareSchemaOptions {
  databaseUrl: string;
  schema: string;
  dir: string;
  logger: Logger;
  /** MIGRATE_ON_START. */
  migrateOnStart: boolean;
  lockTimeoutMs?: number;
}

/**
 * A service's start-up step for its schema: migrates it (MIGRATE_ON_START=true), or checks that someone
 * else did and throws a SchemaNotMigratedError naming what is pending (MIGRATE_ON_START=false).
 */
export async function prepareSchemaAtStart(options: PrepareSchemaOptions): Promise<void> {
  const { databaseUrl, schema, dir, logger, migrateOnStart, lockTimeoutMs } = options;
  if (migrateOnStart) {
    await migrateDatabase(databaseUrl, { schema, dir, logger, lockTimeoutMs });
    return;
  }
  const pending = await pendingMigrations(databaseUrl, schema, dir);
  if (pending.length) throw new SchemaNotMigratedError(schema, pending);
  logger.info({ schema, migrateOnStart }, 'database schema up to date (migrated by the migrate command)');
}
