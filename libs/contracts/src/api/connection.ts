import { z } from 'zod';

/**
 * Bodies of the control plane's connection routes. They live here, not in the control plane, so the web
 * console validates its forms with the very schemas the API applies.
 */
const DisplayName = z.string().trim().min(1).max(200);
const ApiKey = z.string().trim().min(8, 'must be at least 8 characters').max(500);
const ExportUsers = z.array(z.string().trim().min(1).max(200)).max(200);

export const CreateConnectionBody = z.object({
  displayName: DisplayName,
  apiKey: ApiKey,
  allowContributors: z.boolean().default(false),
  /** Data leaves the platform's compliance boundary: the admin must accept that explicitly. */
  privacyConsent: z.literal(true, {
    error: 'the data-privacy notice must be accepted (privacyConsent: true)',
  }),
  addMeAsExportUser: z.boolean().default(false),
});
export type CreateConnectionBody = z.infer<typeof CreateConnectionBody>;

export const UpdateConnectionBody = z.object({
  displayName: DisplayName.optional(),
  apiKey: ApiKey.optional(),
  allowContributors: z.boolean().optional(),
  exportUsers: ExportUsers.optional(),
});
export type UpdateConnectionBody = z.infer<typeof UpdateConnectionBody>;
