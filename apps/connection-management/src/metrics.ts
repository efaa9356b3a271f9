import { counterMetric } from '@export/observability';

export const runsQueued = counterMetric({
  name: 'control_plane_runs_queued_total',
  help: 'Export runs queued, by trigger',
  labelNames: ['trigger'],
});
export const runsStarted = counterMetric({
  name: 'control_plane_runs_started_total',
  help: 'Export runs started (run-requested written)',
});
export const runsFinished = counterMetric({
  name: 'control_plane_runs_finished_total',
  help: 'Export runs that reached a final status',
  labelNames: ['status'],
});
export const outboxPublished = counterMetric({
  name: 'control_plane_outbox_published_total',
  help: 'Outbox messages published to Kafka',
  labelNames: ['topic'],
});
export const outboxSetAside = counterMetric({
  name: 'control_plane_outbox_set_aside_total',
  help: 'Outbox messages set aside because they could not be sent (see the outbox table: last_error)',
  labelNames: ['topic'],
});
export const retentionPurged = counterMetric({
  name: 'control_plane_retention_purged_total',
  help: 'Rows removed by the retention purge (runs past RETENTION_DAYS and their rejections)',
  labelNames: ['table'],
});
