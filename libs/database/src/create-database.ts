import { Client } from 'pg';
import type { Logger } from 'pino';

/**
 * Error codes of CREATE DATABASE when the database exists already: 42P04, or 23505 on pg_database's unique
 * name index when another session created it at the same instant.
 */
const DATABASE_EXISTS = new Set(['42P04', '23505']);

/**
 * The database a URL names, and the URL of the `postgres` database on the same server (from which it can be
 * created); undefined when the URL names no database or `postgres` itself.
 */
export function maintenanceTarget(databaseUrl: string): { name: string; adminUrl: string } | undefined {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name || name === 'postgres') return undefined;
  url.pathname = '/postgres';
  return { name, adminUrl: url.toString() };
}

/** A PostgreSQL identifier in double quotes, inner quotes doubled. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Creates the database when it is missing (a fresh machine has only `postgres`), connecting to `postgres`. */
export async function ensureDatabase(databaseUrl: string, logger: Logger): Promise<void> {
  const target = maintenanceTarget(databaseUrl);
  if (!target) return;
  const admin = new Client({ connectionString: target.adminUrl });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [target.name]);
    if (rowCount) return;
    await admin.query(`CREATE DATABASE ${quoteIdentifier(target.name)}`);
    logger.info({ database: target.name }, 'database created');
  } catch (error) {
    // Another instance created it between our check and our CREATE.
    if (!DATABASE_EXISTS.has(String((error as { code?: string }).code))) throw error;
  } finally {
    await admin.end();
  }
}
