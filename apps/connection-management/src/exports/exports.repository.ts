import type { FieldMapping, LimitPolicy, SyncMode } from '@export/contracts';
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL } from '../database/database.module';
import type { Queryable } from '../database/database';
import type { TenantId } from '../database/tenant';

export interface ExportSettings {
  name: string;
  connectionId: string | null;
  segmentIds: string[];
  mapping: FieldMapping;
  limitPolicy: LimitPolicy;
  profileLimit: number;
  listNames: Record<string, string>;
  syncMode: SyncMode;
  massRemovalPercent: number;
}

export interface ExportRecord extends ExportSettings {
  id: string;
  tenantId: string;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

interface ExportRow {
  id: string;
  tenant_id: string;
  name: string;
  connection_id: string | null;
  segment_ids: string[];
  mapping: FieldMapping;
  limit_policy: LimitPolicy;
  profile_limit: number;
  list_names: Record<string, string>;
  sync_mode: SyncMode;
  mass_removal_percent: number;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS =
  'id, tenant_id, name, connection_id, segment_ids, mapping, limit_policy, profile_limit, list_names, sync_mode, mass_removal_percent, created_by, created_at, updated_at';

function toRecord(row: ExportRow): ExportRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    connectionId: row.connection_id,
    segmentIds: row.segment_ids,
    mapping: row.mapping,
    limitPolicy: row.limit_policy,
    profileLimit: row.profile_limit,
    listNames: row.list_names,
    syncMode: row.sync_mode,
    massRemovalPercent: row.mass_removal_percent,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The settings as query parameters, in the column order insert and update both use (name .. mass_removal_percent). */
function settingsValues(s: ExportSettings): unknown[] {
  return [
    s.name,
    s.connectionId,
    s.segmentIds,
    s.mapping,
    s.limitPolicy,
    s.profileLimit,
    s.listNames,
    s.syncMode,
    s.massRemovalPercent,
  ];
}

@Injectable()
export class ExportsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async insert(tenant: TenantId, id: string, s: ExportSettings, createdBy: string): Promise<ExportRecord> {
    const { rows } = await this.pool.query<ExportRow>(
      `INSERT INTO exports (id, tenant_id, name, connection_id, segment_ids, mapping, limit_policy, profile_limit, list_names,
                            sync_mode, mass_removal_percent, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ${COLUMNS}`,
      [id, tenant, ...settingsValues(s), createdBy],
    );
    return toRecord(rows[0]);
  }

  async list(tenant: TenantId): Promise<ExportRecord[]> {
    const { rows } = await this.pool.query<ExportRow>(
      `SELECT ${COLUMNS} FROM exports WHERE tenant_id = $1 ORDER BY created_at, id`,
      [tenant],
    );
    return rows.map(toRecord);
  }

  async find(tenant: TenantId, id: string, db: Queryable = this.pool): Promise<ExportRecord | undefined> {
    const { rows } = await db.query<ExportRow>(
      `SELECT ${COLUMNS} FROM exports WHERE tenant_id = $1 AND id = $2`,
      [tenant, id],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /** Locks the export for the transaction: run decisions for one export are taken one at a time. */
  async lock(tenant: TenantId, id: string, db: Queryable): Promise<ExportRecord | undefined> {
    const { rows } = await db.query<ExportRow>(
      `SELECT ${COLUMNS} FROM exports WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
      [tenant, id],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async update(
    tenant: TenantId,
    id: string,
    s: ExportSettings,
    db: Queryable = this.pool,
  ): Promise<ExportRecord | undefined> {
    const { rows } = await db.query<ExportRow>(
      `UPDATE exports SET name = $3, connection_id = $4, segment_ids = $5, mapping = $6, limit_policy = $7, profile_limit = $8,
              list_names = $9, sync_mode = $10, mass_removal_percent = $11, updated_at = now()
        WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      [tenant, id, ...settingsValues(s)],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async delete(tenant: TenantId, id: string, db: Queryable = this.pool): Promise<boolean> {
    const { rowCount } = await db.query('DELETE FROM exports WHERE tenant_id = $1 AND id = $2', [tenant, id]);
    return (rowCount ?? 0) > 0;
  }

  async countUsingConnection(tenant: TenantId, connectionId: string, db: Queryable): Promise<number> {
    const { rows } = await db.query<{ n: string }>(
      'SELECT count(*) AS n FROM exports WHERE tenant_id = $1 AND connection_id = $2',
      [tenant, connectionId],
    );
    return Number(rows[0].n);
  }

  /** Detached exports keep their settings, show no connection and never run. */
  async detachConnection(tenant: TenantId, connectionId: string, db: Queryable): Promise<number> {
    const { rowCount } = await db.query(
      'UPDATE exports SET connection_id = NULL, updated_at = now() WHERE tenant_id = $1 AND connection_id = $2',
      [tenant, connectionId],
    );
    return rowCount ?? 0;
  }

  /** Exports of the tenant that include the segment and can run (they have a connection). */
  async idsRunnableForSegment(tenant: TenantId, segmentId: string, db: Queryable): Promise<string[]> {
    const { rows } = await db.query<{ id: string }>(
      `SELECT id FROM exports WHERE tenant_id = $1 AND $2 = ANY (segment_ids) AND connection_id IS NOT NULL ORDER BY id`,
      [tenant, segmentId],
    );
    return rows.map((r) => r.id);
  }
}
