import { RunCancellationsModule } from '@export/kafka';
import { DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import type { SegmentExtractionConfig } from '../config';
import { ExtractionMetrics } from './extraction.metrics';
import { ExtractionService } from './extraction.service';
import { EXTRACTION_LOGGER, EXTRACTION_SETTINGS, type ExtractionSettings } from './extraction.tokens';
import { RunRequestedConsumer } from './run-requested.consumer';

@Module({})
export class ExtractionModule {
  static register(config: SegmentExtractionConfig, logger: Logger): DynamicModule {
    const settings: ExtractionSettings = {
      snapshotRoot: config.SNAPSHOT_ROOT,
      snapshotLimits: {
        maxFileBytes: config.SNAPSHOT_MAX_FILE_BYTES,
        maxModelBytes: config.SNAPSHOT_MAX_MODEL_BYTES,
        maxRecordBytes: config.SNAPSHOT_MAX_RECORD_BYTES,
        maxColumns: config.SNAPSHOT_MAX_COLUMNS,
      },
      batchRows: config.EXTRACTION_BATCH_ROWS,
      batchBytes: config.EXTRACTION_BATCH_BYTES,
      maxInFlight: config.EXTRACTION_MAX_IN_FLIGHT,
    };
    return {
      module: ExtractionModule,
      imports: [RunCancellationsModule],
      controllers: [RunRequestedConsumer],
      providers: [
        { provide: EXTRACTION_SETTINGS, useValue: settings },
        { provide: EXTRACTION_LOGGER, useValue: logger },
        ExtractionMetrics,
        ExtractionService,
      ],
    };
  }
}
