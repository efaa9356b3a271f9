import type { Logger } from 'pino';
import { migrationRunnerOptions } from './migrate';

function fakeLogger() {
  return { debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() };
}

describe('migrationRunnerOptions', () => {
  it('applies every pending migration up, in order, with schema and migrations table in the service schema', () => {
    const options = migrationRunnerOptions('postgres://h/db', {
      schema: 'delivery',
      dir: '/app/migrations',
      logger: fakeLogger() as unknown as Logger,
    });
    expect(options).toMatchObject({
      databaseUrl: 'postgres://h/db',
      dir: '/app/migrations',
      direction: 'up',
      count: Infinity,
      migrationsTable: 'pgmigrations',
      schema: 'delivery',
      createSchema: true,
      migrationsSchema: 'delivery',
      createMigrationsSchema: true,
      checkOrder: true,
      noLock: true,
    });
  });

  it('logs node-pg-migrate progress at debug, its warnings and errors at their level', () => {
    const logger = fakeLogger();
    const options = migrationRunnerOptions('postgres://h/db', {
      schema: 'control_plane',
      dir: '/m',
      logger: logger as unknown as Logger,
    });
    options.logger?.debug?.('sql');
    options.logger?.info('> Migrating files:');
    options.logger?.warn('> Rolling back attempted migration ...');
    options.logger?.error('could not connect');
    const context = { component: 'migrations' };
    expect(logger.debug.mock.calls).toEqual([[context, '> Migrating files:']]);
    expect(logger.warn).toHaveBeenCalledWith(context, '> Rolling back attempted migration ...');
    expect(logger.error).toHaveBeenCalledWith(context, 'could not connect');
    expect(logger.info).not.toHaveBeenCalled();
  });
});
