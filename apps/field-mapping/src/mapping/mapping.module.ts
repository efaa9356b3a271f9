import { RunCancellationsModule } from '@export/kafka';
import { DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import type { FieldMappingConfig } from '../config';
import { MappingMetrics } from './mapping.metrics';
import { MappingService } from './mapping.service';
import { MAPPING_LOGGER, MAPPING_SETTINGS, type MappingSettings } from './mapping.tokens';
import { ProfilesExtractedConsumer } from './profiles-extracted.consumer';

@Module({})
export class MappingModule {
  static register(config: FieldMappingConfig, logger: Logger): DynamicModule {
    const settings: MappingSettings = {
      maxBatchBytes: config.MAPPED_BATCH_MAX_BYTES,
    };
    return {
      module: MappingModule,
      imports: [RunCancellationsModule],
      controllers: [ProfilesExtractedConsumer],
      providers: [
        { provide: MAPPING_SETTINGS, useValue: settings },
        { provide: MAPPING_LOGGER, useValue: logger },
        MappingMetrics,
        MappingService,
      ],
    };
  }
}
