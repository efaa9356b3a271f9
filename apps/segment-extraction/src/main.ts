import 'reflect-metadata';
import { runService } from '@export/service';
import { AppModule } from './app.module';
import { SegmentExtractionConfig } from './config';

runService({
  name: 'segment-extraction',
  config: SegmentExtractionConfig,
  module: (config, logger) => AppModule.register(config, logger),
  partitionsConsumedConcurrently: (config) => config.KAFKA_PARTITIONS_CONCURRENCY,
});
