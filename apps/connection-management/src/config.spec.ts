import { loadConfig } from '@export/config';
import { ControlPlaneConfig } from './config';

describe('control plane configuration', () => {
  it('defaults the internal listener to 127.0.0.1:3100, with /metrics and /docs on the public port', () => {
    const config = loadConfig('connection-management', ControlPlaneConfig, { NODE_ENV: 'development' });
    expect(config).toMatchObject({
      INTERNAL_PORT: 3100,
      INTERNAL_HOST: '127.0.0.1',
      METRICS_ON_INTERNAL: false,
      DOCS_ON_INTERNAL: false,
    });
    expect(config.INTERNAL_AUTH_SECRET).not.toBe(config.AUTH_JWT_SECRET);
  });

  it('refuses one secret for user and service tokens, and one port for both listeners', () => {
    const same = 'x'.repeat(40);
    expect(() =>
      loadConfig('connection-management', ControlPlaneConfig, {
        AUTH_JWT_SECRET: same,
        INTERNAL_AUTH_SECRET: same,
      }),
    ).toThrow(/INTERNAL_AUTH_SECRET: must differ from AUTH_JWT_SECRET/);
    expect(() => loadConfig('connection-management', ControlPlaneConfig, { PORT: '3100' })).toThrow(
      /INTERNAL_PORT: must differ from PORT/,
    );
  });

  it('reads METRICS_ON_INTERNAL and DOCS_ON_INTERNAL as flags', () => {
    const config = loadConfig('connection-management', ControlPlaneConfig, {
      METRICS_ON_INTERNAL: 'true',
      DOCS_ON_INTERNAL: '1',
    });
    expect([config.METRICS_ON_INTERNAL, config.DOCS_ON_INTERNAL]).toEqual([true, true]);
    expect(() =>
      loadConfig('connection-management', ControlPlaneConfig, { METRICS_ON_INTERNAL: 'yes' }),
    ).toThrow(/METRICS_ON_INTERNAL/);
  });
});
