import { z } from 'zod';
import { bootstrapService } from './bootstrap-service';

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
