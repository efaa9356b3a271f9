import { counterMetric } from '@export/observability';
import { Injectable } from '@nestjs/common';

@Injectable()
export class ExtractionMetrics {
  readonly rowsExtracted = counterMetric({
    name: 'extraction_rows_extracted_total',
    help: 'Snapshot rows read and published',
  });
  readonly rowsRejected = counterMetric({
    name: 'extraction_rows_rejected_total',
    help: 'Snapshot rows rejected while reading',
  });
  readonly batchesPublished = counterMetric({
    name: 'extraction_batches_published_total',
    help: 'profiles-extracted batches published',
  });
  readonly runs = counterMetric({
    name: 'extraction_runs_total',
    help: 'Runs whose extraction finished, by outcome',
    labelNames: ['outcome'],
  });
}
