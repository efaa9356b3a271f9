import { kafkaConsumerTimings, kafkaSecurity } from '@export/config';
import { KafkaModule } from '@export/kafka';
import { LoggingModule } from '@export/logging';
import { ObservabilityModule } from '@export/observability';
import { DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { FieldMappingConfig } from './config';
import { MappingModule } from './mapping/mapping.module';

@Module({})
export class AppModule {
  static register(config: FieldMappingConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggingModule.forRoot({ logger }),
        ObservabilityModule.forRoot({ service: 'field-mapping' }),
        KafkaModule.forRoot({
          service: 'field-mapping',
          brokers: config.KAFKA_BROKERS,
          logger,
          consumerTimings: kafkaConsumerTimings(config),
          ...kafkaSecurity(config),
          maxMessageBytes: config.KAFKA_MAX_MESSAGE_BYTES,
        }),
        MappingModule.register(config, logger),
      ],
    };
  }
}
