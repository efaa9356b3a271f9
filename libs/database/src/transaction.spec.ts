import type { Pool, PoolClient } from 'pg';
import { inTransaction } from './transaction';

function fakePool(failOn?: string) {
  const statements: string[] = [];
  const client = {
    query: jest.fn(async (text: string) => {
      statements.push(text);
      if (text === failOn) throw new Error(`${text} failed`);
      return { rows: [], rowCount: 0 };
    }),
    release: jest.fn(),
  };
  const pool = { connect: jest.fn(async () => client as unknown as PoolClient) } as unknown as Pick<
    Pool,
    'connect'
  >;
  return { pool, client, statements };
}

describe('inTransaction', () => {
  it('commits and returns what the work returns', async () => {
    const { pool, client, statements } = fakePool();
    const result = await inTransaction(pool, async (tx) => {
      await tx.query('UPDATE t SET a = 1');
      return 42;
    });
    expect(result).toBe(42);
    expect(statements).toEqual(['BEGIN', 'UPDATE t SET a = 1', 'COMMIT']);
    expect(client.release).toHaveBeenCalledTimes(1);
  });

  it('rolls back and rethrows when the work throws', async () => {
    const { pool, client, statements } = fakePool();
    await expect(
      inTransaction(pool, async () => {
        throw new Error('conflict');
      }),
    ).rejects.toThrow('conflict');
    expect(statements).toEqual(['BEGIN', 'ROLLBACK']);
    expect(client.release).toHaveBeenCalledTimes(1);
  });

  it('rethrows the original error when the rollback fails too', async () => {
    const { pool, client } = fakePool('ROLLBACK');
    await expect(
      inTransaction(pool, async () => {
        throw new Error('conflict');
      }),
    ).rejects.toThrow('conflict');
    expect(client.release).toHaveBeenCalledTimes(1);
  });

  it('rolls back when the commit fails', async () => {
    const { pool, statements } = fakePool('COMMIT');
    await expect(inTransaction(pool, async () => 1)).rejects.toThrow('COMMIT failed');
    expect(statements).toEqual(['BEGIN', 'COMMIT', 'ROLLBACK']);
  });
});
