import { Inject, Injectable } from '@nestjs/common';
import { MAX_PROFILES_PER_RUN, RunSpec, type DeliveryCounts } from '@export/contracts';
import type { Pool, PoolClient } from 'pg';
import { inTransaction, PG_POOL } from '@export/database';
import {
  classifyContacts,
  classifyWithinLimit,
  planRemovals,
  seedDestination,
  type RemovalPlan,
  type SegmentLists,
} from '../sync/destination-diff';
import { decide, quotaMonth, type Decision } from './run-decision';

export interface LeasedRun {
  runId: string;
  tenantId: string;
  spec: RunSpec;
  /** 'staging': a run leased to send what is certainly within its limit while it stages (see STEPWISE). */
  state: 'staging' | 'ready' | 'delivering';
  /**
   * The run may be classified and sent step by step (STEPWISE): while it stages, and when it is ready and not yet
   * decided, so that its first calls do not wait for the whole diff.
   */
  stepwise: boolean;
  correlationId: string;
  cancelRequested: boolean;
  startedAt: Date | null;
}

export interface PendingContact {
  email: string;
  seq: number;
  contact: Record<string, unknown> & { Email: string };
  segmentIds: string[];
}

export interface QuotaChange {
  month: string;
  used: number;
  /** Grows with every change of the tenant's month figure: the newest figure wins downstream. */
  revision: number;
}

/** Where sent contacts are recorded: the export's destination state (see markSent). */
export interface DestinationWrite {
  tenantId: string;
  connectionId: string;
  exportId: string;
  /** Contact id Autopilot returned, by normalised e-mail. */
  contactIds: Record<string, string>;
  /** Autopilot list id of each segment of the run. */
  lists: SegmentLists;
}

export type TerminalState = 'succeeded' | 'failed' | 'canceled';

/**
 * A lane's write found the run's lease held by someone else (taken over after a stall) or ended: the write
 * changed nothing and the lane must stop; the holder delivers the rest.
 */
export class LeaseLostError extends Error {
  constructor(readonly runId: string) {
    super(`The lease of run ${runId} is no longer held by this instance`);
    this.name = 'LeaseLostError';
  }
}

/**
 * The fence of every ledger write of a lane: the run's row, only while `owner` holds its lease, locked in
 * share mode for the statement. A takeover (`lease`, FOR UPDATE SKIP LOCKED) therefore never lands in the
 * middle of such a write, and a write after a takeover finds no row and changes nothing.
 */
export const HELD = `SELECT run_id FROM delivery.runs WHERE run_id = $1 AND lease_owner = $2 FOR SHARE`;

interface RunRow {
  run_id: string;
  tenant_id: string;
  spec: unknown;
  state: 'staging' | 'ready' | 'delivering';
  correlation_id: string | null;
  cancel_requested: boolean;
  started_at: Date | null;
  stepwise: boolean;
}

/** Contacts a run classifies at a time while it stages (see classifyEarly). */
export const EARLY_CHUNK = 5_000;

/** What one classifyEarly step did; `state` is the run's as the step began ('ready': everything is staged). */
export type EarlyStep =
  | { kind: 'classified'; state: 'staging' | 'ready'; classified: number; changed: number }
  | { kind: 'quota-short'; state: 'staging' | 'ready' }
  | { kind: 'closed' };

/**
 * Runs that may be classified and sent step by step (see classifyEarly): not a dry run (a preview must see the
 * whole snapshot), one segment (a contact in several segments would be sent once per segment it is seen in), not
 * stopped; truncate, or skip once its end is in and says it extracted no more rows than the limit (then no
 * contact count can exceed it, and the first step reserves that many from the quota: the run can no longer be
 * skipped for either). Such a run is leased while it stages; when it is ready before anything was classified
 * (its last batch came in with its end), it is still sent in steps: its first call comes after a step (5,000
 * contacts), not after the whole diff, and the sending overlaps the classification of the rest.
 */
