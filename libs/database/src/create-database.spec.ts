import { maintenanceTarget, quoteIdentifier } from './create-database';

describe('maintenanceTarget', () => {
  it('names the database and points at postgres on the same server, keeping credentials and parameters', () => {
    expect(maintenanceTarget('postgres://app:secret@db.local:5433/export?sslmode=disable')).toEqual({
      name: 'export',
      adminUrl: 'postgres://app:secret@db.local:5433/postgres?sslmode=disable',
    });
  });

  it('decodes an escaped database name', () => {
    expect(maintenanceTarget('postgres://postgres@127.0.0.1:5432/my%20db')?.name).toBe('my db');
  });

  it('has nothing to create without a database name or for postgres itself', () => {
    expect(maintenanceTarget('postgres://postgres@127.0.0.1:5432')).toBeUndefined();
    expect(maintenanceTarget('postgres://postgres@127.0.0.1:5432/')).toBeUndefined();
    expect(maintenanceTarget('postgres://postgres@127.0.0.1:5432/postgres')).toBeUndefined();
  });
});

describe('quoteIdentifier', () => {
  it('quotes and doubles inner quotes', () => {
    expect(quoteIdentifier('export')).toBe('"export"');
    expect(quoteIdentifier('a"b')).toBe('"a""b"');
  });
});
