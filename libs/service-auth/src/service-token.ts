import { errors, jwtVerify, SignJWT } from 'jose';

/**
 * Service-to-service credential of the segment export: a short-lived HS256 JWT signed with its own secret
 * (`INTERNAL_AUTH_SECRET`), never with the secret of user tokens. `aud` = `internal` and `iss` = the control
 * plane's realm mark it as a service token; `sub` names the calling service. The control plane accepts it
 * only on its internal listener.
 */
export const SERVICE_TOKEN_AUDIENCE = 'internal';
export const SERVICE_TOKEN_ISSUER = 'segment-export/control-plane';
/** Lifetime of the tokens we sign. */
export const SERVICE_TOKEN_TTL_SECONDS = 60;
/** Longest lifetime (exp - iat) a verifier accepts: a leaked token is worth minutes at most. */
export const SERVICE_TOKEN_MAX_TTL_SECONDS = 300;
/** Clock skew tolerated between services. */
export const SERVICE_TOKEN_CLOCK_TOLERANCE_SECONDS = 30;

const ALGORITHM = 'HS256';

export interface ServiceIdentity {
  /** The calling service (the token's `sub`). */
  service: string;
}

/** Why a token was refused; never contains the token. */
export class ServiceTokenError extends Error {
  override readonly name = 'ServiceTokenError';
}

const keyOf = (secret: string) => new TextEncoder().encode(secret);

/** Signs a service token for `service`, valid for `ttlSeconds` (60 s by default). */
export async function signServiceToken(
  secret: string,
  service: string,
  ttlSeconds = SERVICE_TOKEN_TTL_SECONDS,
): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(service)
    .setAudience(SERVICE_TOKEN_AUDIENCE)
    .setIssuer(SERVICE_TOKEN_ISSUER)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(keyOf(secret));
}

/**
 * Verifies a service token: HS256 with `secret`, `aud` internal, `iss` the control plane realm, `sub`, `iat`
 * and `exp` present, not expired (bounded skew) and not living longer than five minutes. Throws a
 * ServiceTokenError otherwise.
 */
export async function verifyServiceToken(secret: string, token: string): Promise<ServiceIdentity> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, keyOf(secret), {
      algorithms: [ALGORITHM],
      audience: SERVICE_TOKEN_AUDIENCE,
      issuer: SERVICE_TOKEN_ISSUER,
      requiredClaims: ['sub', 'iat', 'exp'],
      clockTolerance: SERVICE_TOKEN_CLOCK_TOLERANCE_SECONDS,
    }));
  } catch (error) {
    throw new ServiceTokenError(describe(error));
  }
  const { sub, iat, exp } = payload as { sub?: unknown; iat: number; exp: number };
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 100)
    throw new ServiceTokenError('sub must name the calling service');
  if (exp - iat > SERVICE_TOKEN_MAX_TTL_SECONDS)
    throw new ServiceTokenError(`lifetime over ${SERVICE_TOKEN_MAX_TTL_SECONDS} s`);
  if (iat > Date.now() / 1000 + SERVICE_TOKEN_CLOCK_TOLERANCE_SECONDS)
    throw new ServiceTokenError('issued in the future');
  return { service: sub };
}

function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `claim ${error.claim} ${error.reason}`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  return 'malformed token';
}
