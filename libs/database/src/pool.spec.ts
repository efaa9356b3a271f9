import { isDatabaseReady, poolConfig } from './pool';

describe('poolConfig', () => {
  it('sets the search path to the schema when one is given', () => {
    expect(poolConfig('postgres://h/db', { max: 10, schema: 'control_plane' })).toEqual({
      connectionString: 'postgres://h/db',
      max: 10,
      options: '-c search_path=control_plane',
    });
  });

  it('leaves the search path alone without a schema', () => {
    expect(poolConfig('postgres://h/db', { max: 20 })).toEqual({
      connectionString: 'postgres://h/db',
      max: 20,
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
