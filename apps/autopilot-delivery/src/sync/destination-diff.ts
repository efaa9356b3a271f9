import { DEFAULT_MASS_REMOVAL_PERCENT, type RunSpec } from '@export/contracts';
import type { PoolClient } from 'pg';

/** Autopilot list id of each segment of the run, as far as the ledger knows it (no call made). */
export type SegmentLists = Record<string, string>;

export interface ContactDiff {
  added: number;
  updated: number;
  unchanged: number;
  /** Contacts past the profile limit (truncate): neither sent nor compared. */
  overLimit: number;
}

export interface RemovalPlan {
  /** Leavers to take out of a list (DELETE /list/{list}/contact/{contact}). */
  removals: number;
  /** Removals held by the mass-removal guard (nothing removed). */
  held: number;
  /** The largest share (percent) of a list the removals would have taken. */
  largestShare: number;
}

/**
 * The export's destination state as a run compares against it: its own rows once it has any (or was seeded),
 * otherwise what the export's last successful run delivered (`delivery.export_contacts`, no contact ids; the
 * list of each segment as known now), unless that run went through another connection. The same rows whether
 * or not the run seeds them, so a dry run sees exactly what the next real run sees.
 * Parameters: $1 tenant, $2 connection, $3 export, $4 segment lists (jsonb).
 */
const BASE = `
  SELECT d.email, d.contact_id, d.contact_hash, d.segment_ids, d.list_ids
    FROM delivery.destination_contacts d
   WHERE d.tenant_id = $1 AND d.connection_id = $2 AND d.export_id = $3
  UNION ALL
  SELECT e.email, NULL, e.contact_hash, e.segment_ids,
         ARRAY(SELECT COALESCE($4::jsonb ->> s, '') FROM unnest(e.segment_ids) WITH ORDINALITY AS x(s, i) ORDER BY i)
    FROM delivery.export_contacts e
   WHERE e.tenant_id = $1 AND e.export_id = $3
     AND NOT EXISTS (SELECT 1 FROM delivery.destination_exports m
                      WHERE m.tenant_id = $1 AND m.connection_id = $2 AND m.export_id = $3)
     AND NOT EXISTS (SELECT 1 FROM delivery.export_state s JOIN delivery.runs r ON r.run_id = s.run_id
                      WHERE s.tenant_id = $1 AND s.export_id = $3 AND r.connection_id IS DISTINCT FROM $2)`;

/**
 * Makes the export's destination state authoritative: the first real run of an export that delivered before
 * incremental sync copies that delivery into it (once; a dry run never does).
 */
export async function seedDestination(tx: PoolClient, spec: RunSpec, lists: SegmentLists): Promise<void> {
  const params = [spec.tenantId, spec.connectionId, spec.exportId, JSON.stringify(lists)];
  const marked = await tx.query(
    `INSERT INTO delivery.destination_exports (tenant_id, connection_id, export_id) VALUES ($1, $2, $3)
     ON CONFLICT DO NOTHING`,
    params.slice(0, 3),
  );
  if ((marked.rowCount ?? 0) === 0) return;
  // The marker is inserted above, so BASE's second half is empty now: read export_contacts directly.
  await tx.query(
    `INSERT INTO delivery.destination_contacts
       (tenant_id, connection_id, export_id, email, contact_id, contact_hash, segment_ids, list_ids, run_id)
     SELECT $1, $2, $3, e.email, NULL, e.contact_hash, e.segment_ids,
            ARRAY(SELECT COALESCE($4::jsonb ->> s, '') FROM unnest(e.segment_ids) WITH ORDINALITY AS x(s, i) ORDER BY i),
            e.run_id
       FROM delivery.export_contacts e
      WHERE e.tenant_id = $1 AND e.export_id = $3
        AND NOT EXISTS (SELECT 1 FROM delivery.export_state s JOIN delivery.runs r ON r.run_id = s.run_id
                         WHERE s.tenant_id = $1 AND s.export_id = $3 AND r.connection_id IS DISTINCT FROM $2)
     ON CONFLICT DO NOTHING`,
    params,
  );
}

/**
 * Classifies the run's contacts still 'staged' against the destination state, in the stable order (seq, then
 * e-mail): past `limit` of them 'over_limit'; new to the export 'pending' + added; fields changed (md5 of the
 * contact as it would be sent) or a segment it was not sent for 'pending' + updated; otherwise 'unchanged' (no
 * call). With `fullResync` every contact is sent (updated when the state knows it). Contacts that failed last
 * time were never recorded, so they are sent again. `everything`: rows staged by an older version (status
 * 'pending') are classified too (a run that classified nothing while staging).
 */
