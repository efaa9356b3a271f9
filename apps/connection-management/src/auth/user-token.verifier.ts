import { AppError } from '@export/errors';
import { Inject, Injectable } from '@nestjs/common';
import {
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type FlattenedJWSInput,
  type JWSHeaderParameters,
  type JWTPayload,
  type JWTVerifyOptions,
} from 'jose';
import { z } from 'zod';
import { APP_CONFIG } from '../app-tokens';
import type { ControlPlaneConfig } from '../config';

/** Asymmetric algorithms only: a public key can never be taken for an HMAC secret (no HS/RS confusion). */
export const OIDC_ALGORITHMS = ['RS256', 'ES256'];
const DEV_ALGORITHMS = ['HS256'];
const FETCH_TIMEOUT_MS = 5000;
/** What the key set answers when the token names a key or algorithm it has not: the token's fault. */
const TOKEN_FAULTS = [errors.JWKSNoMatchingKey, errors.JWKSMultipleMatchingKeys, errors.JOSENotSupported];

type UserTokenSettings = Pick<
  ControlPlaneConfig,
  | 'NODE_ENV'
  | 'AUTH_JWT_SECRET'
  | 'AUTH_ISSUER'
  | 'AUTH_AUDIENCE'
  | 'AUTH_JWKS_URL'
  | 'AUTH_JWKS_COOLDOWN_SECONDS'
  | 'AUTH_CLOCK_SKEW_SECONDS'
  | 'AUTH_TOKEN_TYPE'
>;

type KeySet = ReturnType<typeof createRemoteJWKSet>;
type KeyResolver = (header: JWSHeaderParameters, token: FlattenedJWSInput) => ReturnType<KeySet>;

/** The issuer's signing keys could not be fetched: the token is not at fault, so this is no 401. */
class KeysUnavailableError extends Error {}

const Discovery = z.object({ issuer: z.string(), jwks_uri: z.url() });

/**
 * Verifies user tokens with the one method the configuration selects: an OpenID Connect issuer's keys
 * (RS256/ES256, `iss` and `aud` required) when AUTH_ISSUER is set, otherwise HS256 with AUTH_JWT_SECRET.
 * Every token needs `exp`; `exp`/`nbf`/`iat` are checked with AUTH_CLOCK_SKEW_SECONDS of tolerance.
 * Failures are 401s whose message says what is wrong and never contains the token.
 */
@Injectable()
export class UserTokenVerifier {
  private readonly options: JWTVerifyOptions;
  private readonly secret?: Uint8Array;
  private remoteKeys?: Promise<KeySet>;

  constructor(@Inject(APP_CONFIG) private readonly settings: UserTokenSettings) {
    this.options = {
      algorithms: settings.AUTH_ISSUER ? OIDC_ALGORITHMS : DEV_ALGORITHMS,
      issuer: settings.AUTH_ISSUER,
      audience: settings.AUTH_AUDIENCE,
      clockTolerance: settings.AUTH_CLOCK_SKEW_SECONDS,
      requiredClaims: ['exp'],
      typ: settings.AUTH_TOKEN_TYPE,
    };
    if (!settings.AUTH_ISSUER) this.secret = new TextEncoder().encode(settings.AUTH_JWT_SECRET);
  }

  get mode(): 'oidc' | 'hs256' {
    return this.settings.AUTH_ISSUER ? 'oidc' : 'hs256';
  }

  /** The verified payload of `token`, or an AppError: 401 for any fault of the token, 502 when keys cannot be fetched. */
  async verify(token: string): Promise<JWTPayload> {
    try {
      const { payload } = this.secret
        ? await jwtVerify(token, this.secret, this.options)
        : await jwtVerify(token, this.keyResolver(), this.options);
      return payload;
    } catch (error) {
      throw refusal(error);
    }
  }

  private keyResolver(): KeyResolver {
    return async (header, token) => {
      const keys = await this.remoteKeySet();
      try {
        return await keys(header, token);
      } catch (error) {
        if (TOKEN_FAULTS.some((fault) => error instanceof fault)) throw error;
        throw new KeysUnavailableError('key set fetch failed', { cause: error });
      }
    };
  }

  /** jose caches the set, and refetches it (at most once per cooldown) when a token names an unknown kid. */
  private remoteKeySet(): Promise<KeySet> {
    if (!this.remoteKeys) {
      const keys = this.jwksUrl().then((url) =>
        createRemoteJWKSet(url, {
          cooldownDuration: this.settings.AUTH_JWKS_COOLDOWN_SECONDS * 1000,
          timeoutDuration: FETCH_TIMEOUT_MS,
        }),
      );
      // A failed discovery is retried by the next request, not remembered.
      keys.catch(() => (this.remoteKeys = undefined));
      this.remoteKeys = keys;
    }
    return this.remoteKeys;
  }

  private async jwksUrl(): Promise<URL> {
    const { AUTH_JWKS_URL, AUTH_ISSUER, NODE_ENV } = this.settings;
    if (AUTH_JWKS_URL) return new URL(AUTH_JWKS_URL);
    const issuer = AUTH_ISSUER as string;
    const where = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    let document: z.infer<typeof Discovery>;
    try {
      const res = await fetch(where, { redirect: 'error', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      if (!res.ok) throw new Error(`discovery answered ${res.status}`);
      document = Discovery.parse(await res.json());
    } catch (error) {
      throw new KeysUnavailableError('issuer discovery failed', { cause: error });
    }
    // OpenID Connect Discovery 1.0, section 4.3: the document must name exactly the issuer it was fetched for.
    if (document.issuer !== issuer) throw new KeysUnavailableError('discovery names another issuer');
    if (NODE_ENV === 'production' && !document.jwks_uri.startsWith('https://'))
      throw new KeysUnavailableError('discovered jwks_uri is not https');
    return new URL(document.jwks_uri);
  }
}

function refusal(error: unknown): AppError {
  if (error instanceof KeysUnavailableError)
    return new AppError(
      'upstream-unavailable',
      "The token issuer's signing keys could not be fetched",
      {},
      { cause: error },
    );
  const unauthenticated = (message: string) => new AppError('unauthenticated', message);
  if (error instanceof errors.JWTExpired) return unauthenticated('Token expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'exp' && error.reason === 'missing')
      return unauthenticated('Token has no expiry (exp)');
    if (error.claim === 'typ') return unauthenticated('Token type is not accepted (typ)');
    if (error.claim === 'aud') return unauthenticated('Token audience is not this API');
    if (error.claim === 'iss') return unauthenticated('Token issuer is not trusted');
    if (error.claim === 'nbf' || error.claim === 'iat') return unauthenticated('Token is not valid yet');
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return unauthenticated('Token signing algorithm is not accepted');
  if (error instanceof errors.JWKSNoMatchingKey)
    return unauthenticated('Token is signed with an unknown key');
  return unauthenticated('Invalid or expired token');
}
