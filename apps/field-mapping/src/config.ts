import { serviceConfig } from '@export/config';
import { z } from 'zod';

export const FieldMappingConfig = serviceConfig('field-mapping', 3002, {
  /** Runs (Kafka partitions) mapped at the same time by one instance, so a big run does not hold back a small one. */
  KAFKA_PARTITIONS_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(3),
  /**
   * Most bytes of one contacts-mapped message. Mapping can inflate a batch many times over (custom fields), so
   * a mapped batch over it is split into parts; well under KAFKA_MAX_MESSAGE_BYTES and the broker's 1 MiB.
   */
  MAPPED_BATCH_MAX_BYTES: z.coerce.number().int().min(65_536).max(104_857_600).default(524_288),
}, (c, problem) => {
  if (c.MAPPED_BATCH_MAX_BYTES > c.KAFKA_MAX_MESSAGE_BYTES) problem('MAPPED_BATCH_MAX_BYTES', 'must be at most KAFKA_MAX_MESSAGE_BYTES');
});
export type FieldMappingConfig = z.infer<typeof FieldMappingConfig>;
