import { Counter, metricsRegistry } from '@export/observability';
import { Injectable } from '@nestjs/common';

function counter(name: string, help: string): Counter {
  // The registry is process-wide: reuse a counter when a second app instance is built (tests).
  return (metricsRegistry.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help });
}

@Injectable()
export class MappingMetrics {
  readonly contactsMapped = counter(
    'mapping_contacts_mapped_total',
    'Profile rows mapped to Autopilot contacts',
  );
  readonly rowsRejected = counter('mapping_rows_rejected_total', 'Profile rows rejected by the mapping');
  readonly batchesPublished = counter('mapping_batches_published_total', 'contacts-mapped batches published');
  readonly canceledDropped = counter(
    'mapping_canceled_messages_dropped_total',
    'Extracted messages of canceled runs dropped without mapping',
  );
}
