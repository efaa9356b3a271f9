import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  createTestDatabase,
  freePort,
  startReadyChild,
  startServiceProcess,
  stopChild,
  TEST_KAFKA_BROKERS,
  type ServiceProcess,
  type TestDatabase,
} from '@export/testing';
import type { Browser } from 'playwright-core';
import { launchBrowser } from './support/browser';

/**
 * With an OpenID Connect issuer configured, the console signs in with the authorization code flow and PKCE
 * against a real provider, and the control plane accepts the access token it gets; the development token
 * endpoint is gone.
 */
describe('web console sign-in with an OpenID Connect issuer', () => {
  let provider: { child: ChildProcess; issuer: string };
  let db: TestDatabase;
  let controlPlane: ServiceProcess;
  let browser: Browser;
  let url: string;
  const tenant = `oidc-${randomUUID().slice(0, 8)}`;
  const resource = 'https://api.segment-export.test';

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const started = await startReadyChild<{ ready: true; issuer: string }>(join(__dirname, 'support', 'oidc-login-provider.mjs'), {
      OIDC_LOGIN_PROVIDER: JSON.stringify({
        clientId: 'console',
        redirectUri: `${url}/callback`,
        postLogoutRedirectUri: `${url}/`,
        resource,
        users: { ada: { tid: tenant, role: 'admin' } },
      }),
    });
    provider = { child: started.child, issuer: started.ready.issuer };
    db = await createTestDatabase('console-oidc');
    controlPlane = await startServiceProcess({
      name: 'connection-management-oidc',
      entry: 'dist/apps/connection-management/main.js',
      port,
      env: {
        DATABASE_URL: db.url,
        KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
        KAFKA_GROUP_ID: `console-oidc-${randomUUID()}`,
        INTERNAL_PORT: String(await freePort()),
        AUTH_ISSUER: provider.issuer,
        AUTH_AUDIENCE: resource,
        CONSOLE_OIDC_CLIENT_ID: 'console',
        CONSOLE_OIDC_SCOPE: 'openid',
        LOG_LEVEL: 'warn',
      },
    });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await controlPlane?.stop();
    if (provider) await stopChild(provider.child);
    await db?.drop();
  });

  it('signs in at the issuer (authorization code + PKCE) and calls the API with the access token', async () => {
    // No CSP bypass: the console's policy must let the browser reach the issuer (connect-src).
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    const authorize: string[] = [];
    page.on('request', (r) => r.url().startsWith(`${provider.issuer}/auth`) && authorize.push(r.url()));
    await page.goto(url);
    await page.getByRole('button', { name: 'Sign in with your identity provider' }).click();
    // oidc-provider's development login page: any login, then its consent page.
    await page.locator('input[name="login"]').fill('ada');
    await page.locator('input[name="password"]').fill('any');
    await page.locator('button[type="submit"]').click();
    const consent = page.getByRole('button', { name: 'Continue' });
    const signedIn = page.getByText('Signed in as ada');
    await consent.or(signedIn).first().waitFor();
    if (await consent.isVisible()) await consent.click();
    await signedIn.waitFor();
    await page.getByRole('heading', { name: 'Connections' }).waitFor();
    const request = new URL(authorize[0]);
    expect(request.searchParams.get('response_type')).toBe('code');
    expect(request.searchParams.get('code_challenge_method')).toBe('S256');
    expect(request.searchParams.get('code_challenge')).toBeTruthy();
    // The API took the token: the list answered (an empty table, not an error).
    await page.getByText('No connection yet.').waitFor();
    await context.close();
  });

  it('has no development token endpoint', async () => {
    const res = await fetch(`${url}/v1/console/dev-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant, user: 'ada', role: 'admin' }),
    });
    expect(res.status).toBe(404);
  });
});
