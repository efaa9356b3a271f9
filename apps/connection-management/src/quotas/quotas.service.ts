import { AppError } from '@export/errors';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { z } from 'zod';
import { APP_LOGGER } from '../app-tokens';
import { requireRole, type Principal } from '../auth/principal';
import { asTenantId, isTenantId, type TenantId } from '../database/tenant';
import { parseInput } from '../http/parse-input';
import { QuotasRepository, type QuotaDayRecord } from './quotas.repository';

export interface QuotaView {
  tenantId: string;
  profilesPerMonth: number | null;
  month: string;
  used: number;
  /** null when no quota is set. */
  remaining: number | null;
  /** Every day of the month so far (UTC), oldest first. */
  days: QuotaDayView[];
}

/**
 * One day of the month: `total` is the month's figure at the day's end, `used` its change that day. A day
 * whose runs gave back more reserved profiles than they took shows a negative `used`.
 */
export interface QuotaDayView {
  date: string;
  used: number;
  total: number;
}

/** Fills the days from the 1st to today (or to the month's end, for a past month) from the recorded figures. */
export function dailyFigures(month: string, recorded: QuotaDayRecord[], now = new Date()): QuotaDayView[] {
  const [year, monthIndex] = month.split('-').map(Number);
  const daysInMonth = new Date(Date.UTC(year, monthIndex, 0)).getUTCDate();
  const today = now.toISOString().slice(0, 10);
  const byDay = new Map(recorded.map((r) => [r.day, r.used]));
  const days: QuotaDayView[] = [];
  let total = 0;
  for (let d = 1; d <= daysInMonth; d++) {
    const date = `${month}-${String(d).padStart(2, '0')}`;
    if (date > today) break;
    const next = byDay.get(date) ?? total;
    days.push({ date, used: next - total, total: next });
    total = next;
  }
  return days;
}

export const QuotaBody = z.object({ profilesPerMonth: z.number().int().min(0).max(1_000_000_000) });

@Injectable()
export class QuotasService {
  constructor(
    private readonly quotas: QuotasRepository,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  async get(principal: Principal, tenantId: string): Promise<QuotaView> {
    return this.view(this.scope(principal, tenantId));
  }

  async set(principal: Principal, tenantId: string, body: unknown): Promise<QuotaView> {
    requireRole(principal, 'operator');
    const tenant = this.scope(principal, tenantId);
    const { profilesPerMonth } = parseInput(QuotaBody, body);
    await this.quotas.setLimit(tenant, profilesPerMonth);
    this.logger.info({ tenantId: tenant, profilesPerMonth, sub: principal.sub }, 'tenant quota set');
    return this.view(tenant);
  }

  /** Operators may address any tenant; everyone else only their own (another tenant answers 404). */
  private scope(principal: Principal, tenantId: string): TenantId {
    if (!isTenantId(tenantId)) throw new AppError('not-found', 'Tenant not found');
    if (principal.role !== 'operator' && tenantId !== principal.tenantId)
      throw new AppError('not-found', `Tenant ${tenantId} not found`);
    return asTenantId(tenantId);
  }

  private async view(tenant: TenantId): Promise<QuotaView> {
    const q = await this.quotas.get(tenant);
    const recorded = await this.quotas.days(tenant, q.month);
    return {
      tenantId: tenant,
      profilesPerMonth: q.profilesPerMonth,
      month: q.month,
      used: q.used,
      remaining: q.profilesPerMonth === null ? null : Math.max(0, q.profilesPerMonth - q.used),
      days: dailyFigures(q.month, recorded),
    };
  }
}
