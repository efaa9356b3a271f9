import 'reflect-metadata';
import { runService } from '@export/service';
import { AppModule } from './app.module';
import { FieldMappingConfig } from './config';

runService({
  name: 'field-mapping',
  config: FieldMappingConfig,
  module: (config, logger) => AppModule.register(config, logger),
  partitionsConsumedConcurrently: (config) => config.KAFKA_PARTITIONS_CONCURRENCY,
});
