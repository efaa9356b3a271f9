import { checkKafkaEnv, commonEnv, kafkaEnv } from '@export/config';
import { z } from 'zod';

export const FieldMappingConfig = z.object({
  ...commonEnv,
  ...kafkaEnv,
  /** Health, readiness and metrics. */
  PORT: z.coerce.number().int().min(1).max(65535).default(3002),
  KAFKA_GROUP_ID: z.string().min(1).default('field-mapping'),
  /** Runs (Kafka partitions) mapped at the same time by one instance, so a big run does not hold back a small one. */
  KAFKA_PARTITIONS_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(3),
}).superRefine(checkKafkaEnv);
export type FieldMappingConfig = z.infer<typeof FieldMappingConfig>;
