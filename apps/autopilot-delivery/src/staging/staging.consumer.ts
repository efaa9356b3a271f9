import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { TOPICS, type ContactsMappedV1 } from '@export/contracts';
import { KafkaConsumers, type ConsumedMessage } from '@export/kafka';
import { Readiness } from '@export/observability';
import type { Logger } from 'pino';
import { DELIVERY_CONFIG, DELIVERY_LOGGER } from '../app.tokens';
import type { DeliveryConfig } from '../config';
import { StagingRepository } from './staging.repository';

/** Kafka handler of mapped contacts: stage the batch (or record the end) in the ledger, nothing else. */
@Injectable()
export class StagingConsumer implements OnModuleInit {
  constructor(
    private readonly consumers: KafkaConsumers,
    private readonly staging: StagingRepository,
    private readonly readiness: Readiness,
    @Inject(DELIVERY_CONFIG) private readonly config: DeliveryConfig,
    @Inject(DELIVERY_LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    const consumer = this.consumers.register({
      groupId: this.config.KAFKA_GROUP_ID,
      topics: [TOPICS.contactsMapped.name],
      partitionsConsumedConcurrently: 3,
      failRunAs: 'delivery',
      handle: (message) => this.handle(message),
    });
    this.readiness.register('kafka', () => consumer.healthy);
  }

  async handle({ value, correlationId }: ConsumedMessage<ContactsMappedV1>): Promise<void> {
    const log = this.logger.child({ runId: value.run.runId, tenantId: value.run.tenantId, correlationId });
    if (value.kind === 'batch') {
      const outcome = await this.staging.stageBatch(value.run, value.batchSeq, value.contacts, correlationId);
      log.debug({ batchSeq: value.batchSeq, contacts: value.contacts.length, outcome }, 'batch staged');
    } else {
      const outcome = await this.staging.recordEnd(value.run, value.batches, value.extracted, correlationId);
      log.info({ batches: value.batches, extracted: value.extracted, outcome }, 'run end recorded');
    }
  }
}
