import { databaseTimeouts, kafkaConsumerTimings, kafkaSecurity } from '@export/config';
import { KafkaModule } from '@export/kafka';
import { LoggingModule } from '@export/logging';
import { ObservabilityModule } from '@export/observability';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import type { Logger } from 'pino';
import { APP_CONFIG, APP_LOGGER } from './app-tokens';
import { ServiceAuthGuard } from './auth/service-auth.guard';
import { UserAuthGuard } from './auth/user-auth.guard';
import { UserTokenVerifier } from './auth/user-token.verifier';
import { ControlPlaneConfig } from './config';
import { AutopilotAccountClient } from './connections/autopilot-account.client';
import { ConsoleModule } from './console/console.module';
import { ConnectionsController } from './connections/connections.controller';
import { ConnectionsRepository } from './connections/connections.repository';
import { ConnectionsService } from './connections/connections.service';
import { InternalCredentialsController } from './connections/internal-credentials.controller';
import { CredentialsCipher } from './credentials/credentials-cipher';
import { DatabaseModule } from './database/database.module';
import { InternalListener } from './http/internal-listener';
import { ExportsController } from './exports/exports.controller';
import { ExportsRepository } from './exports/exports.repository';
import { ExportsService } from './exports/exports.service';
import { QuotasController } from './quotas/quotas.controller';
import { QuotasRepository } from './quotas/quotas.repository';
import { QuotasService } from './quotas/quotas.service';
import { InternalRunsController } from './runs/internal-runs.controller';
import { InternalRunsService } from './runs/internal-runs.service';
import { OutboxDispatcher } from './runs/outbox.dispatcher';
import { OutboxRepository } from './runs/outbox.repository';
import { RunEventsConsumer } from './runs/run-events.consumer';
import { RetentionRepository } from './retention/retention.repository';
import { RetentionService } from './retention/retention.service';
import { RunHistoryService } from './runs/run-history.service';
import { RunsController } from './runs/runs.controller';
import { RunsRepository } from './runs/runs.repository';
import { RunsService } from './runs/runs.service';
import { SegmentRefreshedConsumer } from './runs/segment-refreshed.consumer';
import { SegmentsController } from './segments/segments.controller';
import { SegmentsRepository } from './segments/segments.repository';

/**
 * The control plane. Repositories are shared by several features (a connection's deletion touches exports,
 * a run touches all of them), so they live in this one module next to the features that use them.
 */
@Global()
@Module({})
export class AppModule {
  static register(config: ControlPlaneConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggingModule.forRoot({ service: 'connection-management', level: config.LOG_LEVEL }),
        ObservabilityModule.forRoot({ service: 'connection-management' }),
        KafkaModule.forRoot({
          service: 'connection-management',
          brokers: config.KAFKA_BROKERS,
          logger,
          consumerTimings: kafkaConsumerTimings(config),
          ...kafkaSecurity(config),
          maxMessageBytes: config.KAFKA_MAX_MESSAGE_BYTES,
        }),
        DatabaseModule.forRoot(config.DATABASE_URL, databaseTimeouts(config)),
        JwtModule.register({ secret: config.AUTH_JWT_SECRET, verifyOptions: { algorithms: ['HS256'] } }),
        ConsoleModule.register(config),
      ],
      controllers: [
        ConnectionsController,
        InternalCredentialsController,
        InternalRunsController,
        ExportsController,
        RunsController,
        SegmentsController,
        QuotasController,
      ],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: APP_LOGGER, useValue: logger },
        { provide: CredentialsCipher, useValue: new CredentialsCipher(config.CREDENTIALS_ENCRYPTION_KEY) },
        {
          provide: AutopilotAccountClient,
          useValue: new AutopilotAccountClient(config.AUTOPILOT_BASE_URL, config.AUTOPILOT_TIMEOUT_MS),
        },
        UserTokenVerifier,
        UserAuthGuard,
        ServiceAuthGuard,
        InternalListener,
        InternalRunsService,
        ConnectionsRepository,
        ExportsRepository,
        SegmentsRepository,
        RunsRepository,
        QuotasRepository,
        OutboxRepository,
        OutboxDispatcher,
        ConnectionsService,
        ExportsService,
        RunsService,
        RunHistoryService,
        QuotasService,
        SegmentRefreshedConsumer,
        RunEventsConsumer,
        RetentionRepository,
        RetentionService,
      ],
    };
  }
}