export async function classifyContacts(
  tx: PoolClient,
  spec: RunSpec,
  lists: SegmentLists,
  limit: number,
  { everything }: { everything: boolean },
): Promise<ContactDiff> {
  const { rows } = await tx.query<{ status: string; change: string | null; n: number }>(
    `WITH base AS (${BASE}),
     ranked AS (
       SELECT c.email, row_number() OVER (ORDER BY c.seq, c.email) AS rn,
              b.email IS NOT NULL AS known,
              b.email IS NOT NULL AND b.contact_hash = md5(c.contact::text) AND b.segment_ids @> c.segment_ids AS same
         FROM delivery.run_contacts c LEFT JOIN base b ON b.email = c.email
        WHERE c.run_id = $5 AND ($8 OR c.status = 'staged')),
     classified AS (
       UPDATE delivery.run_contacts c SET
         status = CASE WHEN r.rn > $6 THEN 'over_limit' WHEN r.same AND NOT $7 THEN 'unchanged' ELSE 'pending' END,
         change = CASE WHEN r.rn > $6 OR (r.same AND NOT $7) THEN NULL
                       ELSE COALESCE(c.change, CASE WHEN r.known THEN 'updated' ELSE 'added' END) END
         FROM ranked r
        WHERE c.run_id = $5 AND c.email = r.email
       RETURNING c.status, c.change)
     SELECT status, change, count(*)::int AS n FROM classified GROUP BY status, change`,
    [
      spec.tenantId,
      spec.connectionId,
      spec.exportId,
      JSON.stringify(lists),
      spec.runId,
      limit,
      spec.fullResync === true,
      everything,
    ],
  );
  return diffOf(rows);
}

/**
 * Classifies, while the run still stages, up to `max` staged contacts whose seq is below `limit` (seq numbers
 * the snapshot's rows from 0, and a contact keeps the smallest seq of its rows, so at most `seq` contacts can come
 * before it: it is within the limit whatever is staged later). Same rules as classifyContacts, never
 * 'over_limit'. Reads the export's own state only: call it after seedDestination (a real run's first step seeds).
 * Three statements without a join that find contacts by their key, whatever the planner believes: the statistics
 * of a run's rows arriving by the thousand are stale, and a joined statement was planned as a loop over the whole
 * run for every contact (160 s for 5,000 contacts of a 100,000-contact run).
 */
export async function classifyWithinLimit(
  tx: PoolClient,
  spec: RunSpec,
  limit: number,
  max: number,
): Promise<ContactDiff> {
  const picked = await tx.query<{ email: string; hash: string; segment_ids: string[] }>(
    `SELECT email, md5(contact::text) AS hash, segment_ids FROM delivery.run_contacts
      WHERE run_id = $1 AND status = 'staged' AND seq < $2 ORDER BY seq LIMIT $3`,
    [spec.runId, limit, max],
  );
  if (picked.rows.length === 0) return { added: 0, updated: 0, unchanged: 0, overLimit: 0 };
  const emails = picked.rows.map((r) => r.email);
  const known = await tx.query<{ email: string; contact_hash: string; segment_ids: string[] }>(
    `SELECT email, contact_hash, segment_ids FROM delivery.destination_contacts
      WHERE tenant_id = $1 AND connection_id = $2 AND export_id = $3 AND email = ANY($4::text[])`,
    [spec.tenantId, spec.connectionId, spec.exportId, emails],
  );
  const state = new Map(known.rows.map((r) => [r.email, r]));
  const unchanged: string[] = [];
  const updated: string[] = [];
  for (const contact of picked.rows) {
    const was = state.get(contact.email);
    if (!was) continue;
    const same =
      was.contact_hash === contact.hash && contact.segment_ids.every((segment) => was.segment_ids.includes(segment));
    (same && spec.fullResync !== true ? unchanged : updated).push(contact.email);
  }
  // No join: each contact is found by its key (or the run's staged rows are read once), never a loop over them.
  const { rows } = await tx.query<{ status: string; change: string | null; n: number }>(
    `WITH classified AS (
       UPDATE delivery.run_contacts c SET
         status = CASE WHEN c.email = ANY($3::text[]) THEN 'unchanged' ELSE 'pending' END,
         change = CASE WHEN c.email = ANY($3::text[]) THEN NULL
                       ELSE COALESCE(c.change, CASE WHEN c.email = ANY($4::text[]) THEN 'updated' ELSE 'added' END) END
        WHERE c.run_id = $1 AND c.email = ANY($2::text[]) AND c.status = 'staged'
       RETURNING c.status, c.change)
     SELECT status, change, count(*)::int AS n FROM classified GROUP BY status, change`,
    [spec.runId, emails, unchanged, updated],
  );
  return diffOf(rows);
}

