import { Inject, Injectable } from '@nestjs/common';
import { MAX_PROFILES_PER_RUN, type MappedContact, type RunSpec } from '@export/contracts';
import type { Pool, PoolClient } from 'pg';
import { inTransaction, PG_POOL } from '@export/database';

export type StageOutcome = 'staged' | 'already-staged' | 'run-closed';

/** Which part of its extracted batch a mapped batch is (contacts-mapped.v1 `part`/`parts`). */
export interface BatchPart {
  part: number;
  parts: number;
}
/** A batch mapping did not split (and every batch written before parts existed). */
export const WHOLE_BATCH: BatchPart = { part: 0, parts: 1 };

/** One contact per normalised e-mail within a batch, merged as the ledger merges across batches. */
export interface StagedContact {
  email: string;
  seq: number;
  contact: MappedContact['contact'];
  segmentIds: string[];
}

/** Merges duplicates inside one batch (a row is updated once per statement): smallest seq wins, segments unite. */
export function mergeBatch(contacts: MappedContact[]): StagedContact[] {
  const byEmail = new Map<string, StagedContact>();
  for (const c of contacts) {
    const existing = byEmail.get(c.email);
    if (!existing) {
      byEmail.set(c.email, { email: c.email, seq: c.seq, contact: c.contact, segmentIds: [c.segmentId] });
      continue;
    }
    if (!existing.segmentIds.includes(c.segmentId)) existing.segmentIds.push(c.segmentId);
    if (c.seq < existing.seq) {
      existing.seq = c.seq;
      existing.contact = c.contact;
    }
  }
  return [...byEmail.values()];
}

/** Thrown inside a staging transaction to undo it: the run was closed to further batches. */
class RunClosed extends Error {}

/**
 * The staging half of the ledger: each batch (each part of a split batch) once, in one transaction, so a
 * redelivered batch or part changes nothing. Its contacts are written before the run row is locked (batches of
 * a run stage side by side); the counters, the parts' count and the run's `end` change only under that lock, so
 * they never interleave; a batch counts towards `end.batches` once all its parts are staged.
 */
