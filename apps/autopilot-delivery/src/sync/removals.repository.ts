import type { RunSpec } from '@export/contracts';
import type { Pool } from 'pg';
import { HELD, LeaseLostError } from '../runs/runs.repository';

export interface PendingRemoval {
  email: string;
  listId: string;
  segmentId: string;
  /** The contact id Autopilot returned when it was sent; null for state seeded from an older ledger. */
  contactId: string | null;
  /** `remove`: DELETE from the list; `forget`: the contact stays in the list, only the state changes. */
  action: 'remove' | 'forget';
}

export interface RemovalOutcome {
  removal: PendingRemoval;
  /** Set when Autopilot refused this removal (the leaver stays in the state; the next run tries again). */
  failure?: string;
}

/** A mirror run's removals: what is left to do, and their outcome recorded with the export's state. */
export class RemovalsRepository {
  constructor(private readonly pool: Pool) {}

  async pending(runId: string, limit: number): Promise<PendingRemoval[]> {
    const { rows } = await this.pool.query<{
      email: string;
      list_id: string;
      segment_id: string;
      contact_id: string | null;
      action: 'remove' | 'forget';
    }>(
      `SELECT email, list_id, segment_id, contact_id, action FROM delivery.run_removals
        WHERE run_id = $1 AND status = 'pending' ORDER BY action, email, segment_id LIMIT $2`,
      [runId, limit],
    );
    return rows.map((r) => ({
      email: r.email,
      listId: r.list_id,
      segmentId: r.segment_id,
      contactId: r.contact_id,
      action: r.action,
    }));
  }

  /** Removals planned and done so far: the progress of the `removing` phase. */
  async progress(runId: string): Promise<{ done: number; total: number }> {
    const { rows } = await this.pool.query<{ done: number; total: number }>(
      `SELECT count(*) FILTER (WHERE status <> 'pending')::int AS done, count(*)::int AS total
         FROM delivery.run_removals WHERE run_id = $1 AND status <> 'held'`,
      [runId],
    );
    return rows[0];
  }

  /**
   * Records removals Autopilot confirmed (or refused), only while `owner` holds the run's lease (else
   * LeaseLostError): a done one drops its segment (and list) from the contact's destination state, the row
   * going once nothing is left; a refused one keeps the state, so the next run removes it again.
   */
  async record(owner: string, spec: RunSpec, outcomes: RemovalOutcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    const rows = outcomes.map((o) => ({
      email: o.removal.email,
      segment_id: o.removal.segmentId,
      list_id: o.removal.listId,
      reason: o.failure?.slice(0, 500) ?? null,
    }));
    const { rows: result } = await this.pool.query<{ held: number }>(
      `WITH held AS (${HELD}),
       outcome AS (SELECT * FROM jsonb_to_recordset($3::jsonb) AS o(email text, segment_id text, list_id text, reason text)),
       marked AS (
         UPDATE delivery.run_removals r SET status = CASE WHEN o.reason IS NULL THEN 'done' ELSE 'failed' END,
                reason = o.reason
           FROM held, outcome o
          WHERE r.run_id = held.run_id AND r.email = o.email AND r.segment_id = o.segment_id AND r.status = 'pending'
         RETURNING r.email, r.segment_id, r.status),
       dropped AS (
         UPDATE delivery.destination_contacts d SET
           segment_ids = ARRAY(SELECT p.s FROM unnest(d.segment_ids, d.list_ids) WITH ORDINALITY AS p(s, l, i)
                                WHERE p.s <> ALL(m.segments) ORDER BY p.i),
           list_ids = ARRAY(SELECT p.l FROM unnest(d.segment_ids, d.list_ids) WITH ORDINALITY AS p(s, l, i)
                             WHERE p.s <> ALL(m.segments) ORDER BY p.i),
           updated_at = now()
           FROM (SELECT email, array_agg(segment_id) AS segments FROM marked WHERE status = 'done' GROUP BY email) m
          WHERE d.tenant_id = $4 AND d.connection_id = $5 AND d.export_id = $6 AND d.email = m.email
         RETURNING d.email, cardinality(d.segment_ids) AS left)
       SELECT (SELECT count(*) FROM held)::int AS held, (SELECT count(*) FROM dropped)::int AS dropped`,
      [spec.runId, owner, JSON.stringify(rows), spec.tenantId, spec.connectionId, spec.exportId],
    );
    if (result[0].held === 0) throw new LeaseLostError(spec.runId);
    // Rows left without any segment: the contact is no longer in any list of this export.
    await this.pool.query(
      `DELETE FROM delivery.destination_contacts
        WHERE tenant_id = $1 AND connection_id = $2 AND export_id = $3 AND email = ANY($4::text[])
          AND cardinality(segment_ids) = 0`,
      [spec.tenantId, spec.connectionId, spec.exportId, [...new Set(rows.map((r) => r.email))]],
    );
  }
}
