import { generateKeyPair, SignJWT } from 'jose';
import { ControlPlaneConfig } from '../config';
import { UserTokenVerifier } from './user-token.verifier';

const SECRET = 'unit-test-secret-of-at-least-32-characters';
const key = new TextEncoder().encode(SECRET);
const claims = { sub: 'alice', tid: 'contoso', role: 'admin' };
const now = () => Math.floor(Date.now() / 1000);
const verifier = (env: Record<string, string> = {}) =>
  new UserTokenVerifier(
    ControlPlaneConfig.parse({ NODE_ENV: 'development', AUTH_JWT_SECRET: SECRET, ...env }),
  );
const hs256 = (jwt: SignJWT, secret = key) => jwt.setProtectedHeader({ alg: 'HS256' }).sign(secret);

async function refusal(v: UserTokenVerifier, token: string): Promise<{ kind: string; message: string }> {
  const error = await v.verify(token).then(
    () => undefined,
    (e: { kind: string; message: string }) => e,
  );
  if (!error) throw new Error('expected the token to be refused');
  expect(error.message).not.toContain(token);
  return { kind: error.kind, message: error.message };
}

describe('UserTokenVerifier (HS256, development)', () => {
  it('accepts a token signed with AUTH_JWT_SECRET that carries exp', async () => {
    const v = verifier();
    expect(v.mode).toBe('hs256');
    await expect(v.verify(await hs256(new SignJWT(claims).setExpirationTime('5m')))).resolves.toMatchObject(
      claims,
    );
  });

  it('refuses a token without exp', async () => {
    expect(await refusal(verifier(), await hs256(new SignJWT(claims).setIssuedAt()))).toEqual({
      kind: 'unauthenticated',
      message: 'Token has no expiry (exp)',
    });
  });

  it('tolerates AUTH_CLOCK_SKEW_SECONDS of clock difference, and no more', async () => {
    const expired10s = await hs256(new SignJWT(claims).setExpirationTime(now() - 10));
    await expect(verifier().verify(expired10s)).resolves.toMatchObject(claims);
    expect((await refusal(verifier({ AUTH_CLOCK_SKEW_SECONDS: '5' }), expired10s)).message).toBe(
      'Token expired',
    );
    const early = await hs256(new SignJWT(claims).setExpirationTime('5m').setNotBefore(now() + 120));
    expect((await refusal(verifier(), early)).message).toBe('Token is not valid yet');
  });

  it('checks aud when AUTH_AUDIENCE is set', async () => {
    const v = verifier({ AUTH_AUDIENCE: 'segment-export' });
    const other = await hs256(new SignJWT(claims).setExpirationTime('5m').setAudience('another-api'));
    expect((await refusal(v, other)).message).toBe('Token audience is not this API');
    const none = await hs256(new SignJWT(claims).setExpirationTime('5m'));
    expect((await refusal(v, none)).message).toBe('Token audience is not this API');
    const right = await hs256(new SignJWT(claims).setExpirationTime('5m').setAudience('segment-export'));
    await expect(v.verify(right)).resolves.toMatchObject(claims);
  });

  it('checks the header typ when AUTH_TOKEN_TYPE is set', async () => {
    const v = verifier({ AUTH_TOKEN_TYPE: 'at+jwt' });
    const plain = await hs256(new SignJWT(claims).setExpirationTime('5m'));
    expect((await refusal(v, plain)).message).toBe('Token type is not accepted (typ)');
    const access = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setExpirationTime('5m')
      .sign(key);
    await expect(v.verify(access)).resolves.toMatchObject(claims);
  });

  it('refuses other secrets, alg none, asymmetric algorithms and garbage', async () => {
    const v = verifier();
    const forged = await hs256(
      new SignJWT(claims).setExpirationTime('5m'),
      new TextEncoder().encode('x'.repeat(40)),
    );
    expect(await refusal(v, forged)).toEqual({
      kind: 'unauthenticated',
      message: 'Invalid or expired token',
    });
    const body = Buffer.from(JSON.stringify({ ...claims, exp: now() + 60 })).toString('base64url');
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${body}.`;
    expect((await refusal(v, unsigned)).message).toBe('Token signing algorithm is not accepted');
    const { privateKey } = await generateKeyPair('RS256');
    const rs256 = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256' })
      .setExpirationTime('5m')
      .sign(privateKey);
    expect((await refusal(v, rs256)).message).toBe('Token signing algorithm is not accepted');
    expect((await refusal(v, 'not.a.jwt')).message).toBe('Invalid or expired token');
  });
});

describe('UserTokenVerifier (OpenID Connect)', () => {
  it('takes only RS256/ES256 and never the HS256 secret once AUTH_ISSUER is set', async () => {
    const v = verifier({ AUTH_ISSUER: 'https://login.example.test/', AUTH_AUDIENCE: 'segment-export' });
    expect(v.mode).toBe('oidc');
    const token = await hs256(
      new SignJWT(claims)
        .setExpirationTime('5m')
        .setIssuer('https://login.example.test/')
        .setAudience('segment-export'),
    );
    expect((await refusal(v, token)).message).toBe('Token signing algorithm is not accepted');
  });
});
