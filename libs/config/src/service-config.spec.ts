import { z } from 'zod';
import { loadConfig } from './load-config';
import { serviceConfig } from './service-config';
import { DEV_SNAPSHOT_ROOT, snapshotEnv } from './snapshot-env';

const Plain = serviceConfig('svc', 3009, { LIMIT: z.coerce.number().int().default(5) }, (config, problem) => {
  if (config.LIMIT > config.PORT) problem('LIMIT', 'must be at most PORT');
});
const WithSnapshots = serviceConfig('svc', 3009, { ...snapshotEnv });

describe('serviceConfig', () => {
  it('gives every service the shared variables, its PORT and its name as the default group', () => {
    const config = loadConfig('svc', Plain, { NODE_ENV: 'development' });
    expect(config).toMatchObject({
      PORT: 3009,
      KAFKA_GROUP_ID: 'svc',
      KAFKA_BROKERS: ['127.0.0.1:9092'],
      LIMIT: 5,
    });
    expect('SNAPSHOT_ROOT' in config).toBe(false);
  });

  it("names the variables at fault: the service's own rules and the Kafka security rules", () => {
    expect(() =>
      loadConfig('svc', Plain, {
        NODE_ENV: 'development',
        PORT: '10',
        LIMIT: '11',
        KAFKA_SASL_USERNAME: 'u',
      }),
    ).toThrow(/LIMIT: must be at most PORT[\s\S]*KAFKA_SASL_MECHANISM: required/);
  });

  it('resolves SNAPSHOT_ROOT when the service reads snapshots: required in production', () => {
    expect(loadConfig('svc', WithSnapshots, { NODE_ENV: 'development' }).SNAPSHOT_ROOT).toBe(
      DEV_SNAPSHOT_ROOT,
    );
    expect(
      loadConfig('svc', WithSnapshots, { NODE_ENV: 'development', SNAPSHOT_ROOT: '/data/x/../snap' })
        .SNAPSHOT_ROOT,
    ).toBe('/data/snap');
    expect(() => loadConfig('svc', WithSnapshots, { KAFKA_ALLOW_PLAINTEXT: 'true' })).toThrow(
      /SNAPSHOT_ROOT: required in production/,
    );
  });
});
