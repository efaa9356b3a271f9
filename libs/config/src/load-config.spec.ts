import { z } from 'zod';
import { allowsDevelopmentDefaults, assertProductionSecrets, commonEnv, ConfigError, databaseEnv, databaseTimeouts, kafkaConsumerTimings, loadConfig, secretEnv } from './load-config';

const schema = z.object({ ...commonEnv, PORT: z.coerce.number().int().min(1).max(65535).default(3000), SECRET: secretEnv('x'.repeat(32)) });

describe('loadConfig', () => {
  it('applies defaults', () => {
    const config = loadConfig('svc', schema, {});
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(config.PORT).toBe(3000);
  });

  it('names every variable at fault without echoing values', () => {
    try {
      loadConfig('svc', schema, { PORT: 'abc', KAFKA_BROKERS: 'nohostport', SECRET: 'short-secret-value' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as ConfigError).message;
      expect(message).toContain('PORT');
      expect(message).toContain('KAFKA_BROKERS');
      expect(message).toContain('SECRET');
      expect(message).not.toContain('short-secret-value');
    }
  });

  it('refuses development secrets in production', () => {
    const config = loadConfig('svc', schema, { NODE_ENV: 'production' });
    expect(() => assertProductionSecrets('svc', config, ['SECRET'])).toThrow(/SECRET: a real secret is required/);
    const real = loadConfig('svc', schema, { NODE_ENV: 'production', SECRET: 'r'.repeat(40) });
    expect(() => assertProductionSecrets('svc', real, ['SECRET'])).not.toThrow();
  });

  it('fails closed when NODE_ENV is unset: it behaves as production and names the development secrets', () => {
    const config = loadConfig('svc', schema, {});
    expect(config.NODE_ENV).toBe('production');
    expect(allowsDevelopmentDefaults(config)).toBe(false);
    expect(() => assertProductionSecrets('svc', config, ['SECRET'])).toThrow(
      'SECRET: a real secret is required in production (the development default is set; development defaults apply only with NODE_ENV=development)',
    );
  });

  it('accepts development defaults only when NODE_ENV is development or test, set explicitly', () => {
    for (const NODE_ENV of ['development', 'test']) {
      const config = loadConfig('svc', schema, { NODE_ENV });
      expect(allowsDevelopmentDefaults(config)).toBe(true);
      expect(() => assertProductionSecrets('svc', config, ['SECRET'])).not.toThrow();
    }
    expect(() => loadConfig('svc', schema, { NODE_ENV: 'staging' })).toThrow(/NODE_ENV/);
    expect(() => loadConfig('svc', schema, { NODE_ENV: '' })).toThrow(/NODE_ENV/);
  });
});

describe('recovery and database bounds', () => {
  it('defaults: 10 s group session, 1 s heartbeats, 20 s rebalance; 60 s statements, 60 s idle in transaction', () => {
    const config = loadConfig('svc', z.object({ ...commonEnv, ...databaseEnv }), {});
    expect(kafkaConsumerTimings(config)).toEqual({ sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000, rebalanceTimeoutMs: 20_000 });
    expect(databaseTimeouts(config)).toEqual({
      statementTimeoutMs: 60_000,
      idleInTransactionTimeoutMs: 60_000,
      connectionTimeoutMs: 5_000,
      queryTimeoutMs: 65_000,
    });
  });

  it('keeps heartbeats at most a third of the session timeout', () => {
    const config = loadConfig('svc', z.object(commonEnv), { KAFKA_SESSION_TIMEOUT_MS: '6000', KAFKA_HEARTBEAT_INTERVAL_MS: '5000' });
    expect(kafkaConsumerTimings(config).heartbeatIntervalMs).toBe(2000);
  });
});
