import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { checkKafkaEnv, kafkaEnv, kafkaSecurity } from './kafka-env';
import { commonEnv, ConfigError, loadConfig } from './load-config';

const schema = z.object({ ...commonEnv, ...kafkaEnv }).superRefine(checkKafkaEnv);
// Development unless a test says production: unset NODE_ENV is production (fail closed).
const load = (env: Record<string, string>) => loadConfig('svc', schema, { NODE_ENV: 'development', ...env });
const problems = (env: Record<string, string>): string => {
  try {
    load(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
};

const dir = mkdtempSync(join(tmpdir(), 'kafka-env-'));
const caPath = join(dir, 'ca.pem');
writeFileSync(caPath, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
const production = { NODE_ENV: 'production' };
const scram = { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'field-mapping', KAFKA_SASL_PASSWORD: 's3cret-value' };

describe('kafkaEnv', () => {
  it('defaults to a plaintext connection in development', () => {
    const config = load({});
    expect(config).toMatchObject({ KAFKA_SSL: false, KAFKA_ALLOW_PLAINTEXT: false });
    expect(kafkaSecurity(config)).toEqual({ warnings: [] });
  });

  it('passes TLS with the CA file read at start, and SASL, to the client', () => {
    const config = load({ KAFKA_SSL: 'true', KAFKA_SSL_CA: caPath, ...scram });
    expect(kafkaSecurity(config)).toEqual({
      ssl: { ca: [expect.stringContaining('BEGIN CERTIFICATE')] },
      sasl: { mechanism: 'scram-sha-512', username: 'field-mapping', password: 's3cret-value' },
      warnings: [],
    });
    expect(kafkaSecurity(load({ KAFKA_SSL: 'true' }))).toEqual({ ssl: true, warnings: [] });
  });

  it('treats empty variables as unset', () => {
    expect(kafkaSecurity(load({ KAFKA_SSL: '', KAFKA_SSL_CA: '', KAFKA_SASL_MECHANISM: '', KAFKA_SASL_USERNAME: '' }))).toEqual({ warnings: [] });
  });

  it('names a mechanism without a password (or user) without echoing any value', () => {
    const message = problems({ KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'upstream' });
    expect(message).toContain('KAFKA_SASL_PASSWORD: required when KAFKA_SASL_MECHANISM is set (scram-sha-256)');
    expect(message).not.toContain('KAFKA_SASL_USERNAME');
    expect(problems({ KAFKA_SASL_MECHANISM: 'plain' })).toMatch(/KAFKA_SASL_USERNAME: required[\s\S]*KAFKA_SASL_PASSWORD: required/);
  });

  it('names a password without a mechanism, and an unknown mechanism', () => {
    const message = problems({ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'hunter2-secret' });
    expect(message).toContain('KAFKA_SASL_MECHANISM: required when KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD is set');
    expect(message).not.toContain('hunter2-secret');
    expect(problems({ KAFKA_SASL_MECHANISM: 'gssapi' })).toContain('KAFKA_SASL_MECHANISM: must be one of plain, scram-sha-256, scram-sha-512');
  });

  it('names a missing CA file, a file that is no certificate, and a CA without TLS', () => {
    const missing = join(dir, 'nope.pem');
    expect(problems({ KAFKA_SSL: 'true', KAFKA_SSL_CA: missing })).toContain(`KAFKA_SSL_CA: cannot read the CA file ${missing} (ENOENT)`);
    const notPem = join(dir, 'not.pem');
    writeFileSync(notPem, 'secret material that must not be echoed');
    const message = problems({ KAFKA_SSL: 'true', KAFKA_SSL_CA: notPem });
    expect(message).toContain(`KAFKA_SSL_CA: ${notPem} holds no PEM certificate`);
    expect(message).not.toContain('secret material');
    expect(problems({ KAFKA_SSL_CA: caPath })).toContain('KAFKA_SSL: must be true when KAFKA_SSL_CA is set');
    expect(problems({ KAFKA_SSL: 'yes' })).toContain('KAFKA_SSL: must be true or false');
  });

  it('refuses an unauthenticated or unencrypted connection in production', () => {
    const message = problems(production);
    expect(message).toContain('KAFKA_SASL_MECHANISM: required in production');
    expect(message).toContain('KAFKA_SSL: must be true in production');
    expect(problems({ ...production, ...scram })).toContain('KAFKA_SSL: must be true in production');
    expect(problems({ ...production, KAFKA_SSL: 'true' })).toContain('KAFKA_SASL_MECHANISM: required in production');
    expect(problems({ ...production, ...scram, KAFKA_SASL_MECHANISM: 'plain' })).toContain('plain sends the password in clear');
    expect(kafkaSecurity(load({ ...production, ...scram, KAFKA_SSL: 'true' })).warnings).toEqual([]);
  });

  it('lets production accept PLAINTEXT only when told so, and says so at every start', () => {
    const plaintext = load({ ...production, KAFKA_ALLOW_PLAINTEXT: 'true' });
    expect(kafkaSecurity(plaintext).warnings).toEqual([expect.stringContaining('neither encrypted nor authenticated')]);
    const unencrypted = load({ ...production, ...scram, KAFKA_ALLOW_PLAINTEXT: 'true' });
    expect(kafkaSecurity(unencrypted).warnings).toEqual([expect.stringContaining('Kafka traffic is not encrypted')]);
    const anonymous = load({ ...production, KAFKA_SSL: 'true', KAFKA_ALLOW_PLAINTEXT: 'true' });
    expect(kafkaSecurity(anonymous).warnings).toEqual([expect.stringContaining('not authenticated')]);
    // Development says nothing: PLAINTEXT on loopback is its normal case.
    expect(kafkaSecurity(load({ KAFKA_ALLOW_PLAINTEXT: 'true' })).warnings).toEqual([]);
  });
});
