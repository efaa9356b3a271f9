import { Counter, metricsRegistry } from '@export/observability';
import { Injectable } from '@nestjs/common';

function counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  // The registry is process-wide: reuse a counter when a second app instance is built (tests).
  return (
    (metricsRegistry.getSingleMetric(name) as Counter<L> | undefined) ??
    new Counter({ name, help, labelNames })
  );
}

@Injectable()
export class ExtractionMetrics {
  readonly rowsExtracted = counter('extraction_rows_extracted_total', 'Snapshot rows read and published');
  readonly rowsRejected = counter('extraction_rows_rejected_total', 'Snapshot rows rejected while reading');
  readonly batchesPublished = counter(
    'extraction_batches_published_total',
    'profiles-extracted batches published',
  );
  readonly runs = counter('extraction_runs_total', 'Runs whose extraction finished, by outcome', ['outcome']);
}
