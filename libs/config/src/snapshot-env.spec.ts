import { z } from 'zod';
import { ConfigError, commonEnv, loadConfig } from './load-config';
import { DEV_SNAPSHOT_ROOT, resolveSnapshotRoot, snapshotEnv } from './snapshot-env';

const schema = z.object({ ...commonEnv, ...snapshotEnv }).transform(resolveSnapshotRoot);

describe('SNAPSHOT_ROOT', () => {
  it('defaults to <workspace>/tmp/snapshots outside production', () => {
    expect(loadConfig('svc', schema, { NODE_ENV: 'development' }).SNAPSHOT_ROOT).toBe(DEV_SNAPSHOT_ROOT);
    expect(DEV_SNAPSHOT_ROOT).toMatch(/\/tmp\/snapshots$/);
  });

  it('is required in production, and named when missing', () => {
    expect(() => loadConfig('svc', schema, { NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadConfig('svc', schema, { NODE_ENV: 'production' })).toThrow(/SNAPSHOT_ROOT: required in production/);
    expect(loadConfig('svc', schema, { NODE_ENV: 'production', SNAPSHOT_ROOT: '/data/snapshots/' }).SNAPSHOT_ROOT).toBe(
      '/data/snapshots',
    );
  });

  it('must be an absolute path', () => {
    expect(() => loadConfig('svc', schema, { SNAPSHOT_ROOT: 'data/snapshots' })).toThrow(/SNAPSHOT_ROOT: must be an absolute path/);
  });
});
