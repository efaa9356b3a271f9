import { runner } from 'node-pg-migrate';
import { Client } from 'pg';
import type { Logger } from 'pino';

export const SCHEMA = 'delivery';

/**
 * Makes the database usable: creates it when missing (a fresh machine has only `postgres`), then applies
 * the migrations of schema `delivery`. node-pg-migrate holds an advisory lock, so instances starting
 * together migrate once.
 */
export async function prepareDatabase(
  databaseUrl: string,
  migrationsDir: string,
  logger: Logger,
): Promise<void> {
  await createDatabaseIfMissing(databaseUrl, logger);
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
    await runner({
      dbClient: client,
      dir: migrationsDir,
      schema: SCHEMA,
      createSchema: true,
      migrationsTable: 'pgmigrations',
      direction: 'up',
      count: Infinity,
      checkOrder: true,
      logger: {
        debug: () => undefined,
        info: (msg) => logger.debug(msg),
        warn: (msg) => logger.warn(msg),
        error: (msg) => logger.error(msg),
      },
    });
  } finally {
    await client.end();
  }
}

async function createDatabaseIfMissing(databaseUrl: string, logger: Logger): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) return;
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return;
    await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    logger.info({ database: name }, 'database created');
  } catch (error) {
    // Another instance created it between our check and our CREATE.
    if ((error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await admin.end();
  }
}
