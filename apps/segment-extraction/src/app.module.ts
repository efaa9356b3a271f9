import { kafkaConsumerTimings, kafkaSecurity } from '@export/config';
import { KafkaModule } from '@export/kafka';
import { LoggingModule } from '@export/logging';
import { ObservabilityModule } from '@export/observability';
import { DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { SegmentExtractionConfig } from './config';
import { ExtractionModule } from './extraction/extraction.module';

@Module({})
export class AppModule {
  static register(config: SegmentExtractionConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggingModule.forRoot({ logger }),
        ObservabilityModule.forRoot({ service: 'segment-extraction' }),
        KafkaModule.forRoot({
          service: 'segment-extraction',
          brokers: config.KAFKA_BROKERS,
          logger,
          consumerTimings: kafkaConsumerTimings(config),
          ...kafkaSecurity(config),
          maxMessageBytes: config.KAFKA_MAX_MESSAGE_BYTES,
        }),
        ExtractionModule.register(config, logger),
      ],
    };
  }
}
