import { Counter, metricsRegistry } from '@export/observability';

/** One registry per process: reuse a metric when a second app instance (tests) asks for it again. */
function counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
  return (
    (metricsRegistry.getSingleMetric(name) as Counter<L> | undefined) ??
    new Counter({ name, help, labelNames })
  );
}

export const runsQueued = counter('control_plane_runs_queued_total', 'Export runs queued, by trigger', [
  'trigger',
]);
export const runsStarted = counter(
  'control_plane_runs_started_total',
  'Export runs started (run-requested written)',
  [],
);
export const runsFinished = counter(
  'control_plane_runs_finished_total',
  'Export runs that reached a final status',
  ['status'],
);
export const outboxPublished = counter(
  'control_plane_outbox_published_total',
  'Outbox messages published to Kafka',
  ['topic'],
);
export const outboxSetAside = counter(
  'control_plane_outbox_set_aside_total',
  'Outbox messages set aside because they could not be sent (see the outbox table: last_error)',
  ['topic'],
);
export const retentionPurged = counter(
  'control_plane_retention_purged_total',
  'Rows removed by the retention purge (runs past RETENTION_DAYS and their rejections)',
  ['table'],
);