function diffOf(rows: { status: string; change: string | null; n: number }[]): ContactDiff {
  const count = (status: string, change: string | null) =>
    rows.find((r) => r.status === status && r.change === change)?.n ?? 0;
  return {
    added: count('pending', 'added'),
    updated: count('pending', 'updated'),
    unchanged: count('unchanged', null),
    overLimit: count('over_limit', null),
  };
}

/**
 * Plans a mirror run's removals: each (contact, segment) of the state whose segment the run still exports but
 * whose contact the run did not stage for it. A removal only `forget`s (drops the list from the export's state,
 * no call) when the contact stays in that list anyway: through another segment of this run, an earlier leaver
 * row of the same list, or another export of the connection that put it there. When the removals would take
 * more than the export's share of a list and the run was not asked to `confirmRemovals`, all of them are held.
 */
export async function planRemovals(tx: PoolClient, spec: RunSpec, lists: SegmentLists): Promise<RemovalPlan> {
  const segmentIds = spec.segments.map((s) => s.segmentId);
  await tx.query(
    `WITH base AS (${BASE}),
     pairs AS (
       SELECT b.email, b.contact_id, p.segment_id, COALESCE(NULLIF(p.list_id, ''), $4::jsonb ->> p.segment_id) AS list_id
         FROM base b CROSS JOIN LATERAL unnest(b.segment_ids, b.list_ids) AS p(segment_id, list_id)
        WHERE p.segment_id = ANY($6::text[])),
     leavers AS (
       SELECT p.*, c.segment_ids AS now_in,
              row_number() OVER (PARTITION BY p.email, p.list_id ORDER BY p.segment_id) AS nth
         FROM pairs p LEFT JOIN delivery.run_contacts c ON c.run_id = $5 AND c.email = p.email
        WHERE p.list_id IS NOT NULL AND (c.email IS NULL OR NOT (p.segment_id = ANY(c.segment_ids))))
     INSERT INTO delivery.run_removals (run_id, email, list_id, segment_id, contact_id, action)
     SELECT $5, l.email, l.list_id, l.segment_id, l.contact_id,
            CASE WHEN l.nth > 1
                   OR EXISTS (SELECT 1 FROM unnest(COALESCE(l.now_in, '{}'::text[])) s WHERE $4::jsonb ->> s = l.list_id)
                   OR EXISTS (SELECT 1 FROM delivery.destination_contacts o
                               WHERE o.tenant_id = $1 AND o.connection_id = $2 AND o.email = l.email
                                 AND o.export_id <> $3 AND l.list_id = ANY(o.list_ids))
                 THEN 'forget' ELSE 'remove' END
       FROM leavers l
     ON CONFLICT DO NOTHING`,
    [spec.tenantId, spec.connectionId, spec.exportId, JSON.stringify(lists), spec.runId, segmentIds],
  );
  // The share of each list the removals would take: removals over the export's members of that list.
  const { rows } = await tx.query<{ removals: number; share: number | null }>(
    `WITH base AS (${BASE}),
     members AS (
       SELECT COALESCE(NULLIF(p.list_id, ''), $4::jsonb ->> p.segment_id) AS list_id, count(DISTINCT b.email)::int AS n
         FROM base b CROSS JOIN LATERAL unnest(b.segment_ids, b.list_ids) AS p(segment_id, list_id)
        GROUP BY 1),
     removing AS (
       SELECT list_id, count(*)::int AS n FROM delivery.run_removals WHERE run_id = $5 AND action = 'remove'
        GROUP BY list_id)
     SELECT COALESCE(sum(r.n), 0)::int AS removals, max(100.0 * r.n / GREATEST(m.n, 1))::float8 AS share
       FROM removing r LEFT JOIN members m ON m.list_id = r.list_id`,
    [spec.tenantId, spec.connectionId, spec.exportId, JSON.stringify(lists), spec.runId],
  );
  const removals = rows[0]?.removals ?? 0;
  const largestShare = rows[0]?.share ?? 0;
  const percent = spec.massRemovalPercent ?? DEFAULT_MASS_REMOVAL_PERCENT;
  if (removals === 0 || largestShare <= percent || spec.confirmRemovals) return { removals, held: 0, largestShare };
  const held = await tx.query(`UPDATE delivery.run_removals SET status = 'held' WHERE run_id = $1`, [spec.runId]);
  return { removals, held: held.rowCount ?? 0, largestShare };
}

/** The message of a run whose removals the guard held. */
export function massRemovalMessage(held: number, spec: RunSpec): string {
  const percent = spec.massRemovalPercent ?? DEFAULT_MASS_REMOVAL_PERCENT;
  return (
    `${held} removals held: they would take more than ${percent}% of a list (the export's guard against a ` +
    'broken snapshot); nothing was removed, adds and updates were sent. Run with confirmRemovals to apply them'
  );
}
