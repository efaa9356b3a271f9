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
  /**
   * Most bytes of one contacts-mapped message. Mapping can inflate a batch many times over (custom fields), so
   * a mapped batch over it is split into parts; well under KAFKA_MAX_MESSAGE_BYTES and the broker's 1 MiB.
   */
  MAPPED_BATCH_MAX_BYTES: z.coerce.number().int().min(65_536).max(104_857_600).default(524_288),
}).refine((c) => c.MAPPED_BATCH_MAX_BYTES <= c.KAFKA_MAX_MESSAGE_BYTES, {
  path: ['MAPPED_BATCH_MAX_BYTES'],
  message: 'must be at most KAFKA_MAX_MESSAGE_BYTES',
}).superRefine(checkKafkaEnv);
export type FieldMappingConfig = z.infer<typeof FieldMappingConfig>;
