import { RunSpec, type RunControlV1 } from '@export/contracts';
import { AppError } from '@export/errors';
import { z } from 'zod';
import type { ControlPlaneClient } from '../control-plane/control-plane.client';

/** What the control plane answers on GET /internal/v1/runs/:runId. */
export const RunConfirmation = z.object({
  runId: z.string(),
  tenantId: z.string(),
  exportId: z.string(),
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'skipped', 'canceled']),
  connectionId: z.string().nullable(),
  spec: RunSpec.nullable(),
});
export type RunConfirmation = z.infer<typeof RunConfirmation>;

export const RUN_NOT_CONFIRMED = 'RUN_NOT_CONFIRMED';

/** A definite "no" from the control plane: never retried, the message is dead-lettered with this code. */
export function runNotConfirmed(runId: string, why: string): AppError {
  return new AppError('forbidden', `${RUN_NOT_CONFIRMED}: run ${runId} ${why}`, { code: RUN_NOT_CONFIRMED });
}

/** The fields of a run spec that decide where contacts go and how many: a message must agree on all of them. */
const DECISIVE = [
  'tenantId',
  'exportId',
  'connectionId',
  'limitPolicy',
  'profileLimit',
  'quotaPerMonth',
] as const;

const MAX_CACHED = 10_000;

/**
 * Kafka is not a trust boundary: whoever can write a topic could name any tenant, connection or quota. So
 * delivery asks the control plane, by run id, what the run is, and takes tenant, connection, limits, quota
 * and lists from that answer, never from the message. Only a definite answer refuses a message (run unknown
 * to the tenant, not active, or different from what the message claims); the control plane being unreachable
 * or failing throws a retryable error instead (the consumer retries in place and pauses, nothing is lost).
 */
export class RunConfirmationService {
  private readonly cache = new Map<string, { spec: RunSpec; until: number }>();

  constructor(
    private readonly controlPlane: ControlPlaneClient,
    private readonly cacheMs: number,
  ) {}

  /** The authoritative spec of the run a contacts-mapped message claims to belong to. */
  async confirmForDelivery(claimed: RunSpec): Promise<RunSpec> {
    const cached = this.cache.get(claimed.runId);
    const spec = cached && cached.until > Date.now() ? cached.spec : await this.fetchActive(claimed);
    const differs = DECISIVE.filter((field) => spec[field] !== claimed[field]);
    if (differs.length > 0)
      throw runNotConfirmed(claimed.runId, `differs from the message in ${differs.join(', ')}`);
    return spec;
  }

  /** A cancel order holds only for a run the control plane itself has canceled, in the tenant the order names. */
  async confirmCancel(order: RunControlV1): Promise<void> {
    const run = await this.lookup(order.runId, order.tenantId);
    if (!run) throw runNotConfirmed(order.runId, `is not a run of tenant ${order.tenantId}`);
    if (run.status !== 'canceled') throw runNotConfirmed(order.runId, `is ${run.status}, not canceled`);
    this.cache.delete(order.runId);
  }

  private async fetchActive(claimed: RunSpec): Promise<RunSpec> {
    const run = await this.lookup(claimed.runId, claimed.tenantId);
    if (!run) throw runNotConfirmed(claimed.runId, `is not a run of tenant ${claimed.tenantId}`);
    if (run.status !== 'running' || !run.spec)
      throw runNotConfirmed(claimed.runId, `is ${run.status}, not delivering`);
    if (run.tenantId !== claimed.tenantId || run.spec.runId !== claimed.runId)
      throw runNotConfirmed(claimed.runId, 'belongs to another tenant');
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(claimed.runId, { spec: run.spec, until: Date.now() + this.cacheMs });
    return run.spec;
  }

  /** The control plane's run, or undefined when it definitely has no such run in that tenant. */
  private async lookup(runId: string, tenantId: string): Promise<RunConfirmation | undefined> {
    const { status, data } = await this.controlPlane.get(`/internal/v1/runs/${encodeURIComponent(runId)}`, {
      tenantId,
    });
    if (status === 404 || status === 400) return undefined;
    const parsed = status === 200 ? RunConfirmation.safeParse(data) : undefined;
    if (!parsed?.success)
      throw new AppError(
        'upstream-unavailable',
        `Control plane answered ${status} with an unexpected run body`,
      );
    return parsed.data;
  }
}
