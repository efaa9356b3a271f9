import { checkKafkaEnv, commonEnv, databaseEnv, kafkaEnv, resolveSnapshotRoot, secretEnv, snapshotEnv } from '@export/config';
import { migrationEnv } from '@export/database';
import { join } from 'node:path';
import { z } from 'zod';
import { isValidEncryptionKey } from './credentials/credentials-cipher';

/** A JWT claim name: tenant and role may sit under namespaced names (`https://example.com/tid`). */
const claimName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[!-~]+$/, 'must be printable ASCII without spaces');

const flag = z
  .enum(['true', 'false', '1', '0'])
  .default('false')
  .transform((v) => v === 'true' || v === '1');

const ControlPlaneEnv = z.object({
  ...commonEnv,
  ...kafkaEnv,
  ...databaseEnv,
  /** MIGRATE_ON_START (default true) and MIGRATION_LOCK_TIMEOUT_MS: see `node main.js migrate`. */
  ...migrationEnv,
  /** `<SNAPSHOT_ROOT>/<tenantId>/`: the only folder a tenant's segment-refreshed events may name (checked lexically). */
  ...snapshotEnv,
  /** An event whose occurredAt is further in the future than this is dead-lettered (EVENT_FROM_THE_FUTURE). */
  EVENT_MAX_FUTURE_SKEW_MS: z.coerce.number().int().min(0).max(24 * 60 * 60 * 1000).default(5 * 60 * 1000),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  /** Second listener, for service-to-service calls (/internal/*) and, when so configured, /metrics and /docs. */
  INTERNAL_PORT: z.coerce.number().int().min(1).max(65535).default(3100),
  /** Loopback by default: exposing the internal listener is a deliberate act (compose and Kubernetes set 0.0.0.0). */
  INTERNAL_HOST: z.string().min(1).default('127.0.0.1'),
  /** HS256 secret of service tokens (aud `internal`); must differ from AUTH_JWT_SECRET. */
  INTERNAL_AUTH_SECRET: secretEnv('internal-auth-secret-for-local-development'),
  /** Serve /metrics only on the internal listener (the public port answers 404). */
  METRICS_ON_INTERNAL: flag,
  /** Serve /docs and /docs-json only on the internal listener (the public port answers 404). */
  DOCS_ON_INTERNAL: flag,
  /** Group of the segment-refreshed consumer; the run-events consumer uses `<group>.run-events`. */
  KAFKA_GROUP_ID: z.string().min(1).default('connection-management'),
  AUTOPILOT_BASE_URL: z.url().default('https://api2.autopilothq.com/v1'),
  /** How long the key check against Autopilot's /account may take before the API answers 502. */
  AUTOPILOT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60000).default(10000),
  /** 32 bytes as 64 hex characters or base64 (AES-256-GCM key for stored API keys). */
  CREDENTIALS_ENCRYPTION_KEY: secretEnv('credentials-encryption-key-for-local-development').refine(
    isValidEncryptionKey,
    'must be 32 bytes, written as 64 hex characters or as base64',
  ),
  /** HS256 secret of user tokens when no OpenID Connect issuer is set (development), and of service tokens. */
  AUTH_JWT_SECRET: secretEnv('auth-jwt-secret-for-local-development'),
  /** OpenID Connect issuer of user tokens (exact `iss`). Setting it switches user tokens from HS256 to RS256/ES256. */
  AUTH_ISSUER: z.url().optional(),
  /** The API's identifier at the issuer: user tokens must carry it in `aud`. Required with AUTH_ISSUER. */
  AUTH_AUDIENCE: z.string().min(1).max(500).optional(),
  /** The issuer's key set; unset: `jwks_uri` of the issuer's /.well-known/openid-configuration. */
  AUTH_JWKS_URL: z.url().optional(),
  /** A token whose kid is not in the cached key set refetches the set at most this often. */
  AUTH_JWKS_COOLDOWN_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  /** Clock difference tolerated on `exp`, `nbf` and `iat`. */
  AUTH_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  /** When set, the token header's `typ` must equal it (`at+jwt`, RFC 9068): ID tokens are then never taken. */
  AUTH_TOKEN_TYPE: z.string().min(1).max(100).optional(),
  AUTH_TENANT_CLAIM: claimName.default('tid'),
  AUTH_ROLE_CLAIM: claimName.default('role'),
  /** How often the outbox is drained when no commit kicked it (crash recovery, broker outages). */
  OUTBOX_POLL_MS: z.coerce.number().int().min(50).max(60000).default(1000),
  /** Rounds an outbox message may fail (broker outages not counted) before it is set aside and reported. */
  OUTBOX_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(1000).default(10),
  /** Days an ended run is kept with its rejections before the purge job removes it. */
  RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** How often the purge job looks for runs past RETENTION_DAYS (one instance purges, under an advisory lock). */
  RETENTION_PURGE_INTERVAL_MS: z.coerce.number().int().min(1000).max(24 * 60 * 60 * 1000).default(60 * 60 * 1000),
  /** Rows deleted per statement by the purge job (short transactions, no long locks). */
  RETENTION_PURGE_BATCH: z.coerce.number().int().min(1).max(100_000).default(5000),
  /** Rejected rows stored per run (with their reasons); further rejections are only counted in `rejected`. */
  MAX_REJECTIONS_PER_RUN: z.coerce.number().int().min(0).max(10_000_000).default(10_000),
  /** The web console's built files, served at `/` (default: `dist/apps/console`, beside this service's build). */
  CONSOLE_DIR: z.string().min(1).default(join(__dirname, '..', 'console')),
  /** The console's client id at the OpenID Connect issuer (authorization code + PKCE); needed with AUTH_ISSUER. */
  CONSOLE_OIDC_CLIENT_ID: z.string().min(1).max(500).optional(),
  /** Scopes the console asks the issuer for. */
  CONSOLE_OIDC_SCOPE: z.string().min(1).max(1000).default('openid profile'),
});

/** Settings that only make sense together; each problem names the variable to fix. */
export const ControlPlaneConfig = ControlPlaneEnv.superRefine((env, ctx) => {
  const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (env.AUTH_JWKS_URL && !env.AUTH_ISSUER) problem('AUTH_ISSUER', 'is required when AUTH_JWKS_URL is set');
  if (env.AUTH_ISSUER && !env.AUTH_AUDIENCE) problem('AUTH_AUDIENCE', 'is required when AUTH_ISSUER is set');
  if (env.INTERNAL_AUTH_SECRET === env.AUTH_JWT_SECRET)
    problem('INTERNAL_AUTH_SECRET', 'must differ from AUTH_JWT_SECRET (service and user tokens never share a key)');
  if (env.INTERNAL_PORT === env.PORT) problem('INTERNAL_PORT', 'must differ from PORT');
  if (env.NODE_ENV === 'production') {
    // Keys fetched over plain HTTP could be swapped on the way: every token would then be forgeable.
    for (const name of ['AUTH_ISSUER', 'AUTH_JWKS_URL'] as const) {
      const value = env[name];
      if (value && !value.startsWith('https://')) problem(name, 'must be an https:// URL in production');
    }
  }
})
  .superRefine(checkKafkaEnv)
  .transform(resolveSnapshotRoot);
export type ControlPlaneConfig = z.infer<typeof ControlPlaneConfig>;

export const CONTROL_PLANE_SECRETS = [
  'CREDENTIALS_ENCRYPTION_KEY',
  'AUTH_JWT_SECRET',
  'INTERNAL_AUTH_SECRET',
];
