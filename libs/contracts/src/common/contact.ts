import { z } from 'zod';
import { STORABLE_TEXT_MESSAGE, STORABLE_TEXT_PATTERN, safeText, TEXT_LIMITS } from './primitives';

/** Where a row came from, so a rejection can be traced back to its file and line. */
export const RowOrigin = z.object({
  segmentId: safeText(TEXT_LIMITS.id),
  partition: safeText(TEXT_LIMITS.partition),
  line: z.number().int().min(1),
  profileId: safeText(TEXT_LIMITS.id).optional(),
});
export type RowOrigin = z.infer<typeof RowOrigin>;

/** A custom field's value; a string at most TEXT_LIMITS.value characters, without NUL. */
export const CustomValue = z.union([safeText(TEXT_LIMITS.value), z.number(), z.boolean()]);

/** The longest e-mail address (RFC 5321 path limit); mapping rejects longer ones. */
export const MAX_EMAIL_LENGTH = 254;

/** A contact as Autopilot takes it (PascalCase standard fields, typed custom keys). */
export const AutopilotContact = z.object({
  Email: z.string().min(3).max(MAX_EMAIL_LENGTH).regex(STORABLE_TEXT_PATTERN, STORABLE_TEXT_MESSAGE),
  FirstName: safeText(TEXT_LIMITS.value).optional(),
  LastName: safeText(TEXT_LIMITS.value).optional(),
  custom: z.record(z.string().regex(/^(string|integer|float|date|boolean)--\S+$/), CustomValue).optional(),
});
export type AutopilotContact = z.infer<typeof AutopilotContact>;

export const RowRejection = RowOrigin.extend({ reason: z.string().min(1).max(500).regex(STORABLE_TEXT_PATTERN, STORABLE_TEXT_MESSAGE) });
export type RowRejection = z.infer<typeof RowRejection>;
