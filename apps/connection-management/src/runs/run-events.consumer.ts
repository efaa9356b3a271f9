import { TOPICS, type RunEventV1 } from '@export/contracts';
import { KafkaContext, KafkaController, type KafkaHandlerOptions } from '@export/kafka';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RunsService } from './runs.service';

/**
 * export.run-events.v1 -> run state. A group of its own: kafkajs assigns partitions as if every member
 * subscribed to every topic of the group, so two topics with different handlers must not share a group.
 */
@KafkaController()
export class RunEventsConsumer {
  constructor(private readonly runs: RunsService) {}

  @EventPattern(TOPICS.runEvents.name, {
    group: (serviceGroup) => `${serviceGroup}.run-events`,
    readiness: 'kafka-run-events',
    partitionsConsumedConcurrently: 3,
  } satisfies KafkaHandlerOptions)
  handle(@Payload() value: RunEventV1, @Ctx() { correlationId }: KafkaContext): Promise<void> {
    return this.runs.onRunEvent(value, correlationId);
  }
}
