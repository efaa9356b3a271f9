import { databaseEnv, secretEnv, serviceConfig } from '@export/config';
import { migrationEnv } from '@export/database';
import { z } from 'zod';

const ms = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

export const DeliveryConfig = serviceConfig('autopilot-delivery', 3003, {
  ...databaseEnv,
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  /** The control plane's internal listener (run confirmation, credentials). */
  CONTROL_PLANE_URL: z.url().default('http://127.0.0.1:3100'),
  /** Signs the service tokens of calls to the control plane (the control plane's INTERNAL_AUTH_SECRET). */
  INTERNAL_AUTH_SECRET: secretEnv('internal-auth-secret-for-local-development'),
  CONTROL_PLANE_TIMEOUT_MS: ms(5_000),
  /** How long a run the control plane confirmed active is trusted without asking again. */
  RUN_CONFIRMATION_CACHE_MS: ms(60_000),
  AUTOPILOT_BASE_URL: z.url().default('https://api2.autopilothq.com/v1'),
  /** Requests per second per API key, shared by all instances; 0 = no pacing (simulator benchmarks only). */
  AUTOPILOT_RATE_LIMIT_RPS: z.coerce.number().min(0).default(5),
  /**
   * Added to the second a call holds in the key's sliding window after its answer (calls hold it from their
   * admission until one second after their answer, which alone keeps them apart whatever the jitter); for a
   * destination that counts by a clock behind ours. Each 429 widens it by 5 ms (up to +50 ms) for 10 minutes.
   */
  AUTOPILOT_PACING_MARGIN_MS: z.coerce.number().min(0).default(0),
  AUTOPILOT_TIMEOUT_MS: ms(10_000),
  /** A 429's Retry-After above this is taken as this (a broken or hostile header cannot park a key for days). */
  AUTOPILOT_MAX_RETRY_AFTER_MS: ms(60_000),
  /** The most one run may wait on 429s in all before it fails RATE_LIMITED_TOO_LONG. */
  DELIVERY_MAX_RATE_LIMITED_MS: ms(15 * 60_000),
  /** Attempts per call on 5xx / timeouts / connection errors before the run fails DESTINATION_UNAVAILABLE. */
  DELIVERY_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(10),
  DELIVERY_RETRY_INITIAL_MS: ms(500),
  DELIVERY_RETRY_MAX_MS: ms(30_000),
  /** Runs one instance delivers at once (round-robin through the per-key limiter). */
  DELIVERY_MAX_RUNS: z.coerce.number().int().min(1).default(16),
  /** Bulk calls in flight per run. */
  DELIVERY_CALLS_PER_RUN: z.coerce.number().int().min(1).default(4),
  /**
   * A run's lease: another instance (or the restarted one) takes it over this long after its holder stopped
   * renewing it, so it bounds the pause of a run after a crash. The holder renews every quarter of it; a
   * holder stalled longer than ~3/4 of it (GC pause, starved CPU, database unreachable) may be taken over:
   * its next ledger write finds the lease gone and it stops (fencing), so that costs at most the calls it had
   * in flight being repeated, never a contact counted twice.
   */
  DELIVERY_LEASE_MS: z.coerce.number().int().min(1000).default(10_000),
  DELIVERY_POLL_MS: ms(250),
  /** How often the backlog gauges (/metrics) are read from the ledger. */
  DELIVERY_BACKLOG_REFRESH_MS: z.coerce.number().int().min(100).default(10_000),
  CREDENTIALS_CACHE_MS: ms(30_000),
  /** MIGRATE_ON_START (default true) and MIGRATION_LOCK_TIMEOUT_MS: see `node main.js migrate`. */
  ...migrationEnv,
  /** Days an ended run stays in the ledger (its counts, batches) before the purge removes it. */
  RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** How often runs older than RETENTION_DAYS are purged (one instance per round, advisory lock). */
  RETENTION_PURGE_INTERVAL_MS: z.coerce.number().int().min(1000).default(60 * 60_000),
  /** How often the staged contacts of runs that ended are released (the export's state kept, the rest deleted). */
  RETENTION_SWEEP_MS: z.coerce.number().int().min(100).default(5_000),
  /** Rows deleted per statement by the release and the purge. */
  RETENTION_PURGE_BATCH: z.coerce.number().int().min(1).max(100_000).default(5_000),
});
export type DeliveryConfig = z.infer<typeof DeliveryConfig>;

export const SECRET_NAMES = ['INTERNAL_AUTH_SECRET'];
