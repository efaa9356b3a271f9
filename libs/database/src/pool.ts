import { Pool, type PoolConfig } from 'pg';
import type { Queryable } from './transaction';

export interface PoolOptions {
  /** Connections at most. */
  max: number;
  /** When set, every session resolves unqualified table names in this schema. */
  schema?: string;
}

export function poolConfig(databaseUrl: string, { max, schema }: PoolOptions): PoolConfig {
  return {
    connectionString: databaseUrl,
    max,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  };
}

/** A pool on DATABASE_URL that survives an idle client losing its connection (the next query reconnects). */
export function createPool(databaseUrl: string, options: PoolOptions): Pool {
  const pool = new Pool(poolConfig(databaseUrl, options));
  pool.on('error', () => undefined);
  return pool;
}

/** The readiness check of a service's database: one trivial query. */
export async function isDatabaseReady(db: Queryable): Promise<boolean> {
  return (await db.query('SELECT 1')).rowCount === 1;
}
