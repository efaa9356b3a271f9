import { decodeJwt, SignJWT } from 'jose';
import { CliError } from './api-client';

/** The development default of AUTH_JWT_SECRET in every service (libs/config secretEnv). */
export const DEV_JWT_SECRET = 'dev-only-auth-jwt-secret-for-local-development';
/** User roles only: service credentials are never minted by the CLI. */
export const ROLES = ['admin', 'contributor', 'operator'] as const;

export interface TokenOptions {
  tenant?: string;
  role: string;
  sub: string;
  secret: string;
  expiresIn: string;
  audience?: string;
}

/**
 * Mints a development user token the control plane accepts in development (HS256 with AUTH_JWT_SECRET):
 * {sub, tid, role, iat, exp[, aud]}. Only with NODE_ENV=development set explicitly: elsewhere user tokens
 * come from the identity provider, and service credentials never come from here.
 */
export async function mintToken(o: TokenOptions, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env['NODE_ENV'] !== 'development')
    throw new CliError(
      '`token` mints development tokens only and needs NODE_ENV=development; ' +
        'otherwise pass your access token from the identity provider with --token or EXPORT_API_TOKEN',
    );
  if (o.role === 'service')
    throw new CliError('`token` never mints service credentials: services have their own credential');
  if (!(ROLES as readonly string[]).includes(o.role))
    throw new CliError(`--role must be one of ${ROLES.join(', ')}`);
  if (!o.tenant) throw new CliError('--tenant is required');
  const lifetime = /^(\d+)([smhd]?)$/.exec(o.expiresIn);
  const unit: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };
  const seconds = lifetime ? Number(lifetime[1]) * (unit[lifetime[2]] ?? 1) : 0;
  if (!seconds) throw new CliError('--expires-in must look like 300, 15m, 8h or 7d');
  const jwt = new SignJWT({ tid: o.tenant, role: o.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(o.sub)
    .setIssuedAt()
    .setExpirationTime(`${seconds}s`);
  if (o.audience) jwt.setAudience(o.audience);
  return jwt.sign(new TextEncoder().encode(o.secret));
}

/** The tenant of a token (read without verifying: the API verifies), to default `quota get`. */
export function tenantOfToken(token: string | undefined): string | undefined {
  if (!token) return undefined;
  try {
    const tid = decodeJwt(token)['tid'];
    return typeof tid === 'string' && tid !== '*' ? tid : undefined;
  } catch {
    return undefined;
  }
}
