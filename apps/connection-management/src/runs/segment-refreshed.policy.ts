import type { SegmentRefreshedV1 } from '@export/contracts';
import { AppError } from '@export/errors';
import { confineToTenant } from '@export/snapshot-location';

export interface SegmentRefreshedPolicy {
  /** SNAPSHOT_ROOT: a tenant's snapshots must be under `<root>/<tenantId>/`. */
  snapshotRoot: string;
  /** How far in the future `occurredAt` may be (clock skew between the platform and us). */
  maxFutureSkewMs: number;
}

/**
 * What the control plane checks on a parsed segment-refreshed event before it registers anything, without
 * touching the storage: the snapshot location is absolute and, normalised, inside the event's own tenant
 * folder (else SNAPSHOT_OUTSIDE_TENANT_ROOT), and the event does not claim to come from the future beyond
 * the allowed skew (else EVENT_FROM_THE_FUTURE). Throws a non-retryable AppError whose code becomes the
 * dead letter's code; the reason never contains more than the event itself said.
 */
export function assertSegmentRefreshedAllowed(
  event: SegmentRefreshedV1,
  policy: SegmentRefreshedPolicy,
  now = Date.now(),
): void {
  const occurredAt = Date.parse(event.occurredAt);
  if (occurredAt - now > policy.maxFutureSkewMs) {
    throw new AppError(
      'validation',
      `occurredAt ${event.occurredAt} is more than ${Math.round(policy.maxFutureSkewMs / 1000)} s in the future`,
      { code: 'EVENT_FROM_THE_FUTURE', field: 'occurredAt' },
    );
  }
  const location = confineToTenant(policy.snapshotRoot, event.tenantId, event.snapshot.location);
  if (!location.ok) {
    throw new AppError('validation', `snapshot.location refused: ${location.reason}`, {
      code: location.code === 'SNAPSHOT_UNREADABLE' ? 'SNAPSHOT_OUTSIDE_TENANT_ROOT' : location.code,
      field: 'snapshot.location',
    });
  }
}
