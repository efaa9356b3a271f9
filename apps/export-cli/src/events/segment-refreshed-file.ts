import { randomUUID } from 'node:crypto';
import { SegmentRefreshedV1, segmentRefreshedKey, TOPICS } from '@export/contracts';

/** What `events validate` / `events publish` make of a file: the event and its key, or every problem found. */
export type EventCheck =
  | { valid: true; event: SegmentRefreshedV1; key: string; value: string }
  | { valid: false; problems: string[] };

/**
 * Checks a segment-refreshed event (the JSON text of a file) against the contract the control plane parses
 * it with (`customer-insights.segment-refreshed.v1`): one problem per field at fault, named by its path.
 * The value that is published is the file's text as given (unknown keys included: consumers ignore them),
 * or, with `fresh`, the event with a new `eventId` and `occurredAt` = now (to send one file again, since a
 * repeated eventId is taken as the same event).
 */
export function checkSegmentRefreshed(
  text: string,
  { fresh = false, now = () => new Date() } = {},
): EventCheck {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { valid: false, problems: [`(file): not JSON: ${(error as Error).message}`] };
  }
  if (fresh && json && typeof json === 'object' && !Array.isArray(json)) {
    json = { ...json, eventId: randomUUID(), occurredAt: now().toISOString() };
  }
  const parsed = SegmentRefreshedV1.safeParse(json);
  if (!parsed.success) {
    return {
      valid: false,
      problems: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`),
    };
  }
  return {
    valid: true,
    event: parsed.data,
    key: segmentRefreshedKey(parsed.data),
    value: fresh ? JSON.stringify(json) : text.trim(),
  };
}

export const SEGMENT_REFRESHED_TOPIC = TOPICS.segmentRefreshed.name;
