import { Client } from 'pg';
import { runner } from 'node-pg-migrate';
import type { Logger } from 'pino';
import { SCHEMA } from './database';

/** Creates the database when it is missing (a fresh machine), by connecting to `postgres` on the same server. */
export async function ensureDatabase(databaseUrl: string, logger: Logger): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name || name === 'postgres') return;
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount) return;
    await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`).catch((error: { code?: string }) => {
      if (error.code !== '42P04') throw error; // another instance created it first
    });
    logger.info({ database: name }, 'database created');
  } finally {
    await admin.end();
  }
}

/** Applies the versioned SQL migrations in `dir` to the control_plane schema (locked: safe with several instances). */
export async function migrateDatabase(databaseUrl: string, dir: string, logger: Logger): Promise<void> {
  await ensureDatabase(databaseUrl, logger);
  const applied = await runner({
    databaseUrl,
    dir,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    schema: SCHEMA,
    createSchema: true,
    migrationsSchema: SCHEMA,
    createMigrationsSchema: true,
    checkOrder: true,
    log: (message) => logger.debug({ component: 'migrations' }, message),
  });
  logger.info({ applied: applied.map((m) => m.name) }, 'database migrated');
}
