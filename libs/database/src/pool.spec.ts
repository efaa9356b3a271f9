import { DEFAULT_DATABASE_TIMEOUTS, isDatabaseReady, poolConfig } from './pool';

const defaults = {
  statement_timeout: DEFAULT_DATABASE_TIMEOUTS.statementTimeoutMs,
  idle_in_transaction_session_timeout: DEFAULT_DATABASE_TIMEOUTS.idleInTransactionTimeoutMs,
  connectionTimeoutMillis: DEFAULT_DATABASE_TIMEOUTS.connectionTimeoutMs,
  query_timeout: DEFAULT_DATABASE_TIMEOUTS.queryTimeoutMs,
};

describe('poolConfig', () => {
  it('sets the search path to the schema when one is given', () => {
    expect(poolConfig('postgres://h/db', { max: 10, schema: 'control_plane' })).toEqual({
      connectionString: 'postgres://h/db',
      max: 10,
      options: '-c search_path=control_plane',
      ...defaults,
    });
  });

  it('leaves the search path alone without a schema', () => {
    expect(poolConfig('postgres://h/db', { max: 20 })).toEqual({
      connectionString: 'postgres://h/db',
      max: 20,
      ...defaults,
    });
  });

  it('bounds every session: statement, idle in transaction, connecting, waiting for an answer', () => {
    expect(
      poolConfig('postgres://h/db', {
        max: 5,
        timeouts: { statementTimeoutMs: 1000, idleInTransactionTimeoutMs: 2000, connectionTimeoutMs: 300, queryTimeoutMs: 0 },
      }),
    ).toMatchObject({
      statement_timeout: 1000,
      idle_in_transaction_session_timeout: 2000,
      connectionTimeoutMillis: 300,
      query_timeout: 0,
    });
  });
});

describe('isDatabaseReady', () => {
  it('is ready when SELECT 1 returns its row', async () => {
    const query = jest.fn().mockResolvedValue({ rows: [{}], rowCount: 1 });
    expect(await isDatabaseReady({ query })).toBe(true);
    expect(query).toHaveBeenCalledWith('SELECT 1');
  });

  it('is not ready otherwise', async () => {
    expect(await isDatabaseReady({ query: jest.fn().mockResolvedValue({ rows: [], rowCount: 0 }) })).toBe(
      false,
    );
  });
});
