import type { Pool, PoolClient, QueryResultRow } from 'pg';

/** What repositories run queries on: the pool, or a client inside a transaction. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
}

/**
 * Runs `work` in one transaction; rolls back when it throws. Keep calls to other systems (HTTP, Redis, a
 * slow broker) out of `work`: the transaction's locks are held while it waits, and a session idle in a
 * transaction longer than the pool's idle-in-transaction timeout is ended by the server.
 */
export async function inTransaction<T>(
  pool: Pick<Pool, 'connect'>,
  work: (tx: PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  // The server may end the session while it is checked out (idle-in-transaction timeout, a restart): pg
  // then emits 'error' on the client, which would crash the process unheard. The next query fails anyway.
  let lost: Error | undefined;
  const onError = (error: Error) => (lost ??= error);
  client.on?.('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    if (!lost) await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.off?.('error', onError);
    // A client whose session is gone is destroyed, not handed to the next caller.
    client.release(lost);
  }
}
