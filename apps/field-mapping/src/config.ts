import { commonEnv } from '@export/config';
import { z } from 'zod';

export const FieldMappingConfig = z.object({
  ...commonEnv,
  /** Health, readiness and metrics. */
  PORT: z.coerce.number().int().min(1).max(65535).default(3002),
  KAFKA_GROUP_ID: z.string().default('field-mapping'),
});
export type FieldMappingConfig = z.infer<typeof FieldMappingConfig>;
