import { checkKafkaEnv, commonEnv, databaseEnv, kafkaEnv, secretEnv } from '@export/config';
import { z } from 'zod';
import { isValidEncryptionKey } from './credentials/credentials-cipher';

export const ControlPlaneConfig = z.object({
  ...commonEnv,
  ...kafkaEnv,
  ...databaseEnv,
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
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
}).superRefine(checkKafkaEnv);
export type ControlPlaneConfig = z.infer<typeof ControlPlaneConfig>;

export const CONTROL_PLANE_SECRETS = ['CREDENTIALS_ENCRYPTION_KEY', 'AUTH_JWT_SECRET'];
