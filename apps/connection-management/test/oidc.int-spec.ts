import { createHmac, createPublicKey, randomBytes, randomUUID } from 'node:crypto';
import { AppError } from '@export/errors';
import { expectEventually } from '@export/testing';
import { ControlPlaneConfig } from '../src/config';
import { UserTokenVerifier } from '../src/auth/user-token.verifier';
import { startControlPlane, type RunningControlPlane } from './support/control-plane';
import { signingKey, startOidcProvider, type TestOidcProvider } from './support/oidc-provider';

const AUDIENCE = 'https://segment-export.test/api';
const OTHER_API = 'https://other-api.test/';

/** A compact JWS by hand: what an attacker sends, not what a library would let us sign. */
function forge(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  sign: (input: string) => string,
) {
  const input = [header, payload]
    .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url'))
    .join('.');
  return `${input}.${sign(input)}`;
}

const payloadOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;

describe('user tokens from a real OpenID Connect provider (oidc-provider as a child process)', () => {
  const tenant = `t-oidc-${randomUUID().slice(0, 8)}`;
  const rsaKey = signingKey('RS256', `rsa-${randomUUID().slice(0, 8)}`);
  const secret = () => randomBytes(24).toString('hex');
  let idp: TestOidcProvider;
  let cp: RunningControlPlane;

  beforeAll(async () => {
    idp = await startOidcProvider({
      keys: [rsaKey],
      signingAlg: 'RS256',
      resources: [AUDIENCE, OTHER_API],
      clients: [
        { clientId: 'alice', clientSecret: secret(), claims: { tid: tenant, role: 'admin' } },
        {
          clientId: 'brief',
          clientSecret: secret(),
          claims: { tid: tenant, role: 'admin' },
          accessTokenTTL: 1,
        },
        { clientId: 'delivery', clientSecret: secret(), claims: { tid: '*', role: 'service' } },
        { clientId: 'nobody', clientSecret: secret(), claims: { role: 'admin' } },
      ],
    });
    cp = await startControlPlane({
      AUTH_ISSUER: idp.issuer,
      AUTH_AUDIENCE: AUDIENCE,
      AUTH_JWKS_URL: idp.jwksUrl,
      AUTH_JWKS_COOLDOWN_SECONDS: '1',
      AUTH_CLOCK_SKEW_SECONDS: '1',
    });
  });

  afterAll(async () => {
    await cp?.close();
    await idp?.stop();
  });

  const list = (token: string) => cp.call('GET', '/v1/connections', { token });

  it('accepts an access token the provider issued for AUTH_AUDIENCE on a public route', async () => {
    const token = await idp.token('alice');
    expect(payloadOf(token)).toMatchObject({ iss: idp.issuer, aud: AUDIENCE, tid: tenant, role: 'admin' });
    const res = await list(token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([]);
    const quota = await cp.call('GET', `/v1/tenants/${tenant}/quota`, { token });
    expect(quota.status).toBe(200);
  });

  it('refuses the token once it has expired (beyond the clock skew)', async () => {
    const token = await idp.token('brief');
    const first = await list(token);
    await expectEventually(async () => (await list(token)).status === 401, {
      timeoutMs: 10000,
      message: 'expired token refused',
    });
    const res = await list(token);
    expect(res.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'Token expired' });
    expect(res.text).not.toContain(token);
    // Accepted while it was fresh (unless this machine was slow enough to miss its one second).
    expect([200, 401]).toContain(first.status);
  });

  it('refuses an access token issued for another audience', async () => {
    const token = await idp.token('alice', OTHER_API);
    expect(payloadOf(token).aud).toBe(OTHER_API);
    const res = await list(token);
    expect(res.status).toBe(401);
    expect(res.body.message).toBe('Token audience is not this API');
  });

  it('refuses alg none, HS256 signed with the public key, and the development HS256 secret', async () => {
    const claims = payloadOf(await idp.token('alice'));
    const publicJwk = createPublicKey({ key: rsaKey, format: 'jwk' });
    const pem = publicJwk.export({ type: 'spki', format: 'pem' });
    const jwkJson = JSON.stringify(publicJwk.export({ format: 'jwk' }));
    const hmac = (key: string | Buffer) => (input: string) =>
      createHmac('sha256', key).update(input).digest('base64url');
    const attempts = [
      forge({ alg: 'none', typ: 'at+jwt' }, claims, () => ''),
      forge({ alg: 'HS256', typ: 'at+jwt', kid: rsaKey.kid }, claims, hmac(pem)),
      forge({ alg: 'HS256', typ: 'at+jwt' }, claims, hmac(jwkJson)),
      forge({ alg: 'HS256', typ: 'JWT' }, claims, hmac(cp.config.AUTH_JWT_SECRET)),
    ];
    for (const token of attempts) {
      const res = await list(token);
      expect(res.status).toBe(401);
      expect(res.body.message).toBe('Token signing algorithm is not accepted');
      expect(res.text).not.toContain(token.split('.')[1]);
    }
    // The development helper's token (HS256 with AUTH_JWT_SECRET, valid exp) is no user token here either.
    expect((await list(cp.token({ tid: tenant, role: 'admin' }))).status).toBe(401);
  });

  it("refuses the issuer's service tokens (403) and tokens without a tenant claim (401)", async () => {
    expect((await list(await idp.token('delivery'))).status).toBe(403);
    const res = await list(await idp.token('nobody'));
    expect(res.status).toBe(401);
    expect(res.body.message).toContain('tid');
  });

  it('picks up a rotated key: the provider restarted signing with a new ES256 key', async () => {
    const before = await idp.token('alice');
    expect((await list(before)).status).toBe(200);
    const ecKey = signingKey('ES256', `ec-${randomUUID().slice(0, 8)}`);
    await idp.restart({ keys: [ecKey, rsaKey], signingAlg: 'ES256' });
    const after = await idp.token('alice');
    expect(JSON.parse(Buffer.from(after.split('.')[0], 'base64url').toString())).toMatchObject({
      alg: 'ES256',
      kid: ecKey.kid,
    });
    // The cached key set lacks the new kid: it is refetched once the cooldown (1 s here) allows.
    await expectEventually(async () => (await list(after)).status === 200, {
      timeoutMs: 10000,
      message: 'token signed with the rotated key accepted',
    });
    // The old key is still published, so tokens it signed stay valid until they expire.
    expect((await list(before)).status).toBe(200);
  });

  describe('UserTokenVerifier against the provider', () => {
    const settings = (env: Record<string, string>) =>
      ControlPlaneConfig.parse({
        NODE_ENV: 'development',
        AUTH_AUDIENCE: AUDIENCE,
        AUTH_ISSUER: idp.issuer,
        ...env,
      });

    it('finds the key set through discovery when AUTH_JWKS_URL is unset (and checks typ at+jwt)', async () => {
      const verifier = new UserTokenVerifier(settings({ AUTH_TOKEN_TYPE: 'at+jwt' }));
      expect(verifier.mode).toBe('oidc');
      const payload = await verifier.verify(await idp.token('alice'));
      expect(payload).toMatchObject({ sub: 'alice', tid: tenant, iss: idp.issuer, aud: AUDIENCE });
    });

    it('trusts no discovery document that names another issuer than AUTH_ISSUER', async () => {
      // Same host, one character off: the document says idp.issuer, not idp.issuer + '/'.
      const verifier = new UserTokenVerifier(settings({ AUTH_ISSUER: `${idp.issuer}/` }));
      await expect(verifier.verify(await idp.token('alice'))).rejects.toMatchObject({
        kind: 'upstream-unavailable',
      });
    });

    it('refuses a token of another issuer, and answers 502 (not 401) when the keys cannot be fetched', async () => {
      const token = await idp.token('alice');
      const elsewhere = new UserTokenVerifier(
        settings({ AUTH_ISSUER: 'https://login.example.test/', AUTH_JWKS_URL: idp.jwksUrl }),
      );
      await expect(elsewhere.verify(token)).rejects.toMatchObject({
        kind: 'unauthenticated',
        message: 'Token issuer is not trusted',
      });
      const unreachable = new UserTokenVerifier(settings({ AUTH_JWKS_URL: 'http://127.0.0.1:9/jwks' }));
      const error = await unreachable.verify(token).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ kind: 'upstream-unavailable' });
      expect((error as Error).message).not.toContain(token);
    });
  });
});