const STEPWISE = `(NOT staging_stopped
  AND COALESCE((spec ->> 'dryRun')::boolean, false) = false AND jsonb_array_length(spec -> 'segments') = 1
  AND (spec ->> 'limitPolicy' = 'truncate'
       OR (spec ->> 'limitPolicy' = 'skip' AND extracted IS NOT NULL
           AND extracted <= LEAST((spec ->> 'profileLimit')::int, ${MAX_PROFILES_PER_RUN}))))`;

/** Runs leased while they stage: see STEPWISE. */
const EARLY = `(state = 'staging' AND ${STEPWISE})`;

/** Undoes an early step's transaction: the tenant's quota cannot take its contacts now. */
class QuotaShort extends Error {}

/** The run half of the ledger: leases, the limit/quota decision, counts and the end of a run. */
@Injectable()
export class RunsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /**
   * Leases up to `limit` workable runs for this instance: ready or delivering runs, and truncate runs that still
   * stage (they send what is certain to be within their limit meanwhile, see classifyEarly). SKIP LOCKED lets
   * instances lease side by side; an expired lease (its holder crashed) is taken over.
   */
  async lease(owner: string, limit: number, leaseMs: number): Promise<LeasedRun[]> {
    const { rows } = await this.pool.query<RunRow>(
      `UPDATE delivery.runs r SET lease_owner = $1, lease_expires_at = now() + $3 * interval '1 millisecond'
       WHERE r.run_id IN (
         SELECT run_id FROM delivery.runs
         WHERE (state IN ('ready', 'delivering') OR ${EARLY})
           AND (lease_expires_at IS NULL OR lease_expires_at < now())
         ORDER BY ready_at NULLS LAST, created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING r.run_id, r.tenant_id, r.spec, r.state, r.correlation_id, r.cancel_requested, r.started_at,
                 ${STEPWISE} AS stepwise`,
      [owner, limit, leaseMs],
    );
    return rows.map((r) => ({
      runId: r.run_id,
      tenantId: r.tenant_id,
      spec: RunSpec.parse(r.spec),
      state: r.state,
      correlationId: r.correlation_id ?? r.run_id,
      cancelRequested: r.cancel_requested,
      startedAt: r.started_at,
      stepwise: r.stepwise,
    }));
  }

  /** Extends this instance's leases; returns the runs it still holds. */
  async renew(owner: string, runIds: string[], leaseMs: number): Promise<Set<string>> {
    if (runIds.length === 0) return new Set();
    const { rows } = await this.pool.query<{ run_id: string }>(
      `UPDATE delivery.runs SET lease_expires_at = now() + $3 * interval '1 millisecond'
       WHERE run_id = ANY($2::uuid[]) AND lease_owner = $1 AND state IN ('staging', 'ready', 'delivering')
       RETURNING run_id`,
      [owner, runIds, leaseMs],
    );
    return new Set(rows.map((r) => r.run_id));
  }

  async release(owner: string, runId: string): Promise<void> {
    await this.pool.query(
      `UPDATE delivery.runs SET lease_owner = NULL, lease_expires_at = NULL WHERE run_id = $1 AND lease_owner = $2`,
      [runId, owner],
    );
  }

  async isCancelRequested(runId: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ cancel_requested: boolean }>(
      'SELECT cancel_requested FROM delivery.runs WHERE run_id = $1',
      [runId],
    );
    return rows[0]?.cancel_requested ?? false;
  }

  /**
   * Decides a ready run in one transaction: the diff against the export's destination state (seeded first by a
   * real run), profile limit, quota reservation of the contacts to send (the tenant's month row is locked, so
   * instances deciding runs of one tenant at once can never overshoot), a mirror run's removals and the
   * mass-removal guard, contact statuses. A dry run reserves nothing and seeds nothing. `announce` publishes
   * the outcome before the commit: if publishing fails nothing is decided.
   */
  async decide(
    owner: string,
    run: LeasedRun,
    lists: SegmentLists,
    announce: (decision: Decision, counts: DeliveryCounts, quota: QuotaChange | null) => Promise<void>,
  ): Promise<(Decision & { removals?: RemovalPlan }) | null> {
    return inTransaction(this.pool, async (tx) => {
      const locked = await tx.query<{
        mapped: number;
        staging_stopped: boolean;
        classified_early: number;
        quota_month: string | null;
      }>(
        `SELECT mapped, staging_stopped, classified_early, quota_month FROM delivery.runs
          WHERE run_id = $1 AND state = 'ready' AND lease_owner = $2 FOR UPDATE`,
        [run.runId, owner],
      );
      if (locked.rowCount === 0) return null;
      const { spec } = run;
      const early = locked.rows[0].classified_early > 0;
      const { rows } = await tx.query<{ unique: number; classified: number }>(
        `SELECT count(*)::int AS unique, count(*) FILTER (WHERE $2 AND status <> 'staged')::int AS classified
           FROM delivery.run_contacts WHERE run_id = $1`,
        [run.runId, early],
      );
      const { unique, classified } = rows[0];
      const limit = Math.min(spec.profileLimit, MAX_PROFILES_PER_RUN);
      // The diff joins a run's contacts (up to 100,000 and more) with the export's state. Statistics of these
      // tables are often stale (a run's rows arrive within seconds; autovacuum may be off), and a planner that
      // believes them tiny picks a nested loop: 100,000 x 100,000 comparisons. Hash and merge joins only.
      await tx.query('SET LOCAL enable_nestloop = off');
      const certainSkip = spec.limitPolicy === 'skip' && unique > limit;
      if (!certainSkip && !spec.dryRun) await seedDestination(tx, spec, lists);
      // A run that classified (and sent) contacts step by step classifies the rest within what is left of its
      // limit; when its steps classified everything, there is no rest (and no join of the export's whole state).
      const diff = certainSkip
        ? undefined
        : early && classified === unique
          ? { added: 0, updated: 0, unchanged: 0, overLimit: 0 }
          : await classifyContacts(tx, spec, lists, Math.max(0, limit - classified), { everything: !early });
      const month = locked.rows[0].quota_month ?? quotaMonth(new Date());
      const quotaUsed = await this.lockQuota(tx, run.tenantId, month);
      // A run that sent while staging can no longer be skipped; a skip run among them reserved all it extracted.
      const covered = early && spec.limitPolicy === 'skip';
      const decision = decide({
        mapped: locked.rows[0].mapped,
        unique,
        profileLimit: spec.profileLimit,
        limitPolicy: early ? 'truncate' : spec.limitPolicy,
        quotaPerMonth: covered ? null : spec.quotaPerMonth,
        quotaUsed,
        partial: locked.rows[0].staging_stopped,
        changed: diff ? diff.added + diff.updated : undefined,
      });

      if (decision.action === 'skip') {
        await tx.query(
          `UPDATE delivery.runs SET state = 'skipped', duplicates = $2, over_limit = $3, over_quota = $4,
             finished_at = now(), lease_owner = NULL, lease_expires_at = NULL WHERE run_id = $1`,
          [run.runId, decision.counts.duplicates, decision.counts.overLimit, decision.counts.overQuota],
        );
        await announce(decision, decision.counts, null);
        return decision;
      }

      let quota: QuotaChange | null = null;
      const reserve = covered ? 0 : decision.reserve;
      if (!spec.dryRun && !covered) {
        const used = quotaUsed + reserve;
        const { rows: reserved } = await tx.query<{ revision: string }>(
          'UPDATE delivery.quota_usage SET used = $3, revision = revision + 1 WHERE tenant_id = $1 AND month = $2 RETURNING revision',
          [run.tenantId, month, used],
        );
        quota = { month, used, revision: Number(reserved[0].revision) };
      }
      if (decision.overQuota > 0) {
        // The changed contacts past what the quota allows, in the stable order (seq, then e-mail).
        await tx.query(
          `UPDATE delivery.run_contacts c SET status = 'over_quota'
           FROM (SELECT email, row_number() OVER (ORDER BY seq, email) AS rn FROM delivery.run_contacts
                  WHERE run_id = $1 AND status = 'pending') r
           WHERE c.run_id = $1 AND c.email = r.email AND r.rn > $2`,
          [run.runId, reserve],
        );
      }
      const removals = spec.syncMode === 'mirror' ? await planRemovals(tx, spec, lists) : undefined;
      // Early contacts were reserved in the month of their step: this run's quota month stays the one it began with.
      await tx.query(
        `UPDATE delivery.runs SET state = 'delivering', duplicates = $2, over_limit = $3, over_quota = $4,
           quota_month = COALESCE(quota_month, $5), quota_reserved = quota_reserved + $6, removals_held = $7,
           started_at = COALESCE(started_at, now()) WHERE run_id = $1`,
        [
          run.runId,
          decision.duplicates,
          decision.overLimit,
          decision.overQuota,
          spec.dryRun ? null : month,
          spec.dryRun ? 0 : reserve,
          removals?.held ? removals.removals : 0,
        ],
      );
      const { pending: _pending, ...counts } = await this.counts(run.runId, tx, spec.dryRun === true);
      await announce(decision, counts, quota);
      return { ...decision, removals };
    });
  }

  /**
   * One step of a stepwise run (see STEPWISE) that stages or is ready: classifies up to `max`
   * staged contacts certain to be within its limit (see classifyWithinLimit), reserves the ones to send from the
   * tenant's month (all or none: when the quota cannot take them the step changes nothing and says
   * 'quota-short'; the run then waits for its last batch and the decision puts the rest in the stable order), and
   * before the commit lets `announce` publish what changed (the first step: delivery-started with its counts). Only while
   * `owner` holds the lease (else LeaseLostError).
   */
  async classifyEarly(
    owner: string,
    run: LeasedRun,
    lists: SegmentLists,
    max: number,
    announce: (started: DeliveryCounts | undefined, quota: QuotaChange | null) => Promise<void>,
  ): Promise<EarlyStep> {
    const { spec } = run;
    try {
      return await inTransaction(this.pool, async (tx) => {
        const { rows } = await tx.query<{
          state: string;
          classified_early: number;
          started: boolean;
          quota_month: string | null;
          extracted: number | null;
        }>(
          `SELECT state, classified_early, started_at IS NOT NULL AS started, quota_month, extracted FROM delivery.runs
            WHERE run_id = $1 AND lease_owner = $2`,
          [run.runId, owner],
        );
        if (rows.length === 0) throw new LeaseLostError(run.runId);
        const { classified_early: before, started } = rows[0];
        const state = rows[0].state;
        if (state !== 'staging' && state !== 'ready') return { kind: 'closed' };
        const limit = Math.min(spec.profileLimit, MAX_PROFILES_PER_RUN);
        const room = Math.min(max, limit - before);
        if (room <= 0) return { kind: 'classified', state, classified: 0, changed: 0 };
        if (!started) await seedDestination(tx, spec, lists);
        // A few thousand contacts looked up by index each. Statistics of a run's rows arriving by the thousand are
        // stale: a planner that believes the table small scans or hashes all of it (100,000 rows) for every step,
        // or loops over it for every contact. Index lookups only.
        await tx.query('SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off');
        const diff = await classifyWithinLimit(tx, spec, limit, room);
        const classified = diff.added + diff.updated + diff.unchanged;
        const changed = diff.added + diff.updated;
        if (classified === 0) return { kind: 'classified', state, classified: 0, changed: 0 };
        const month = rows[0].quota_month ?? quotaMonth(new Date());
        // A skip run reserves all it extracted at its first step (its give-back at the end returns what it did not
        // send): it can never be left short, which a skip run could not be (it sends all or nothing).
        const skip = spec.limitPolicy === 'skip';
        const reserve = skip ? (started ? 0 : (rows[0].extracted ?? 0)) : changed;
        let quota: QuotaChange | null = null;
        if (reserve > 0) {
          const used = await this.lockQuota(tx, run.tenantId, month);
          if (spec.quotaPerMonth !== null && used + reserve > spec.quotaPerMonth) throw new QuotaShort();
          const { rows: reserved } = await tx.query<{ revision: string }>(
            `UPDATE delivery.quota_usage SET used = used + $3, revision = revision + 1
              WHERE tenant_id = $1 AND month = $2 RETURNING revision`,
            [run.tenantId, month, reserve],
          );
          quota = { month, used: used + reserve, revision: Number(reserved[0].revision) };
        }
        const updated = await tx.query(
          `UPDATE delivery.runs SET classified_early = classified_early + $3, quota_month = $4,
             quota_reserved = quota_reserved + $5, started_at = COALESCE(started_at, now())
           WHERE run_id = $1 AND lease_owner = $2`,
          [run.runId, owner, classified, month, reserve],
        );
        if (updated.rowCount === 0) throw new LeaseLostError(run.runId);
        // The counts (a count over all the run's contacts) only for the first step's delivery-started.
        let counts: DeliveryCounts | undefined;
        if (!started) {
          const { pending: _pending, ...now } = await this.counts(run.runId, tx);
          counts = now;
        }
        await announce(counts, quota);
        return { kind: 'classified', state, classified, changed };
      });
    } catch (error) {
      if (!(error instanceof QuotaShort)) throw error;
      return { kind: 'quota-short', state: (await this.stateOf(run.runId)) === 'ready' ? 'ready' : 'staging' };
    }
  }

  /**
   * Brings the planner's statistics of the ledger's contacts up to date when this run alone has more contacts than
   * they count (a fresh table, or a run far bigger than what was there): on such statistics the planner believes
   * the run a few hundred rows and reads all of it to find the 100 contacts of each markSent (70 ms instead of 5
   * on 100,000 rows). Measured on the run's staged count, so a run that keeps staging gets them again each time
   * it doubles. SKIP_LOCKED: when another instance or autovacuum is at it, this one goes on. Returns whether it
   * analyzed.
   */
  async refreshStatistics(runId: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ stale: boolean }>(
      `SELECT r.unique_staged > GREATEST(c.reltuples, 0) AS stale
         FROM delivery.runs r, pg_class c WHERE r.run_id = $1 AND c.oid = 'delivery.run_contacts'::regclass`,
      [runId],
    );
    if (!rows[0]?.stale) return false;
    await this.pool.query('ANALYZE (SKIP_LOCKED) delivery.run_contacts');
    return true;
  }

  /** Whether the run still has contacts to send (an index lookup, not a count), only while `owner` holds its lease. */
  async hasPending(owner: string, runId: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ held: boolean; pending: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM delivery.runs WHERE run_id = $1 AND lease_owner = $2) AS held,
              EXISTS (SELECT 1 FROM delivery.run_contacts WHERE run_id = $1 AND status = 'pending') AS pending`,
      [runId, owner],
    );
    if (!rows[0].held) throw new LeaseLostError(runId);
    return rows[0].pending;
  }

  /** The run's state now (a lane waiting for its last batch polls it). */
  async stateOf(runId: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ state: string }>('SELECT state FROM delivery.runs WHERE run_id = $1', [
      runId,
    ]);
    return rows[0]?.state;
  }

  /** Pending contacts after `afterSeq`, in seq order. */
  async pending(runId: string, afterSeq: number, limit: number): Promise<PendingContact[]> {
    const { rows } = await this.pool.query<{
      email: string;
      seq: number;
      contact: PendingContact['contact'];
      segment_ids: string[];
    }>({
      name: 'delivery.pending-contacts',
      text: `SELECT email, seq, contact, segment_ids FROM delivery.run_contacts
       WHERE run_id = $1 AND status = 'pending' AND seq > $2 ORDER BY seq LIMIT $3`,
      values: [runId, afterSeq, limit],
    });
    return rows.map((r) => ({ email: r.email, seq: r.seq, contact: r.contact, segmentIds: r.segment_ids }));
  }

  /**
   * Marks contacts sent, only while `owner` holds the run's lease (else LeaseLostError, nothing changed), and in
   * the same statement records them in the export's destination state (contact ids Autopilot returned, md5 of
   * the contact as sent, segments and their lists; a leaver's earlier lists stay until its removal). Called only
   * after Autopilot confirmed the call: a crash before leaves the contact pending, to be sent again.
   * Returns how many were pending until now (a contact is counted once, whoever sent it), and how many of those
   * were updates.
   */
  async markSent(
    owner: string,
    runId: string,
    emails: string[],
    destination?: DestinationWrite,
  ): Promise<{ sent: number; updated: number }> {
    if (emails.length === 0) return { sent: 0, updated: 0 };
    // A named (prepared) statement: parsed and planned once per connection, not for each of a run's 1,000 calls.
    const { rows } = await this.pool.query<{ held: number; changed: number; updated: number }>({
      name: 'delivery.mark-sent',
      text: `WITH held AS (${HELD}),
       changed AS (
         UPDATE delivery.run_contacts c SET status = 'sent', reason = NULL FROM held
         WHERE c.run_id = held.run_id AND c.email = ANY($3::text[]) AND c.status = 'pending'
         RETURNING c.email, c.contact, c.segment_ids, c.change),
       recorded AS (
         INSERT INTO delivery.destination_contacts AS d
           (tenant_id, connection_id, export_id, email, contact_id, contact_hash, segment_ids, list_ids, run_id)
         SELECT $4, $5, $6, ch.email, $7::jsonb ->> ch.email, md5(ch.contact::text), ch.segment_ids,
                ARRAY(SELECT COALESCE($8::jsonb ->> x.s, '') FROM unnest(ch.segment_ids) WITH ORDINALITY AS x(s, i) ORDER BY x.i),
                $1
           FROM changed ch WHERE $4::text IS NOT NULL
         ON CONFLICT (tenant_id, connection_id, export_id, email) DO UPDATE SET
           contact_id = COALESCE(EXCLUDED.contact_id, d.contact_id),
           contact_hash = EXCLUDED.contact_hash,
           segment_ids = ARRAY(SELECT o.s FROM unnest(d.segment_ids, d.list_ids) WITH ORDINALITY AS o(s, l, i)
                                WHERE o.s <> ALL(EXCLUDED.segment_ids) ORDER BY o.i) || EXCLUDED.segment_ids,
           list_ids = ARRAY(SELECT o.l FROM unnest(d.segment_ids, d.list_ids) WITH ORDINALITY AS o(s, l, i)
                             WHERE o.s <> ALL(EXCLUDED.segment_ids) ORDER BY o.i) || EXCLUDED.list_ids,
           run_id = EXCLUDED.run_id, updated_at = now()
         RETURNING 1)
       SELECT (SELECT count(*) FROM held)::int AS held, (SELECT count(*) FROM changed)::int AS changed,
              (SELECT count(*) FROM changed WHERE change = 'updated')::int AS updated`,
      values: [
        runId,
        owner,
        emails,
        destination?.tenantId ?? null,
        destination?.connectionId ?? null,
        destination?.exportId ?? null,
        JSON.stringify(destination?.contactIds ?? {}),
        JSON.stringify(destination?.lists ?? {}),
      ],
    });
    if (rows[0].held === 0) throw new LeaseLostError(runId);
    return { sent: rows[0].changed, updated: rows[0].updated };
  }

  /**
   * Marks pending contacts failed with their reasons, only while `owner` holds the lease (else LeaseLostError).
   * Returns how many were pending until now.
   */
  async markFailed(owner: string, runId: string, failures: { email: string; reason: string }[]): Promise<number> {
    if (failures.length === 0) return 0;
    const { rows } = await this.pool.query<{ held: number; changed: number }>(
      `WITH held AS (${HELD}),
       changed AS (
         UPDATE delivery.run_contacts c SET status = 'failed', reason = f.reason
         FROM held, jsonb_to_recordset($3::jsonb) AS f(email text, reason text)
         WHERE c.run_id = held.run_id AND c.email = f.email AND c.status = 'pending' RETURNING 1)
       SELECT (SELECT count(*) FROM held)::int AS held, (SELECT count(*) FROM changed)::int AS changed`,
      [runId, owner, JSON.stringify(failures.map((f) => ({ email: f.email, reason: f.reason.slice(0, 500) })))],
    );
    if (rows[0].held === 0) throw new LeaseLostError(runId);
    return rows[0].changed;
  }

  /** The run's counts for a progress event, only while `owner` holds its lease (else LeaseLostError). */
  async progress(owner: string, runId: string): Promise<DeliveryCounts & { pending: number }> {
    return inTransaction(this.pool, async (tx) => {
      const held = await tx.query(HELD, [runId, owner]);
      if (held.rowCount === 0) throw new LeaseLostError(runId);
      return this.counts(runId, tx);
    });
  }

  /**
   * The run's counts. `planned` (a dry run): what the run would do, its contacts still pending and its
   * removals not made: added/updated/removed as planned, delivered = added + updated.
   */
  async counts(
    runId: string,
    client: Pool | PoolClient = this.pool,
    planned = false,
  ): Promise<DeliveryCounts & { pending: number }> {
    const { rows } = await client.query<{
      duplicates: number;
      over_limit: number;
      over_quota: number;
      unique: number;
      added: number;
      updated: number;
      unchanged: number;
      failed: number;
      pending: number;
      removed: number;
    }>(
      `SELECT r.duplicates, r.over_limit, r.over_quota, c.unique, c.added, c.updated, c.unchanged, c.failed, c.pending,
              x.removed
       FROM delivery.runs r, LATERAL (
         SELECT count(*)::int AS unique,
                count(*) FILTER (WHERE status = ANY($2::text[]) AND change IS DISTINCT FROM 'updated')::int AS added,
                count(*) FILTER (WHERE status = ANY($2::text[]) AND change = 'updated')::int AS updated,
                count(*) FILTER (WHERE status = 'unchanged')::int AS unchanged,
                count(*) FILTER (WHERE status = 'failed')::int AS failed,
                count(*) FILTER (WHERE status = 'pending')::int AS pending
         FROM delivery.run_contacts WHERE run_id = r.run_id) c, LATERAL (
         SELECT count(*)::int AS removed FROM delivery.run_removals
          WHERE run_id = r.run_id AND action = 'remove' AND status = ANY($3::text[])) x
       WHERE r.run_id = $1`,
      [runId, planned ? ['sent', 'pending'] : ['sent'], planned ? ['done', 'pending'] : ['done']],
    );
    const r = rows[0];
    return {
      duplicates: r.duplicates,
      eligible: r.unique - r.over_limit - r.over_quota,
      delivered: r.added + r.updated,
      failed: r.failed,
      overLimit: r.over_limit,
      overQuota: r.over_quota,
      added: r.added,
      updated: r.updated,
      unchanged: r.unchanged,
      removed: r.removed,
      pending: planned ? 0 : r.pending,
    };
  }

  /**
   * Ends a run this instance delivers: gives back the quota it reserved but did not deliver, records the
   * state and, before the commit, lets `announce` publish the final events (so a failed publish retries).
   * A failed run's contacts still pending (or, a run that failed while staging, not yet classified) are reported
   * failed with `failReason`.
   */
  async finish(
    owner: string,
    runId: string,
    state: TerminalState,
    failure: { code: string; message: string } | null,
    announce: (counts: DeliveryCounts, quota: QuotaChange | null, removalsHeld: number) => Promise<void>,
    { planned = false }: { planned?: boolean } = {},
  ): Promise<DeliveryCounts | null> {
    return inTransaction(this.pool, async (tx) => {
      const locked = await tx.query<{
        tenant_id: string;
        quota_month: string | null;
        quota_reserved: number;
        removals_held: number;
      }>(
        `SELECT tenant_id, quota_month, quota_reserved, removals_held FROM delivery.runs
         WHERE run_id = $1 AND lease_owner = $2 AND state IN ('staging', 'ready', 'delivering') FOR UPDATE`,
        [runId, owner],
      );
      if (locked.rowCount === 0) return null;
      const { tenant_id: tenantId, quota_month: month, quota_reserved: reserved, removals_held: held } = locked.rows[0];
      if (failure) {
        await tx.query(
          `UPDATE delivery.run_contacts SET status = 'failed', reason = $2 WHERE run_id = $1 AND status IN ('pending', 'staged')`,
          [runId, failure.message.slice(0, 500)],
        );
      }
      const { pending: _pending, ...counts } = await this.counts(runId, tx, planned);
      let quota: QuotaChange | null = null;
      const giveBack = reserved - counts.delivered;
      if (month && giveBack > 0) {
        await this.lockQuota(tx, tenantId, month);
        const { rows } = await tx.query<{ used: number; revision: string }>(
          `UPDATE delivery.quota_usage SET used = GREATEST(0, used - $3), revision = revision + 1
            WHERE tenant_id = $1 AND month = $2 RETURNING used, revision`,
          [tenantId, month, giveBack],
        );
        quota = { month, used: rows[0].used, revision: Number(rows[0].revision) };
      }
      await tx.query(
        `UPDATE delivery.runs SET state = $2, quota_reserved = $3, failure_code = $4, failure_message = $5,
           finished_at = now(), lease_owner = NULL, lease_expires_at = NULL WHERE run_id = $1`,
        [runId, state, Math.min(reserved, counts.delivered), failure?.code ?? null, failure?.message ?? null],
      );
      await announce(counts, quota, held);
      return counts;
    });
  }

  /**
   * Records a cancel. A run not yet delivering ends here (returns 'canceled-now'); a delivering run is
   * stopped by whichever instance holds it ('requested').
   */
  async requestCancel(
    runId: string,
    tenantId: string,
    announce: (counts: DeliveryCounts | undefined) => Promise<void>,
  ): Promise<'canceled-now' | 'requested' | 'already-finished'> {
    return inTransaction(this.pool, async (tx) => {
      const { rows } = await tx.query<{ state: string; started: boolean }>(
        `INSERT INTO delivery.runs (run_id, tenant_id, cancel_requested) VALUES ($1, $2, true)
         ON CONFLICT (run_id) DO UPDATE SET cancel_requested = true RETURNING state, started_at IS NOT NULL AS started`,
        [runId, tenantId],
      );
      const { state, started } = rows[0];
      // A run that sent while it staged is ended by its lane (counts, the quota it did not use given back).
      if (state === 'delivering' || started) return 'requested';
      if (state !== 'staging' && state !== 'ready') return 'already-finished';
      await tx.query(
        `UPDATE delivery.runs SET state = 'canceled', finished_at = now(), lease_owner = NULL, lease_expires_at = NULL WHERE run_id = $1`,
        [runId],
      );
      await announce(undefined);
      return 'canceled-now';
    });
  }

  /** Locks (creating if needed) the tenant's month row and returns what is used. */
  private async lockQuota(tx: PoolClient, tenantId: string, month: string): Promise<number> {
    await tx.query(
      `INSERT INTO delivery.quota_usage (tenant_id, month, used) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING`,
      [tenantId, month],
    );
    const { rows } = await tx.query<{ used: number }>(
      'SELECT used FROM delivery.quota_usage WHERE tenant_id = $1 AND month = $2 FOR UPDATE',
      [tenantId, month],
    );
    return rows[0].used;
  }
}
