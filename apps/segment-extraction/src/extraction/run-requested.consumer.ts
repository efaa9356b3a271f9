import { TOPICS, type RunRequestedV1 } from '@export/contracts';
import { KafkaConsumers, RunCancellations, type ConsumedMessage } from '@export/kafka';
import { Readiness } from '@export/observability';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { ExtractionService } from './extraction.service';
import { EXTRACTION_SETTINGS, type ExtractionSettings } from './extraction.tokens';

/** Kafka edge of extraction: the lib parses each run request with its contract; this hands it on. */
@Injectable()
export class RunRequestedConsumer implements OnModuleInit {
  constructor(
    private readonly consumers: KafkaConsumers,
    private readonly readiness: Readiness,
    private readonly extraction: ExtractionService,
    private readonly cancellations: RunCancellations,
    @Inject(EXTRACTION_SETTINGS) private readonly settings: ExtractionSettings,
  ) {}

  onModuleInit(): void {
    const consumer = this.consumers.register({
      groupId: this.settings.groupId,
      topics: [TOPICS.runRequested.name],
      partitionsConsumedConcurrently: this.settings.partitionsConcurrency,
      failRunAs: 'extraction',
      handle: (message) => this.handle(message),
    });
    this.readiness.register('kafka-consumer:run-requested', () => consumer.healthy);
  }

  private handle({ value, correlationId, signal }: ConsumedMessage<RunRequestedV1>): Promise<void> {
    const { runId } = value.run;
    return this.extraction.extractRun(value.run, {
      correlationId,
      signal,
      isCanceled: () => this.cancellations.isCanceled(runId),
    });
  }
}
