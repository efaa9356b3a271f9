import { TOPICS } from '@export/contracts';
import { KafkaConsumers, type TopicConsumer } from '@export/kafka';
import { Readiness } from '@export/observability';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, APP_LOGGER } from '../app-tokens';
import type { ControlPlaneConfig } from '../config';
import { RunsService } from './runs.service';
import { assertSegmentRefreshedAllowed } from './segment-refreshed.policy';

/**
 * customer-insights.segment-refreshed.v1 -> segment snapshot + queued runs. Parsing and dead letters:
 * TopicConsumer. An event that parses but is not allowed (a snapshot outside the tenant's folder, an
 * occurredAt from the future) is refused before anything is registered: dead-lettered with its code.
 */
@Injectable()
export class SegmentRefreshedConsumer {
  readonly consumer: TopicConsumer<typeof TOPICS.segmentRefreshed.name>;

  constructor(
    consumers: KafkaConsumers,
    readiness: Readiness,
    runs: RunsService,
    @Inject(APP_CONFIG) config: ControlPlaneConfig,
    @Inject(APP_LOGGER) logger: Logger,
  ) {
    const policy = { snapshotRoot: config.SNAPSHOT_ROOT, maxFutureSkewMs: config.EVENT_MAX_FUTURE_SKEW_MS };
    this.consumer = consumers.register({
      groupId: config.KAFKA_GROUP_ID,
      topics: [TOPICS.segmentRefreshed.name],
      handle: async ({ value, correlationId }) => {
        logger.debug(
          { tenantId: value.tenantId, segmentId: value.segment.id, eventId: value.eventId, correlationId },
          'segment refreshed',
        );
        assertSegmentRefreshedAllowed(value, policy);
        // The event id is the correlation id of everything the refresh causes, so one id follows it end to end.
        await runs.onSegmentRefreshed(value, value.eventId);
      },
    });
    readiness.register('kafka-segment-refreshed', () => this.consumer.healthy);
  }
}
