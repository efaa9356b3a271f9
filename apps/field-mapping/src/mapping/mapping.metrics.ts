import { counterMetric } from '@export/observability';
import { Injectable } from '@nestjs/common';

@Injectable()
export class MappingMetrics {
  readonly contactsMapped = counterMetric({
    name: 'mapping_contacts_mapped_total',
    help: 'Profile rows mapped to Autopilot contacts',
  });
  readonly rowsRejected = counterMetric({
    name: 'mapping_rows_rejected_total',
    help: 'Profile rows rejected by the mapping',
  });
  readonly batchesPublished = counterMetric({
    name: 'mapping_batches_published_total',
    help: 'contacts-mapped batches published',
  });
  readonly canceledDropped = counterMetric({
    name: 'mapping_canceled_messages_dropped_total',
    help: 'Extracted messages of canceled runs dropped without mapping',
  });
}
