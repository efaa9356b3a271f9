import { Pool, type PoolClient, type QueryResultRow } from 'pg';

export const SCHEMA = 'control_plane';

/** What repositories run queries on: the pool, or a client inside a transaction. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
}

export function createPool(databaseUrl: string): Pool {
  // Every session resolves unqualified table names in the service's own schema.
  return new Pool({ connectionString: databaseUrl, max: 10, options: `-c search_path=${SCHEMA}` });
}

/** Runs `work` in one transaction; rolls back when it throws. */
export async function inTransaction<T>(pool: Pool, work: (tx: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
