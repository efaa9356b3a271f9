import { TOPICS } from '@export/contracts';
import { KafkaConsumers, type TopicConsumer } from '@export/kafka';
import { Readiness } from '@export/observability';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../app-tokens';
import type { ControlPlaneConfig } from '../config';
import { RunsService } from './runs.service';

/**
 * export.run-events.v1 -> run state. A group of its own: kafkajs assigns partitions as if every member
 * subscribed to every topic of the group, so two topics with different handlers must not share a group.
 */
@Injectable()
export class RunEventsConsumer {
  readonly consumer: TopicConsumer<typeof TOPICS.runEvents.name>;

  constructor(
    consumers: KafkaConsumers,
    readiness: Readiness,
    runs: RunsService,
    @Inject(APP_CONFIG) config: ControlPlaneConfig,
  ) {
    this.consumer = consumers.register({
      groupId: `${config.KAFKA_GROUP_ID}.run-events`,
      topics: [TOPICS.runEvents.name],
      partitionsConsumedConcurrently: 3,
      handle: ({ value, correlationId }) => runs.onRunEvent(value, correlationId),
    });
    readiness.register('kafka-run-events', () => this.consumer.healthy);
  }
}
