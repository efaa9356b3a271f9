import { z } from 'zod';
import { Id, IsoDateTime, STORABLE_TEXT_MESSAGE, STORABLE_TEXT_PATTERN, TenantId } from '../common/primitives';
import { Snapshot } from '../common/snapshot';

/**
 * PUBLIC: published by upstream platforms when a segment is recomputed.
 * Topic `customer-insights.segment-refreshed.v1`, key `<tenantId>:<segmentId>`.
 * Unknown keys are ignored so publishers may add fields; removing or retyping one needs a v2 topic.
 */
export const SegmentRefreshedV1 = z.object({
  eventId: z.string().trim().min(1).max(200).regex(STORABLE_TEXT_PATTERN, STORABLE_TEXT_MESSAGE),
  occurredAt: IsoDateTime,
  tenantId: TenantId,
  segment: z.object({
    id: Id,
    name: z.string().trim().min(1).max(500).regex(STORABLE_TEXT_PATTERN, STORABLE_TEXT_MESSAGE),
    memberCount: z.number().int().min(0),
  }),
  snapshot: Snapshot,
});
export type SegmentRefreshedV1 = z.infer<typeof SegmentRefreshedV1>;

export const segmentRefreshedKey = (e: Pick<SegmentRefreshedV1, 'tenantId' | 'segment'>): string =>
  `${e.tenantId}:${e.segment.id}`;
