import { JwtService } from '@nestjs/jwt';
import { CliError } from './api-client';

/** The development default of AUTH_JWT_SECRET in every service (libs/config secretEnv). */
export const DEV_JWT_SECRET = 'dev-only-auth-jwt-secret-for-local-development';
export const ROLES = ['admin', 'contributor', 'operator', 'service'] as const;

export interface TokenOptions {
  tenant?: string;
  role: string;
  sub: string;
  secret: string;
  expiresIn: string;
}

/** Mints a HS256 token the services accept: {sub, tid, role}; service tokens carry tid '*'. */
export function mintToken(o: TokenOptions): string {
  if (!(ROLES as readonly string[]).includes(o.role))
    throw new CliError(`--role must be one of ${ROLES.join(', ')}`);
  const tid = o.role === 'service' ? '*' : o.tenant;
  if (!tid) throw new CliError('--tenant is required (except for --role service)');
  if (!/^\d+[smhd]?$/.test(o.expiresIn)) throw new CliError('--expires-in must look like 300, 15m, 8h or 7d');
  const expiresIn = /^\d+$/.test(o.expiresIn)
    ? Number(o.expiresIn)
    : (o.expiresIn as `${number}${'s' | 'm' | 'h' | 'd'}`);
  return new JwtService({ secret: o.secret }).sign(
    { sub: o.sub, tid, role: o.role },
    { algorithm: 'HS256', expiresIn },
  );
}

/** The tenant of a token (read without verifying: the API verifies), to default `quota get`. */
export function tenantOfToken(token: string | undefined): string | undefined {
  const payload = token?.split('.')[1];
  if (!payload) return undefined;
  try {
    const tid = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { tid?: unknown }).tid;
    return typeof tid === 'string' && tid !== '*' ? tid : undefined;
  } catch {
    return undefined;
  }
}