@Injectable()
export class StagingRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async stageBatch(
    run: RunSpec,
    batchSeq: number,
    contacts: MappedContact[],
    correlationId: string,
    { part, parts }: BatchPart = WHOLE_BATCH,
  ): Promise<StageOutcome> {
    try {
      return await inTransaction(this.pool, async (tx) => {
        // The batch's rows first, without the run's lock: batches of one run (3 partitions at once) write their
        // contacts side by side and queue on the run row only for its counters, at the end.
        const inserted = await tx.query(
          `INSERT INTO delivery.staged_batches (run_id, batch_seq, part, parts, contacts) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT DO NOTHING`,
          [run.runId, batchSeq, part, parts, contacts.length],
        );
        if (inserted.rowCount === 0) {
          const { state, stagingStopped } = await this.lockRun(tx, run, correlationId);
          return (state !== 'staging' && state !== 'ready') || stagingStopped ? 'run-closed' : 'already-staged';
        }
        const added = await this.upsertContacts(tx, run.runId, mergeBatch(contacts));
        const { state, stagingStopped } = await this.lockRun(tx, run, correlationId);
        // A closed run takes nothing: undo the rows written above.
        if ((state !== 'staging' && state !== 'ready') || stagingStopped) throw new RunClosed();
        // The part that completes its batch counts the batch, once: the run row is locked now, and this statement
        // sees every part committed before (a part written concurrently commits before or after this lock).
        let batchComplete = 1;
        if (parts > 1) {
          const staged = await tx.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM delivery.staged_batches WHERE run_id = $1 AND batch_seq = $2`,
            [run.runId, batchSeq],
          );
          batchComplete = staged.rows[0].n === parts ? 1 : 0;
        }
        // A skip run over the profile limit is certain to be skipped: stop staging it and let it be decided
        // now (a 1M-row segment is not staged whole only to be skipped); later batches are not staged.
        const skipLimit = run.limitPolicy === 'skip' ? Math.min(run.profileLimit, MAX_PROFILES_PER_RUN) : null;
        await tx.query(
          `UPDATE delivery.runs SET staged_batches = staged_batches + $5, mapped = mapped + $2,
             unique_staged = unique_staged + $3,
             staging_stopped = ($4::int IS NOT NULL AND unique_staged + $3 > $4::int),
             state = CASE WHEN (expected_batches IS NOT NULL AND staged_batches + $5 >= expected_batches)
                            OR ($4::int IS NOT NULL AND unique_staged + $3 > $4::int) THEN 'ready' ELSE state END,
             ready_at = CASE WHEN (expected_batches IS NOT NULL AND staged_batches + $5 >= expected_batches)
                            OR ($4::int IS NOT NULL AND unique_staged + $3 > $4::int) THEN COALESCE(ready_at, now()) ELSE ready_at END
           WHERE run_id = $1`,
          [run.runId, contacts.length, added, skipLimit, batchComplete],
        );
        return 'staged';
      });
    } catch (error) {
      if (error instanceof RunClosed) return 'run-closed';
      throw error;
    }
  }

  /**
   * Upserts a batch's contacts; returns how many e-mails it added to the run (xmax = 0 on a row the statement
   * inserted, not one it updated). Rows go in e-mail order, so two batches sharing e-mails lock them in the
   * same order and never deadlock. A contact the run already classified (a truncate run classifies and sends
   * while it stages) goes back to 'staged' when a duplicate changes it (an earlier row's fields, or another
   * segment): it is classified again, so what Autopilot ends with is what the whole snapshot says.
   */
  private async upsertContacts(tx: PoolClient, runId: string, merged: StagedContact[]): Promise<number> {
    if (merged.length === 0) return 0;
    // Named (prepared): parsed and planned once per connection, not for each batch.
    const upserted = await tx.query<{ inserted: boolean }>({
      name: 'delivery.stage-contacts',
      text: `INSERT INTO delivery.run_contacts (run_id, email, seq, contact, segment_ids)
       SELECT $1, x.email, x.seq, x.contact, x.segment_ids
       FROM jsonb_to_recordset($2::jsonb) AS x(email text, seq int, contact jsonb, segment_ids text[])
       ORDER BY x.email
       ON CONFLICT (run_id, email) DO UPDATE SET
         status = CASE WHEN run_contacts.status <> 'staged' AND (EXCLUDED.seq < run_contacts.seq
                         OR NOT run_contacts.segment_ids @> EXCLUDED.segment_ids) THEN 'staged'
                       ELSE run_contacts.status END,
         seq = LEAST(run_contacts.seq, EXCLUDED.seq),
         contact = CASE WHEN EXCLUDED.seq < run_contacts.seq THEN EXCLUDED.contact ELSE run_contacts.contact END,
         segment_ids = ARRAY(SELECT DISTINCT unnest(run_contacts.segment_ids || EXCLUDED.segment_ids) ORDER BY 1)
       RETURNING (xmax = 0) AS inserted`,
      values: [
        runId,
        JSON.stringify(
          merged.map((m) => ({ email: m.email, seq: m.seq, contact: m.contact, segment_ids: m.segmentIds })),
        ),
      ],
    });
    return upserted.rows.filter((r) => r.inserted).length;
  }

  /** Records the run's end; the run is ready once every announced batch is staged (now or later). */
  async recordEnd(
    run: RunSpec,
    batches: number,
    extracted: number,
    correlationId: string,
  ): Promise<StageOutcome> {
    return inTransaction(this.pool, async (tx) => {
      const { state } = await this.lockRun(tx, run, correlationId);
      if (state !== 'staging') return state === 'ready' ? 'already-staged' : 'run-closed';
      await tx.query(
        `UPDATE delivery.runs SET expected_batches = $2, extracted = $3,
           state = CASE WHEN staged_batches >= $2 THEN 'ready' ELSE state END,
           ready_at = CASE WHEN staged_batches >= $2 THEN now() ELSE ready_at END
         WHERE run_id = $1`,
        [run.runId, batches, extracted],
      );
      return 'staged';
    });
  }

  /**
   * True when the ledger has closed the run to further batches (it ended, or staging stopped because it
   * is certain to be skipped) and the message speaks for that very run (the spec the control plane confirmed:
   * tenant, export, connection, limits, quota): its late messages need no confirmation and change nothing. A
   * message naming a closed run with anything else is not the run's own: it goes to confirmation (and is
   * dead-lettered RUN_NOT_CONFIRMED there).
   */
  async isClosed(run: RunSpec): Promise<boolean> {
    const { rows } = await this.pool.query<{ closed: boolean; spec: RunSpec | null }>(
      `SELECT staging_stopped OR state IN ('succeeded', 'failed', 'skipped', 'canceled') AS closed, spec
         FROM delivery.runs WHERE run_id = $1`,
      [run.runId],
    );
    const row = rows[0];
    if (!row?.closed || !row.spec) return false;
    const same = (keys: (keyof RunSpec)[]) => keys.every((k) => row.spec?.[k] === run[k]);
    return same(['tenantId', 'exportId', 'connectionId', 'limitPolicy', 'profileLimit', 'quotaPerMonth']);
  }

  private async lockRun(
    tx: PoolClient,
    run: RunSpec,
    correlationId: string,
  ): Promise<{ state: string; stagingStopped: boolean }> {
    // A cancel may have created the row without a spec: fill it in, keep its state.
    const { rows } = await tx.query<{ state: string; staging_stopped: boolean }>(
      `INSERT INTO delivery.runs (run_id, tenant_id, connection_id, spec, correlation_id) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (run_id) DO UPDATE SET spec = COALESCE(runs.spec, EXCLUDED.spec),
         connection_id = COALESCE(runs.connection_id, EXCLUDED.connection_id),
         correlation_id = COALESCE(runs.correlation_id, EXCLUDED.correlation_id)
       RETURNING state, staging_stopped`,
      [run.runId, run.tenantId, run.connectionId, JSON.stringify(run), correlationId],
    );
    return { state: rows[0].state, stagingStopped: rows[0].staging_stopped };
  }
}
