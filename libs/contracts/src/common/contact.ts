import { z } from 'zod';

/** Where a row came from, so a rejection can be traced back to its file and line. */
export const RowOrigin = z.object({
  segmentId: z.string(),
  partition: z.string(),
  line: z.number().int().min(1),
  profileId: z.string().optional(),
});
export type RowOrigin = z.infer<typeof RowOrigin>;

export const CustomValue = z.union([z.string(), z.number(), z.boolean()]);

/** A contact as Autopilot takes it (PascalCase standard fields, typed custom keys). */
export const AutopilotContact = z.object({
  Email: z.string().min(3),
  FirstName: z.string().optional(),
  LastName: z.string().optional(),
  custom: z.record(z.string().regex(/^(string|integer|float|date|boolean)--\S+$/), CustomValue).optional(),
});
export type AutopilotContact = z.infer<typeof AutopilotContact>;

export const RowRejection = RowOrigin.extend({ reason: z.string().min(1).max(500) });
export type RowRejection = z.infer<typeof RowRejection>;
