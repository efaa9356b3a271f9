import { TOPICS, type ProfilesExtractedV1 } from '@export/contracts';
import { KafkaConsumers, RunCancellations, type ConsumedMessage } from '@export/kafka';
import { Readiness } from '@export/observability';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { MappingMetrics } from './mapping.metrics';
import { MappingService } from './mapping.service';
import { MAPPING_SETTINGS, type MappingSettings } from './mapping.tokens';

/** Kafka edge of mapping: the lib parses each extracted message with its contract; this hands it on. */
@Injectable()
export class ProfilesExtractedConsumer implements OnModuleInit {
  constructor(
    private readonly consumers: KafkaConsumers,
    private readonly readiness: Readiness,
    private readonly mapping: MappingService,
    private readonly cancellations: RunCancellations,
    private readonly metrics: MappingMetrics,
    @Inject(MAPPING_SETTINGS) private readonly settings: MappingSettings,
  ) {}

  onModuleInit(): void {
    const consumer = this.consumers.register({
      groupId: this.settings.groupId,
      topics: [TOPICS.profilesExtracted.name],
      partitionsConsumedConcurrently: this.settings.partitionsConcurrency,
      failRunAs: 'mapping',
      handle: (message) => this.handle(message),
    });
    this.readiness.register('kafka-consumer:profiles-extracted', () => consumer.healthy);
  }

  private async handle({ value, correlationId }: ConsumedMessage<ProfilesExtractedV1>): Promise<void> {
    // A canceled run's batches are dropped: the control plane ended the run, delivery would discard them.
    if (this.cancellations.isCanceled(value.run.runId)) {
      this.metrics.canceledDropped.inc();
      return;
    }
    return this.mapping.handle(value, correlationId);
  }
}
