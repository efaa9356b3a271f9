import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL } from '../database/database.module';
import type { Queryable } from '../database/database';
import type { TenantId } from '../database/tenant';

export interface QuotaRecord {
  profilesPerMonth: number | null;
  month: string;
  used: number;
}

/** The month's figure at the end of a UTC day (the newest figure recorded that day). */
export interface QuotaDayRecord {
  day: string;
  used: number;
}

/** Calendar month in UTC, as quotas count it. */
export function currentMonth(now = new Date()): string {
  return now.toISOString().slice(0, 7);
}

@Injectable()
export class QuotasRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** The quota and this month's usage (usage recorded for an earlier month counts as 0 now). */
  async get(tenant: TenantId, db: Queryable = this.pool, month = currentMonth()): Promise<QuotaRecord> {
    const { rows } = await db.query<{ profiles_per_month: number | null; month: string; used: number }>(
      'SELECT profiles_per_month, month, used FROM tenant_quotas WHERE tenant_id = $1',
      [tenant],
    );
    const row = rows[0];
    return {
      profilesPerMonth: row?.profiles_per_month ?? null,
      month,
      used: row && row.month === month ? row.used : 0,
    };
  }

  async setLimit(tenant: TenantId, profilesPerMonth: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO tenant_quotas (tenant_id, profiles_per_month, month, used) VALUES ($1, $2, $3, 0)
       ON CONFLICT (tenant_id) DO UPDATE SET profiles_per_month = EXCLUDED.profiles_per_month, updated_at = now()`,
      [tenant, profilesPerMonth, currentMonth()],
    );
  }

  /**
   * Records delivery's figure of a tenant's month. With a revision, the newest figure wins (a give-back lowers
   * it); without one (older producers), the higher figure of a month wins. A later month replaces an earlier.
   */
  async recordUsage(
    tenant: TenantId,
    month: string,
    used: number,
    revision?: number,
    db: Queryable = this.pool,
  ): Promise<void> {
    // The figure that wins is also the figure of today (of the month's last day for a late event of an
    // earlier month): the per-day history follows the same rules without a second decision.
    await db.query(
      `WITH recorded AS (
       INSERT INTO tenant_quotas (tenant_id, profiles_per_month, month, used, usage_revision) VALUES ($1, NULL, $2, $3, $4)
       ON CONFLICT (tenant_id) DO UPDATE SET
         used = CASE
           WHEN tenant_quotas.month < EXCLUDED.month THEN EXCLUDED.used
           WHEN EXCLUDED.usage_revision IS NOT NULL THEN EXCLUDED.used
           ELSE GREATEST(tenant_quotas.used, EXCLUDED.used) END,
         usage_revision = CASE
           WHEN tenant_quotas.month < EXCLUDED.month THEN EXCLUDED.usage_revision
           ELSE COALESCE(EXCLUDED.usage_revision, tenant_quotas.usage_revision) END,
         month = EXCLUDED.month, updated_at = now()
       WHERE tenant_quotas.month < EXCLUDED.month
          OR (tenant_quotas.month = EXCLUDED.month
              AND (EXCLUDED.usage_revision IS NULL
                   OR tenant_quotas.usage_revision IS NULL
                   OR EXCLUDED.usage_revision > tenant_quotas.usage_revision))
       RETURNING tenant_id, month, used)
       INSERT INTO tenant_quota_days (tenant_id, day, used)
       SELECT tenant_id,
              LEAST(GREATEST((now() AT TIME ZONE 'UTC')::date, to_date(month || '-01', 'YYYY-MM-DD')),
                    (to_date(month || '-01', 'YYYY-MM-DD') + interval '1 month' - interval '1 day')::date),
              used
       FROM recorded
       ON CONFLICT (tenant_id, day) DO UPDATE SET used = EXCLUDED.used`,
      [tenant, month, used, revision ?? null],
    );
  }

  /** The month's recorded day figures, oldest first (days without a report are absent). */
  async days(tenant: TenantId, month = currentMonth()): Promise<QuotaDayRecord[]> {
    const { rows } = await this.pool.query<{ day: string; used: number }>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, used FROM tenant_quota_days
       WHERE tenant_id = $1 AND day >= to_date($2 || '-01', 'YYYY-MM-DD')
         AND day < to_date($2 || '-01', 'YYYY-MM-DD') + interval '1 month'
       ORDER BY day`,
      [tenant, month],
    );
    return rows;
  }
}
