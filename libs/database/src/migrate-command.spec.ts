import { ConfigError } from '@export/config';
import { z } from 'zod';
import { MigrationLockTimeoutError } from './migrate';
import { MIGRATE_EXIT_CODES, migrateCommand, migrateExitCode, migrationEnv, runMigrateCommand } from './migrate-command';

describe('migrateExitCode', () => {
  const withCode = (code: string) => Object.assign(new Error(code), { code });

  it('asks to try again when the lock was held too long or the database is unreachable', () => {
    expect(migrateExitCode(new MigrationLockTimeoutError('delivery', 1000))).toBe(75);
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', '57P03', '08006', '53300'])
      expect({ code, exit: migrateExitCode(withCode(code)) }).toEqual({ code, exit: MIGRATE_EXIT_CODES.tempFail });
    expect(migrateExitCode(new Error('Connection terminated unexpectedly'))).toBe(75);
  });

  it('names configuration errors, and fails anything else for a human to look at', () => {
    expect(migrateExitCode(new ConfigError('svc', ['DATABASE_URL: must be a postgres:// URL']))).toBe(78);
    expect(migrateExitCode(withCode('42601'))).toBe(1); // a syntax error in a migration
    expect(migrateExitCode(new Error('Not run migration 002 is preceding already run migration 003'))).toBe(1);
  });
});

describe('runMigrateCommand', () => {
  it('exits 78 naming the variable at fault, without touching a database', async () => {
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const code = await runMigrateCommand({
      service: 'svc',
      schema: 'svc',
      settings: () => {
        throw new ConfigError('svc', ['DATABASE_URL: must be a postgres:// URL']);
      },
    });
    expect(code).toBe(78);
    expect(error.mock.calls.join('\n')).toMatch(/DATABASE_URL: must be a postgres:\/\/ URL[\s\S]*exit 78/);
    error.mockRestore();
  });
});

describe('migrateCommand', () => {
  it('reads only the environment it is given, naming every variable at fault (78)', async () => {
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const command = migrateCommand({ schema: 'svc', migrationsDir: '/nowhere' });
    const code = await command.run('svc', { NODE_ENV: 'production', DATABASE_URL: 'mysql://db', MIGRATION_LOCK_TIMEOUT_MS: 'soon' });
    expect(code).toBe(78);
    const output = error.mock.calls.join('\n');
    expect(output).toContain('svc: invalid configuration');
    expect(output).toContain('DATABASE_URL: must be a postgres:// URL');
    expect(output).toContain('MIGRATION_LOCK_TIMEOUT_MS');
    error.mockRestore();
  });
});

describe('migrationEnv', () => {
  const schema = z.object(migrationEnv);

  it('migrates at start by default, and waits 120 s for the lock', () => {
    expect(schema.parse({})).toEqual({ MIGRATE_ON_START: true, MIGRATION_LOCK_TIMEOUT_MS: 120_000 });
  });

  it('turns migration at start off with false or 0, and refuses anything else', () => {
    expect(schema.parse({ MIGRATE_ON_START: 'false' }).MIGRATE_ON_START).toBe(false);
    expect(schema.parse({ MIGRATE_ON_START: '0' }).MIGRATE_ON_START).toBe(false);
    expect(schema.safeParse({ MIGRATE_ON_START: 'no' }).success).toBe(false);
  });
});
