import { databaseTimeouts, kafkaConsumerTimings, kafkaSecurity } from '@export/config';
import { DatabaseModule } from '@export/database';
import { KafkaModule } from '@export/kafka';
import { LoggingModule } from '@export/logging';
import { ObservabilityModule } from '@export/observability';
import { DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { DELIVERY_CONFIG, DELIVERY_LOGGER } from './app.tokens';
import { BacklogRepository } from './backlog/backlog.repository';
import { BacklogService } from './backlog/backlog.service';
import { DeliveryConfig } from './config';
import { RunControlConsumer } from './control/run-control.consumer';
import { ControlPlaneClient } from './control-plane/control-plane.client';
import { DeliveryMetrics } from './metrics/delivery.metrics';
import { PacingModule } from './pacing/pacing.module';
import { LedgerRetentionRepository } from './retention/ledger-retention.repository';
import { LedgerRetentionService } from './retention/ledger-retention.service';
import { RunConfirmationService } from './runs/run-confirmation.service';
import { RunEventsPublisher } from './runs/run-events.publisher';
import { RunsRepository } from './runs/runs.repository';
import { SenderService } from './sender/sender.service';
import { StagingConsumer } from './staging/staging.consumer';
import { StagingRepository } from './staging/staging.repository';

@Module({})
export class AppModule {
  static register(config: DeliveryConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggingModule.forRoot({ logger }),
        ObservabilityModule.forRoot({ service: 'autopilot-delivery' }),
        KafkaModule.forRoot({
          service: 'autopilot-delivery',
          brokers: config.KAFKA_BROKERS,
          logger,
          consumerTimings: kafkaConsumerTimings(config),
          ...kafkaSecurity(config),
          maxMessageBytes: config.KAFKA_MAX_MESSAGE_BYTES,
        }),
        // Queries name the `delivery` schema themselves; the pool keeps the default search path.
        DatabaseModule.forRoot({ databaseUrl: config.DATABASE_URL, max: 20, timeouts: databaseTimeouts(config) }),
        PacingModule.forRoot({
          redisUrl: config.REDIS_URL,
          rps: config.AUTOPILOT_RATE_LIMIT_RPS,
          marginMs: config.AUTOPILOT_PACING_MARGIN_MS,
          // A call unanswered past its timeout (+ slack) is over; its instance may have died with it in hand.
          maxInFlightMs: config.AUTOPILOT_TIMEOUT_MS + 5_000,
        }),
      ],
      controllers: [StagingConsumer, RunControlConsumer],
      providers: [
        { provide: DELIVERY_CONFIG, useValue: config },
        { provide: DELIVERY_LOGGER, useValue: logger },
        DeliveryMetrics,
        {
          provide: ControlPlaneClient,
          useValue: new ControlPlaneClient({
            url: config.CONTROL_PLANE_URL,
            secret: config.INTERNAL_AUTH_SECRET,
            timeoutMs: config.CONTROL_PLANE_TIMEOUT_MS,
            logger: logger.child({ component: 'control-plane-client' }),
          }),
        },
        {
          provide: RunConfirmationService,
          useFactory: (controlPlane: ControlPlaneClient) =>
            new RunConfirmationService(controlPlane, config.RUN_CONFIRMATION_CACHE_MS),
          inject: [ControlPlaneClient],
        },
        StagingRepository,
        RunsRepository,
        RunEventsPublisher,
        SenderService,
        LedgerRetentionRepository,
        LedgerRetentionService,
        BacklogRepository,
        BacklogService,
      ],
    };
  }
}
