import { z } from 'zod';
import { bootstrapService, parseServiceCommand, type ServiceCommand, UsageError } from './bootstrap-service';

const Config = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('production'),
  LOG_LEVEL: z.string().default('silent'),
  PORT: z.coerce.number().int(),
  KAFKA_GROUP_ID: z.string().default('svc'),
  SIGNING_SECRET: z.string().default('dev-only-signing-secret'),
});

describe('bootstrapService', () => {
  it('names every variable at fault before it builds anything', async () => {
    const module = jest.fn();
    await expect(bootstrapService({ name: 'svc', config: Config, module }, { PORT: 'eighty' })).rejects.toThrow(
      /svc: invalid configuration:\n {2}- PORT: /,
    );
    expect(module).not.toHaveBeenCalled();
  });

  it('refuses to start in production with a development secret, naming it and not its value', async () => {
    const module = jest.fn();
    const start = bootstrapService({ name: 'svc', config: Config, secrets: ['SIGNING_SECRET'], module }, { PORT: '3000' });
    await expect(start).rejects.toThrow('SIGNING_SECRET');
    await expect(start).rejects.not.toThrow('dev-only-signing-secret');
    expect(module).not.toHaveBeenCalled();
  });
});

describe('parseServiceCommand', () => {
  const migrate: ServiceCommand = {
    summary: 'apply the pending migrations of its schema, then exit (0: up to date)',
    run: async () => 0,
  };
  const commands = { migrate };

  it('serves without arguments and picks the command named', () => {
    expect(parseServiceCommand('svc', commands, [])).toBeUndefined();
    expect(parseServiceCommand('svc', commands, ['migrate'])).toBe(migrate);
  });

  it.each([[['migrat']], [['migrate', 'now']], [['--force']], [['serve']], [['toString']]])('refuses %j with the usage', (argv) => {
    expect(() => parseServiceCommand('svc', commands, argv)).toThrow(UsageError);
    expect(() => parseServiceCommand('svc', commands, argv)).toThrow(
      '\nusage: node main.js [migrate]\n' +
        '  (no command)  start the service\n' +
        '  migrate       apply the pending migrations of its schema, then exit (0: up to date)',
    );
  });
});

describe('ServiceDefinition', () => {
  it('refuses at compile time a start step that needs settings the configuration does not have', () => {
    const needsDatabase = async (config: { DATABASE_URL: string }) => void config.DATABASE_URL;
    // @ts-expect-error Config has no DATABASE_URL
    const start = bootstrapService({ name: 'svc', config: Config, module: jest.fn(), beforeStart: needsDatabase }, { PORT: 'x' });
    return expect(start).rejects.toThrow('PORT');
  });
});
