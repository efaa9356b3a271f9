import { TOPICS, type RunRequestedV1 } from '@export/contracts';
import { KafkaContext, KafkaController, RunCancellations, type KafkaHandlerOptions } from '@export/kafka';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ExtractionService } from './extraction.service';

/** Kafka edge of extraction: the transport parses each run request with its contract; this hands it on. */
@KafkaController()
export class RunRequestedConsumer {
  constructor(
    private readonly extraction: ExtractionService,
    private readonly cancellations: RunCancellations,
  ) {}

  @EventPattern(TOPICS.runRequested.name, {
    readiness: 'kafka-consumer:run-requested',
    failRunAs: 'extraction',
  } satisfies KafkaHandlerOptions)
  handle(@Payload() value: RunRequestedV1, @Ctx() { correlationId, signal }: KafkaContext): Promise<void> {
    const { runId } = value.run;
    return this.extraction.extractRun(value.run, {
      correlationId,
      signal,
      isCanceled: () => this.cancellations.isCanceled(runId),
    });
  }
}
