import { TOPICS, type SegmentRefreshedV1 } from '@export/contracts';
import { KafkaContext, KafkaController, type KafkaHandlerOptions } from '@export/kafka';
import { Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Logger } from 'pino';
import { APP_CONFIG, APP_LOGGER } from '../app-tokens';
import type { ControlPlaneConfig } from '../config';
import { RunsService } from './runs.service';
import { assertSegmentRefreshedAllowed, type SegmentRefreshedPolicy } from './segment-refreshed.policy';

/**
 * customer-insights.segment-refreshed.v1 -> segment snapshot + queued runs. Parsing and dead letters: the
 * Kafka transport. An event that parses but is not allowed (a snapshot outside the tenant's folder, an
 * occurredAt from the future) is refused before anything is registered: dead-lettered with its code.
 */
@KafkaController()
export class SegmentRefreshedConsumer {
  private readonly policy: SegmentRefreshedPolicy;

  constructor(
    private readonly runs: RunsService,
    @Inject(APP_CONFIG) config: ControlPlaneConfig,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {
    this.policy = { snapshotRoot: config.SNAPSHOT_ROOT, maxFutureSkewMs: config.EVENT_MAX_FUTURE_SKEW_MS };
  }

  @EventPattern(TOPICS.segmentRefreshed.name, {
    readiness: 'kafka-segment-refreshed',
    partitionsConsumedConcurrently: 1,
  } satisfies KafkaHandlerOptions)
  async handle(@Payload() value: SegmentRefreshedV1, @Ctx() { correlationId }: KafkaContext): Promise<void> {
    this.logger.debug(
      { tenantId: value.tenantId, segmentId: value.segment.id, eventId: value.eventId, correlationId },
      'segment refreshed',
    );
    assertSegmentRefreshedAllowed(value, this.policy);
    // The event id is the correlation id of everything the refresh causes, so one id follows it end to end.
    await this.runs.onSegmentRefreshed(value, value.eventId);
  }
}
