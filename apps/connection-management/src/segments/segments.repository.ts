import type { SegmentRefreshedV1, Snapshot } from '@export/contracts';
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL } from '@export/database';
import type { Queryable } from '../database/database';
import type { TenantId } from '../database/tenant';

export interface SegmentRecord {
  id: string;
  name: string;
  memberCount: number;
  snapshot: Snapshot;
  refreshedAt: Date;
  occurredAt: Date;
}

interface SegmentRow {
  id: string;
  name: string;
  member_count: number;
  snapshot: Snapshot;
  refreshed_at: Date;
  occurred_at: Date;
}

const toRecord = (r: SegmentRow): SegmentRecord => ({
  id: r.id,
  name: r.name,
  memberCount: r.member_count,
  snapshot: r.snapshot,
  refreshedAt: r.refreshed_at,
  occurredAt: r.occurred_at,
});

@Injectable()
export class SegmentsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** Keeps the latest snapshot: an older event arriving late does not replace a newer one. */
  async upsertFromEvent(tenant: TenantId, event: SegmentRefreshedV1, db: Queryable): Promise<void> {
    await db.query(
      `INSERT INTO segments (tenant_id, id, name, member_count, snapshot, last_event_id, occurred_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (tenant_id, id) DO UPDATE SET
         name = EXCLUDED.name, member_count = EXCLUDED.member_count, snapshot = EXCLUDED.snapshot,
         last_event_id = EXCLUDED.last_event_id, occurred_at = EXCLUDED.occurred_at, refreshed_at = now()
       WHERE segments.occurred_at <= EXCLUDED.occurred_at`,
      [
        tenant,
        event.segment.id,
        event.segment.name,
        event.segment.memberCount,
        event.snapshot,
        event.eventId,
        event.occurredAt,
      ],
    );
  }

  async list(tenant: TenantId): Promise<SegmentRecord[]> {
    const { rows } = await this.pool.query<SegmentRow>(
      'SELECT id, name, member_count, snapshot, refreshed_at, occurred_at FROM segments WHERE tenant_id = $1 ORDER BY id',
      [tenant],
    );
    return rows.map(toRecord);
  }

  async findMany(
    tenant: TenantId,
    ids: string[],
    db: Queryable = this.pool,
  ): Promise<Map<string, SegmentRecord>> {
    const { rows } = await db.query<SegmentRow>(
      'SELECT id, name, member_count, snapshot, refreshed_at, occurred_at FROM segments WHERE tenant_id = $1 AND id = ANY ($2)',
      [tenant, ids],
    );
    return new Map(rows.map((r) => [r.id, toRecord(r)]));
  }
}
