import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { PG_POOL } from '../database/database.module';

const ENDED = `('succeeded', 'failed', 'skipped', 'canceled')`;

/** Advisory lock namespace (two-key form) of the ledger's retention work: ("dl", run) and ("dl", 0). */
const LOCK_NAMESPACE = 0x646c;
const PURGE_LOCK = 0;

export interface ReleaseResult {
  /** Contacts deleted from the ledger. */
  deleted: number;
  /** The export's state was replaced by this run's delivered contacts. */
  seeded: boolean;
}

export interface LedgerPurgeResult {
  runs: number;
  contacts: number;
  skipped: boolean;
}

/**
 * Retention of the delivery ledger. Works only on runs that have ended (or, for the purge, staging runs
 * abandoned for longer than the retention period): a run in `ready`/`delivering`, leased or with an expired
 * lease after a crash, keeps every pending contact, so whoever takes it over finds them.
 * Deliberately across tenants (an operations job): it selects runs by state and age, never by request.
 */
@Injectable()
export class LedgerRetentionRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** Ended runs whose staged contacts are still in the ledger, oldest end first. */
  async endedWithContacts(limit: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ run_id: string }>(
      `SELECT run_id FROM delivery.runs WHERE contacts_purged_at IS NULL AND state IN ${ENDED}
        ORDER BY finished_at NULLS FIRST LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.run_id);
  }

  /**
   * Releases an ended run's contacts: if it succeeded and is its export's newest succeeded run, its delivered
   * contacts (e-mail, contact hash, segments) become the export's state (one transaction); then its staged
   * contacts are deleted `batchSize` at a time (short statements: no long locks, the space is reused by
   * later runs once vacuumed) and the run is marked purged. Every step is idempotent, so a crash in between
   * is finished by the next sweep; one instance per run at a time (advisory lock), others skip it.
   */
  async releaseRun(runId: string, batchSize: number): Promise<ReleaseResult | null> {
    return this.withLock(runId, async (client) => {
      const seeded = await this.seedExportState(client, runId);
      let deleted = 0;
      for (let batch = await this.deleteContacts(client, runId, batchSize); batch > 0; ) {
        deleted += batch;
        batch = await this.deleteContacts(client, runId, batchSize);
      }
      await client.query(
        `UPDATE delivery.runs SET contacts_purged_at = now() WHERE run_id = $1 AND state IN ${ENDED}`,
        [runId],
      );
      return { deleted, seeded };
    });
  }

  /**
   * Makes the space of deleted contacts reusable at once (plain VACUUM: no exclusive lock, reads and writes
   * go on; SKIP_LOCKED: an instance already vacuuming is enough), so the table stays at about the size of
   * the runs in flight whatever autovacuum's settings or timing (it is off on the project's machine).
   */
  async vacuumContacts(): Promise<void> {
    await this.pool.query('VACUUM (SKIP_LOCKED) delivery.run_contacts, delivery.export_contacts');
  }

  /**
   * Deletes runs (with their staged batches) that ended more than `retentionDays` ago and whose contacts
   * were released (so an export's state is always seeded first), and staging runs created that long ago that never got all their batches. One instance at a time.
   */
  async purge(retentionDays: number, batchSize: number, signal?: AbortSignal): Promise<LedgerPurgeResult> {
    const result: LedgerPurgeResult = { runs: 0, contacts: 0, skipped: false };
    const done = await this.withLock(PURGE_LOCK, async (client) => {
      for (;;) {
        if (signal?.aborted) return;
        const { rows } = await client.query<{ run_id: string }>(
          `(SELECT run_id FROM delivery.runs WHERE finished_at < now() - $1 * interval '1 day' AND state IN ${ENDED}
               AND contacts_purged_at IS NOT NULL
             ORDER BY finished_at LIMIT $2)
           UNION ALL
           (SELECT run_id FROM delivery.runs WHERE state = 'staging' AND created_at < now() - $1 * interval '1 day'
             ORDER BY created_at LIMIT $2)`,
          [retentionDays, Math.max(1, Math.floor(batchSize / 100))],
        );
        if (rows.length === 0) return;
        for (const { run_id: runId } of rows) {
          for (let batch = await this.deleteContacts(client, runId, batchSize); batch > 0; ) {
            result.contacts += batch;
            batch = await this.deleteContacts(client, runId, batchSize);
          }
          await client.query('DELETE FROM delivery.staged_batches WHERE run_id = $1', [runId]);
          // A staging run that came back to life meanwhile (its batches arrived after all) is kept.
          const removed = await client.query(
            `DELETE FROM delivery.runs WHERE run_id = $1 AND (state IN ${ENDED} OR state = 'staging')`,
            [runId],
          );
          result.runs += removed.rowCount ?? 0;
        }
      }
    });
    return done === null ? { ...result, skipped: true } : result;
  }

  /**
   * Deletes up to `batchSize` staged contacts of the run; returns how many. By row address (a TID scan),
   * so the plan stays linear whatever the statistics say: `email = ANY(<5,000 e-mails>)` over a table the
   * planner believes empty becomes a sequential scan comparing every row with every e-mail.
   */
  private async deleteContacts(client: PoolClient, runId: string, batchSize: number): Promise<number> {
    const result = await client.query(
      `DELETE FROM delivery.run_contacts WHERE ctid = ANY(ARRAY(
         SELECT ctid FROM delivery.run_contacts WHERE run_id = $1 LIMIT $2))`,
      [runId, batchSize],
    );
    return result.rowCount ?? 0;
  }

  /**
   * Seeds the export's state from a succeeded run when it is the export's newest succeeded run (a run decided
   * before incremental sync); for an export that has its destination state, drops that superseded state.
   */
  private async seedExportState(client: PoolClient, runId: string): Promise<boolean> {
    await client.query('BEGIN');
    try {
      const { rows } = await client.query<{
        tenant_id: string;
        export_id: string | null;
        state: string;
        finished_at: Date;
        dry_run: boolean;
      }>(
        `SELECT tenant_id, spec->>'exportId' AS export_id, state, COALESCE(finished_at, now()) AS finished_at,
                COALESCE((spec->>'dryRun')::boolean, false) AS dry_run
           FROM delivery.runs WHERE run_id = $1 AND contacts_purged_at IS NULL AND state IN ${ENDED}`,
        [runId],
      );
      const run = rows[0];
      // A dry run delivered nothing: it never stands for what Autopilot holds.
      if (!run || run.state !== 'succeeded' || !run.export_id || run.dry_run) {
        await client.query('COMMIT');
        return false;
      }
      // Since incremental sync, runs write the export's destination state as they send: once an export has
      // it, what its last run delivered here is superseded (and personal data is not kept twice).
      const superseded = await client.query(
        'SELECT 1 FROM delivery.destination_exports WHERE tenant_id = $1 AND export_id = $2 LIMIT 1',
        [run.tenant_id, run.export_id],
      );
      if ((superseded.rowCount ?? 0) > 0) {
        await client.query('DELETE FROM delivery.export_contacts WHERE tenant_id = $1 AND export_id = $2', [
          run.tenant_id,
          run.export_id,
        ]);
        await client.query('DELETE FROM delivery.export_state WHERE tenant_id = $1 AND export_id = $2', [
          run.tenant_id,
          run.export_id,
        ]);
        await client.query('COMMIT');
        return false;
      }
      const sent = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM delivery.run_contacts WHERE run_id = $1 AND status = 'sent'`,
        [runId],
      );
      // Runs of one export end in order, but sweeps may not: an older run never replaces a newer state.
      const newest = await client.query(
        `INSERT INTO delivery.export_state (tenant_id, export_id, run_id, run_finished_at, contacts)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, export_id) DO UPDATE SET run_id = EXCLUDED.run_id,
           run_finished_at = EXCLUDED.run_finished_at, contacts = EXCLUDED.contacts, updated_at = now()
         WHERE export_state.run_finished_at < EXCLUDED.run_finished_at`,
        [run.tenant_id, run.export_id, runId, run.finished_at, sent.rows[0].n],
      );
      if ((newest.rowCount ?? 0) === 0) {
        await client.query('COMMIT');
        return false;
      }
      // Two linear passes whatever the planner believes (statistics may be stale): every contact the run
      // delivered is written with the run's id (one index probe each), then the export's rows of other runs
      // (contacts that left) are deleted. No anti-join whose plan could turn quadratic.
      await client.query(
        `INSERT INTO delivery.export_contacts (tenant_id, export_id, email, contact_hash, segment_ids, run_id)
         SELECT $1, $2, email, md5(contact::text), segment_ids, $3 FROM delivery.run_contacts
          WHERE run_id = $3 AND status = 'sent'
         ON CONFLICT (tenant_id, export_id, email) DO UPDATE
           SET contact_hash = EXCLUDED.contact_hash, segment_ids = EXCLUDED.segment_ids, run_id = EXCLUDED.run_id`,
        [run.tenant_id, run.export_id, runId],
      );
      await client.query(
        `DELETE FROM delivery.export_contacts WHERE tenant_id = $1 AND export_id = $2 AND run_id <> $3`,
        [run.tenant_id, run.export_id, runId],
      );
      await client.query('COMMIT');
      return true;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /**
   * Runs `work` on one connection holding the session advisory lock ("dl", key of the run or 0); null when
   * another instance holds it. The lock dies with the connection: a crashed instance blocks nobody.
   */
  private async withLock<T>(key: string | number, work: (client: PoolClient) => Promise<T>): Promise<T | null> {
    const client = await this.pool.connect();
    const keySql = typeof key === 'number' ? '$2::int' : 'hashtext($2)';
    try {
      const { rows } = await client.query<{ locked: boolean }>(
        `SELECT pg_try_advisory_lock($1, ${keySql}) AS locked`,
        [LOCK_NAMESPACE, key],
      );
      if (!rows[0].locked) return null;
      try {
        return await work(client);
      } finally {
        await client.query(`SELECT pg_advisory_unlock($1, ${keySql})`, [LOCK_NAMESPACE, key]);
      }
    } finally {
      client.release();
    }
  }
}
