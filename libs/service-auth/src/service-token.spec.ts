import { SignJWT } from 'jose';
import {
  SERVICE_TOKEN_AUDIENCE,
  SERVICE_TOKEN_ISSUER,
  ServiceTokenError,
  signServiceToken,
  verifyServiceToken,
} from './service-token';

const SECRET = 'internal-secret-of-at-least-32-characters';
const key = new TextEncoder().encode(SECRET);
const now = () => Math.floor(Date.now() / 1000);

/** A token built claim by claim, to break one rule at a time. */
function token(claims: Record<string, unknown>, secret: Uint8Array = key, alg = 'HS256') {
  return new SignJWT(claims).setProtectedHeader({ alg }).sign(secret);
}
const good = () => ({
  sub: 'autopilot-delivery',
  aud: SERVICE_TOKEN_AUDIENCE,
  iss: SERVICE_TOKEN_ISSUER,
  iat: now(),
  exp: now() + 60,
});

describe('service tokens', () => {
  it('verifies what signServiceToken signs and names the calling service', async () => {
    await expect(verifyServiceToken(SECRET, await signServiceToken(SECRET, 'autopilot-delivery'))).resolves.toEqual({
      service: 'autopilot-delivery',
    });
  });

  it.each([
    ['signed with another secret (e.g. the user-token secret)', () => token(good(), new TextEncoder().encode('x'.repeat(40)))],
    ['without exp', () => token({ ...good(), exp: undefined })],
    ['without iat', () => token({ ...good(), iat: undefined })],
    ['expired', () => token({ ...good(), iat: now() - 200, exp: now() - 100 })],
    ['with another audience (a user token)', () => token({ ...good(), aud: 'segment-export-api' })],
    ['with another issuer', () => token({ ...good(), iss: 'someone-else' })],
    ['without sub', () => token({ ...good(), sub: undefined })],
    ['living longer than five minutes', () => token({ ...good(), exp: now() + 3600 })],
    ['issued in the future', () => token({ ...good(), iat: now() + 600, exp: now() + 660 })],
    ['of a user (tid and role, no aud or iss)', () => token({ sub: 'alice', tid: 'acme', role: 'admin', exp: now() + 60 })],
  ])('refuses a token %s', async (_, make) => {
    await expect(verifyServiceToken(SECRET, await make())).rejects.toBeInstanceOf(ServiceTokenError);
  });

  it('refuses unsigned and garbage tokens', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const body = Buffer.from(JSON.stringify(good())).toString('base64url');
    await expect(verifyServiceToken(SECRET, `${header}.${body}.`)).rejects.toBeInstanceOf(ServiceTokenError);
    await expect(verifyServiceToken(SECRET, 'not-a-token')).rejects.toBeInstanceOf(ServiceTokenError);
  });
});
