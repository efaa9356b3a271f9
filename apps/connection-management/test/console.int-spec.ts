import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane, type RunningControlPlane } from './support/control-plane';

/** A stand-in for Vite's build: an index.html and one hashed asset. */
function fakeConsoleBuild(): string {
  const dir = mkdtempSync(join(tmpdir(), 'console-build-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>console</title><div id="root"></div>');
  writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
  return dir;
}

describe('the web console served by the control plane (development)', () => {
  let cp: RunningControlPlane;

  beforeAll(async () => {
    cp = await startControlPlane({ CONSOLE_DIR: fakeConsoleBuild() });
  });
  afterAll(async () => cp?.close());

  it('serves index.html at / and for client-side routes, and the hashed assets with a long cache', async () => {
    for (const path of ['/', '/connections', '/exports/3f1c/runs']) {
      const res = await cp.call('GET', path, { headers: { accept: 'text/html' } });
      expect(res.status).toBe(200);
      expect(res.text).toContain('<div id="root">');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    }
    const asset = await cp.call('GET', '/assets/index-abc123.js');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await cp.call('GET', '/assets/missing.js')).status).toBe(404);
  });

  it('leaves the API alone: unknown API paths stay JSON 404s, the internal listener serves no console', async () => {
    const api = await cp.call('GET', '/v1/nothing-here', { headers: { accept: 'text/html' } });
    expect(api.status).toBe(404);
    expect(api.text).not.toContain('<div id="root">');
    expect((await cp.call('GET', '/v1/connections')).status).toBe(401);
    const internal = await cp.callInternal('GET', '/connections', { headers: { accept: 'text/html' } });
    expect(internal.status).toBe(404);
  });

  it('tells the console to use the development sign-in', async () => {
    const res = await cp.call('GET', '/v1/console/config');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ signIn: 'development' });
  });

  it('mints a development token the API accepts, for the tenant, user and role typed in', async () => {
    const res = await cp.call('POST', '/v1/console/dev-token', {
      body: { tenant: 'contoso', user: 'ada', role: 'contributor' },
    });
    expect(res.status).toBe(200);
    const contributor = res.body.token as string;
    expect((await cp.call('GET', '/v1/connections', { token: contributor })).status).toBe(200);
    // A contributor may not create connections: the token carries the role typed in.
    const create = await cp.call('POST', '/v1/connections', {
      token: contributor,
      body: { displayName: 'x', apiKey: 'k'.repeat(12), privacyConsent: true },
    });
    expect(create.status).toBe(403);
  });

  it('refuses a bad sign-in naming the field, and never mints a service token', async () => {
    const bad = await cp.call('POST', '/v1/console/dev-token', { body: { tenant: '../x', user: 'ada', role: 'admin' } });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('tenant');
    const service = await cp.call('POST', '/v1/console/dev-token', {
      body: { tenant: 'contoso', user: 'ada', role: 'service' },
    });
    expect(service.status).toBe(400);
    expect(service.text).toContain('role');
  });
});

describe('the web console in production', () => {
  let cp: RunningControlPlane;

  beforeAll(async () => {
    cp = await startControlPlane({
      NODE_ENV: 'production',
      KAFKA_ALLOW_PLAINTEXT: 'true',
      AUTH_JWT_SECRET: randomBytes(32).toString('hex'),
      INTERNAL_AUTH_SECRET: randomBytes(32).toString('hex'),
      CREDENTIALS_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      CONSOLE_DIR: fakeConsoleBuild(),
    });
  });
  afterAll(async () => cp?.close());

  it('has no development token endpoint', async () => {
    const res = await cp.call('POST', '/v1/console/dev-token', {
      body: { tenant: 'contoso', user: 'ada', role: 'admin' },
    });
    expect(res.status).toBe(404);
    expect(res.body.token).toBeUndefined();
  });

  it('tells the console that sign-in needs an issuer when none is configured', async () => {
    const res = await cp.call('GET', '/v1/console/config');
    expect(res.body).toEqual({ signIn: 'unavailable', reason: expect.stringContaining('AUTH_ISSUER') });
  });
});
