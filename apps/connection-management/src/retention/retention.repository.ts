import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL } from '@export/database';

export interface PurgeOptions {
  retentionDays: number;
  /** Rows per DELETE statement. */
  batchSize: number;
  signal?: AbortSignal;
}

export interface PurgeResult {
  runs: number;
  rejections: number;
  /** Another instance held the purge lock: nothing was done this round. */
  skipped: boolean;
}

/**
 * Removes run history past its retention period. Deliberately across tenants (an operations job, not a
 * tenant's request), so it takes no TenantId: it only ever deletes ended runs by age.
 */
@Injectable()
export class RetentionRepository {
  /** Advisory lock key of the control plane's purge ("cp-purge"): one instance purges at a time. */
  static readonly LOCK_KEY = 0x63702d70;

  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /**
   * Deletes runs that ended more than `retentionDays` ago with their rejections, `batchSize` rows per
   * statement (each statement its own short transaction: no long locks, vacuum can keep up). Runs still
   * queued or running are never touched, however old. Returns at once (skipped) while another instance
   * holds the purge lock; the session lock dies with the connection, so a crashed purger blocks nobody.
   */
  async purge({ retentionDays, batchSize, signal }: PurgeOptions): Promise<PurgeResult> {
    const client = await this.pool.connect();
    const result: PurgeResult = { runs: 0, rejections: 0, skipped: false };
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
        RetentionRepository.LOCK_KEY,
      ]);
      if (!rows[0].locked) return { ...result, skipped: true };
      try {
        for (;;) {
          if (signal?.aborted) break;
          const due = await client.query<{ id: string }>(
            `SELECT id FROM runs
              WHERE finished_at < now() - $1 * interval '1 day'
                AND status IN ('succeeded', 'failed', 'skipped', 'canceled')
              ORDER BY finished_at LIMIT $2`,
            [retentionDays, batchSize],
          );
          if (due.rows.length === 0) break;
          const ids = due.rows.map((r) => r.id);
          for (;;) {
            const deleted = await client.query(
              `DELETE FROM rejections WHERE ctid = ANY(ARRAY(
                 SELECT ctid FROM rejections WHERE run_id = ANY($1::uuid[]) LIMIT $2))`,
              [ids, batchSize],
            );
            result.rejections += deleted.rowCount ?? 0;
            if ((deleted.rowCount ?? 0) < batchSize) break;
          }
          // rejection_events (a row per 500 rejections) go with their run (ON DELETE CASCADE).
          const runs = await client.query(`DELETE FROM runs WHERE id = ANY($1::uuid[])`, [ids]);
          result.runs += runs.rowCount ?? 0;
        }
        // Idempotency keys are kept 24 h; forgotten lazily per export, swept here for exports never used again.
        await client.query(`DELETE FROM run_request_keys WHERE created_at <= now() - interval '24 hours'`);
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [RetentionRepository.LOCK_KEY]);
      }
      return result;
    } finally {
      client.release();
    }
  }
}
