import { z } from 'zod';
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL } from '@export/database';
import type { Queryable } from '../database/database';
import type { TenantId } from '../database/tenant';

const UUID = z.uuid();

export type ConnectionStatus = 'active' | 'needs-attention';

export interface ConnectionRecord {
  id: string;
  tenantId: string;
  displayName: string;
  apiKeyLast4: string;
  status: ConnectionStatus;
  allowContributors: boolean;
  exportUsers: string[];
  createdAt: Date;
  /** Grows with every key saved (see migration 1767100000002). */
  keyVersion: number;
}

interface ConnectionRow {
  id: string;
  tenant_id: string;
  display_name: string;
  api_key_last4: string;
  status: ConnectionStatus;
  allow_contributors: boolean;
  export_users: string[];
  created_at: Date;
  key_version: number;
}

const COLUMNS =
  'id, tenant_id, display_name, api_key_last4, status, allow_contributors, export_users, created_at, key_version';

function toRecord(row: ConnectionRow): ConnectionRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    displayName: row.display_name,
    apiKeyLast4: row.api_key_last4,
    status: row.status,
    allowContributors: row.allow_contributors,
    exportUsers: row.export_users,
    createdAt: row.created_at,
    keyVersion: row.key_version,
  };
}

export interface NewConnection {
  id: string;
  displayName: string;
  apiKeyEncrypted: string;
  apiKeyLast4: string;
  allowContributors: boolean;
  exportUsers: string[];
  createdBy: string;
}

export interface ConnectionChanges {
  displayName?: string;
  allowContributors?: boolean;
  exportUsers?: string[];
  apiKeyEncrypted?: string;
  apiKeyLast4?: string;
}

/** Connections of one tenant; deleted connections are invisible to every method. */
@Injectable()
export class ConnectionsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async insert(tenant: TenantId, c: NewConnection): Promise<ConnectionRecord> {
    const { rows } = await this.pool.query<ConnectionRow>(
      `INSERT INTO connections (id, tenant_id, display_name, api_key_encrypted, api_key_last4, allow_contributors, export_users, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
      [
        c.id,
        tenant,
        c.displayName,
        c.apiKeyEncrypted,
        c.apiKeyLast4,
        c.allowContributors,
        c.exportUsers,
        c.createdBy,
      ],
    );
    return toRecord(rows[0]);
  }

  async list(tenant: TenantId): Promise<ConnectionRecord[]> {
    const { rows } = await this.pool.query<ConnectionRow>(
      `SELECT ${COLUMNS} FROM connections WHERE tenant_id = $1 AND deleted_at IS NULL ORDER BY created_at, id`,
      [tenant],
    );
    return rows.map(toRecord);
  }

  async find(tenant: TenantId, id: string, db: Queryable = this.pool): Promise<ConnectionRecord | undefined> {
    const { rows } = await db.query<ConnectionRow>(
      `SELECT ${COLUMNS} FROM connections WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL`,
      [tenant, id],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /** The sealed key, for the internal credentials route only. */
  async findSealedKey(
    tenant: TenantId,
    id: string,
  ): Promise<{ record: ConnectionRecord; sealed: string } | undefined> {
    const { rows } = await this.pool.query<ConnectionRow & { api_key_encrypted: string }>(
      `SELECT ${COLUMNS}, api_key_encrypted FROM connections
        WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL AND api_key_encrypted IS NOT NULL`,
      [tenant, id],
    );
    return rows[0] ? { record: toRecord(rows[0]), sealed: rows[0].api_key_encrypted } : undefined;
  }

  async update(
    tenant: TenantId,
    id: string,
    changes: ConnectionChanges,
  ): Promise<ConnectionRecord | undefined> {
    const { rows } = await this.pool.query<ConnectionRow>(
      `UPDATE connections SET
         display_name = COALESCE($3, display_name),
         allow_contributors = COALESCE($4, allow_contributors),
         export_users = COALESCE($5, export_users),
         api_key_encrypted = COALESCE($6, api_key_encrypted),
         api_key_last4 = COALESCE($7, api_key_last4),
         -- a new key that Autopilot accepted clears a previous key rejection
         status = CASE WHEN $6::text IS NULL THEN status ELSE 'active' END,
         key_version = CASE WHEN $6::text IS NULL THEN key_version ELSE key_version + 1 END,
         updated_at = now()
       WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING ${COLUMNS}`,
      [
        tenant,
        id,
        changes.displayName ?? null,
        changes.allowContributors ?? null,
        changes.exportUsers ?? null,
        changes.apiKeyEncrypted ?? null,
        changes.apiKeyLast4 ?? null,
      ],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /** Soft delete; the sealed key is wiped so a removed connection's secret no longer exists at rest. */
  async markDeleted(tenant: TenantId, id: string, db: Queryable): Promise<boolean> {
    const { rowCount } = await db.query(
      `UPDATE connections SET deleted_at = now(), api_key_encrypted = NULL, updated_at = now()
        WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL`,
      [tenant, id],
    );
    return (rowCount ?? 0) > 0;
  }

  async markNeedsAttention(tenant: TenantId, id: string, db: Queryable = this.pool): Promise<boolean> {
    // The id comes from an event: one that is not a connection id of ours names no connection (and must
    // not become a query error that would be retried forever).
    if (!UUID.safeParse(id).success) return false;
    const { rowCount } = await db.query(
      `UPDATE connections SET status = 'needs-attention', updated_at = now()
        WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL AND status <> 'needs-attention'`,
      [tenant, id],
    );
    return (rowCount ?? 0) > 0;
  }

  /** Locks the connection row for the rest of the transaction (deletion against concurrent export saves). */
  async lock(tenant: TenantId, id: string, db: Queryable): Promise<ConnectionRecord | undefined> {
    const { rows } = await db.query<ConnectionRow>(
      `SELECT ${COLUMNS} FROM connections WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE`,
      [tenant, id],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }
}
