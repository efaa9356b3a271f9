import { loadConfig } from '@export/config';
import { ControlPlaneConfig } from './config';

const load = (env: Record<string, string>) =>
  loadConfig('connection-management', ControlPlaneConfig, { NODE_ENV: 'development', ...env });
const problems = (env: Record<string, string>) => {
  try {
    load(env);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a configuration error');
};

describe('ControlPlaneConfig: user token settings', () => {
  it('defaults to HS256 user tokens, 30 s of clock skew and the claims tid and role', () => {
    expect(load({})).toMatchObject({
      AUTH_CLOCK_SKEW_SECONDS: 30,
      AUTH_JWKS_COOLDOWN_SECONDS: 30,
      AUTH_TENANT_CLAIM: 'tid',
      AUTH_ROLE_CLAIM: 'role',
    });
    expect(load({}).AUTH_ISSUER).toBeUndefined();
  });

  it('needs AUTH_AUDIENCE with AUTH_ISSUER, and AUTH_ISSUER with AUTH_JWKS_URL', () => {
    expect(problems({ AUTH_ISSUER: 'https://login.example.test/' })).toContain(
      'AUTH_AUDIENCE: is required when AUTH_ISSUER is set',
    );
    expect(problems({ AUTH_JWKS_URL: 'https://login.example.test/jwks' })).toContain(
      'AUTH_ISSUER: is required when AUTH_JWKS_URL is set',
    );
    expect(
      load({ AUTH_ISSUER: 'https://login.example.test/', AUTH_AUDIENCE: 'segment-export' }).AUTH_AUDIENCE,
    ).toBe('segment-export');
  });

  it('takes only https:// issuer and key set URLs in production', () => {
    const message = problems({
      NODE_ENV: 'production',
      AUTH_ISSUER: 'http://login.example.test/',
      AUTH_AUDIENCE: 'segment-export',
      AUTH_JWKS_URL: 'http://login.example.test/jwks',
    });
    expect(message).toContain('AUTH_ISSUER: must be an https:// URL in production');
    expect(message).toContain('AUTH_JWKS_URL: must be an https:// URL in production');
  });

  it('bounds the clock skew and refuses claim names with spaces', () => {
    expect(problems({ AUTH_CLOCK_SKEW_SECONDS: '3600' })).toContain('AUTH_CLOCK_SKEW_SECONDS');
    expect(problems({ AUTH_TENANT_CLAIM: 'tenant id' })).toContain('AUTH_TENANT_CLAIM');
  });
});


describe('control plane configuration', () => {
  it('defaults the internal listener to 127.0.0.1:3100, with /metrics and /docs on the public port', () => {
    const config = load({});
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
      load({
        AUTH_JWT_SECRET: same,
        INTERNAL_AUTH_SECRET: same,
      }),
    ).toThrow(/INTERNAL_AUTH_SECRET: must differ from AUTH_JWT_SECRET/);
    expect(() => load({ PORT: '3100' })).toThrow(
      /INTERNAL_PORT: must differ from PORT/,
    );
  });

  it('reads METRICS_ON_INTERNAL and DOCS_ON_INTERNAL as flags', () => {
    const config = load({
      METRICS_ON_INTERNAL: 'true',
      DOCS_ON_INTERNAL: '1',
    });
    expect([config.METRICS_ON_INTERNAL, config.DOCS_ON_INTERNAL]).toEqual([true, true]);
    expect(() =>
      load({ METRICS_ON_INTERNAL: 'yes' }),
    ).toThrow(/METRICS_ON_INTERNAL/);
  });
});
