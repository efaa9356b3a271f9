import { z } from 'zod';
import { STORABLE_TEXT_MESSAGE, STORABLE_TEXT_PATTERN } from './primitives';

export const CustomFieldType = z.enum(['string', 'integer', 'float', 'date', 'boolean']);
export type CustomFieldType = z.infer<typeof CustomFieldType>;

/** Autopilot custom field names: letters, digits, spaces and a few separators; spaces become `--` on the wire. */
export const CustomFieldName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9 _.-]*$/, 'must start with a letter or digit and hold only letters, digits, spaces, _ . -')
  .refine((name) => !name.includes('--'), 'must not contain "--" (Autopilot uses it as the space separator)');

export const ProfileAttribute = z.string().trim().min(1).max(200).regex(STORABLE_TEXT_PATTERN, STORABLE_TEXT_MESSAGE);

/** One custom field: the profile attribute, the Autopilot field it fills, and that field's type. */
export const CustomFieldMapping = z.object({ attribute: ProfileAttribute, field: CustomFieldName, type: CustomFieldType });
export type CustomFieldMapping = z.infer<typeof CustomFieldMapping>;

/** Which profile attribute feeds which Autopilot field. Nothing is guessed: the export names every attribute. */
export const FieldMapping = z.object({
  email: ProfileAttribute,
  firstName: ProfileAttribute.optional(),
  lastName: ProfileAttribute.optional(),
  custom: z.array(CustomFieldMapping).max(100).optional(),
});
export type FieldMapping = z.infer<typeof FieldMapping>;

export const LimitPolicy = z.enum(['skip', 'truncate']);
export type LimitPolicy = z.infer<typeof LimitPolicy>;

/** The destination's hard limit of profiles per export run. */
export const MAX_PROFILES_PER_RUN = 100_000;
export const ProfileLimit = z.number().int().min(1).max(MAX_PROFILES_PER_RUN);

/**
 * How an export keeps its lists: `mirror` (each segment's list holds exactly the segment's members: leavers are
 * removed from it) or `upsert` (add and update only, never remove).
 */
export const SyncMode = z.enum(['mirror', 'upsert']);
export type SyncMode = z.infer<typeof SyncMode>;

/** Default share of a list (percent) above which a run's removals are held (MASS_REMOVAL_HELD). */
export const DEFAULT_MASS_REMOVAL_PERCENT = 20;
export const MassRemovalPercent = z.number().int().min(0).max(100);
