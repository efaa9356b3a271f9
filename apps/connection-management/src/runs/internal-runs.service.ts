import { RunSpec, TenantId as TenantIdSchema, type RunStatus } from '@export/contracts';
import { AppError } from '@export/errors';
import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { asTenantId, type TenantId } from '../database/tenant';
import { ExportsRepository } from '../exports/exports.repository';
import { RunsRepository } from './runs.repository';

/** What the control plane holds true about a run: the answer to a stage that must not trust a message. */
export interface RunConfirmation {
  runId: string;
  tenantId: string;
  exportId: string;
  status: RunStatus;
  /** The connection the run delivers through (its spec's, or its export's while queued). */
  connectionId: string | null;
  limitPolicy: RunSpec['limitPolicy'] | null;
  profileLimit: number | null;
  quotaPerMonth: number | null;
  /** The spec the run was started with; null while it is queued. */
  spec: RunSpec | null;
}

const Query = z.object({ tenantId: TenantIdSchema });

/** Parses the tenant a service names in its query: 400 with the field when missing or not a plain id. */
export function tenantOfQuery(query: unknown): TenantId {
  const parsed = Query.safeParse(query);
  if (!parsed.success)
    throw new AppError('validation', 'tenantId: required, a tenant id', { field: 'tenantId' });
  return asTenantId(parsed.data.tenantId);
}

/** Run lookups of the internal listener. A run of another tenant is the same answer as no run at all. */
@Injectable()
export class InternalRunsService {
  constructor(
    private readonly runs: RunsRepository,
    private readonly exportsRepo: ExportsRepository,
  ) {}

  async confirm(tenant: TenantId, runId: string): Promise<RunConfirmation> {
    const found = await this.runs.findWithSpec(tenant, runId);
    if (!found)
      throw new AppError('not-found', `RUN_NOT_FOUND: run ${runId} is not a run of tenant ${tenant}`, {
        code: 'RUN_NOT_FOUND',
      });
    const { record } = found;
    const spec = found.spec === null || found.spec === undefined ? null : RunSpec.parse(found.spec);
    const connectionId =
      spec?.connectionId ?? (await this.exportsRepo.find(tenant, record.exportId))?.connectionId ?? null;
    return {
      runId: record.id,
      tenantId: record.tenantId,
      exportId: record.exportId,
      status: record.status,
      connectionId,
      limitPolicy: spec?.limitPolicy ?? null,
      profileLimit: spec?.profileLimit ?? null,
      quotaPerMonth: spec?.quotaPerMonth ?? null,
      spec,
    };
  }
}
