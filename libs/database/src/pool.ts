import { Pool, type PoolConfig } from 'pg';
import type { Queryable } from './transaction';

/**
 * Bounds of every session of a pool. A runaway statement, a transaction left open (a bug, a call to a slow
 * dependency made while it is open) and an unreachable server each end in an error within a known time,
 * instead of holding locks and connections until someone notices.
 */
export interface DatabaseTimeouts {
  /** Server side: a statement running longer is cancelled (SQLSTATE 57014). 0 = no limit. */
  statementTimeoutMs: number;
  /** Server side: a session idle inside an open transaction longer is terminated (SQLSTATE 25P03). 0 = no limit. */
  idleInTransactionTimeoutMs: number;
  /** Client side: connecting (TCP, TLS, start-up) takes at most this long. 0 = no limit. */
  connectionTimeoutMs: number;
  /** Client side: a query whose answer has not arrived after this long fails, also when the server is gone. 0 = no limit. */
  queryTimeoutMs: number;
}

/** Defaults of DATABASE_*_TIMEOUT_MS (see libs/config databaseEnv). */
export const DEFAULT_DATABASE_TIMEOUTS: DatabaseTimeouts = {
  statementTimeoutMs: 60_000,
  idleInTransactionTimeoutMs: 60_000,
  connectionTimeoutMs: 5_000,
  queryTimeoutMs: 65_000,
};

export interface PoolOptions {
  /** Connections at most. */
  max: number;
  /** When set, every session resolves unqualified table names in this schema. */
  schema?: string;
  /** Defaults to DEFAULT_DATABASE_TIMEOUTS; a field left out keeps its default. */
  timeouts?: Partial<DatabaseTimeouts>;
}

export function poolConfig(databaseUrl: string, { max, schema, timeouts }: PoolOptions): PoolConfig {
  const t = { ...DEFAULT_DATABASE_TIMEOUTS, ...timeouts };
  return {
    connectionString: databaseUrl,
    max,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
    // pg sends these two as start-up parameters of every session (0 is PostgreSQL's "no limit").
    statement_timeout: t.statementTimeoutMs,
    idle_in_transaction_session_timeout: t.idleInTransactionTimeoutMs,
    connectionTimeoutMillis: t.connectionTimeoutMs,
    // pg treats 0 as "no timeout" too.
    query_timeout: t.queryTimeoutMs,
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
