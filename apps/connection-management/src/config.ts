import { commonEnv, databaseEnv, secretEnv } from '@export/config';
import { z } from 'zod';
import { isValidEncryptionKey } from './credentials/credentials-cipher';

const flag = z
  .enum(['true', 'false', '1', '0'])
  .default('false')
  .transform((v) => v === 'true' || v === '1');

const ControlPlaneEnv = z.object({
  ...commonEnv,
  ...databaseEnv,
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
  AUTH_JWT_SECRET: secretEnv('auth-jwt-secret-for-local-development'),
  /** How often the outbox is drained when no commit kicked it (crash recovery, broker outages). */
  OUTBOX_POLL_MS: z.coerce.number().int().min(50).max(60000).default(1000),
});
export const ControlPlaneConfig = ControlPlaneEnv.refine(
  (c) => c.INTERNAL_AUTH_SECRET !== c.AUTH_JWT_SECRET,
  {
    path: ['INTERNAL_AUTH_SECRET'],
    message: 'must differ from AUTH_JWT_SECRET (service and user tokens never share a key)',
  },
).refine((c) => c.INTERNAL_PORT !== c.PORT, { path: ['INTERNAL_PORT'], message: 'must differ from PORT' });
export type ControlPlaneConfig = z.infer<typeof ControlPlaneConfig>;

export const CONTROL_PLANE_SECRETS = [
  'CREDENTIALS_ENCRYPTION_KEY',
  'AUTH_JWT_SECRET',
  'INTERNAL_AUTH_SECRET',
];
