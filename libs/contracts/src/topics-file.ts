import { ALL_TOPICS } from './topics';

/**
 * The topics file that tools/kafka and compose read: one `<name> <partitions> <replication> [key=value ...]`
 * per line (replication 1 in development; the topic's configs, e.g. the dead letters' retention.ms).
 */
export function topicsFileContent(): string {
  return (
    ALL_TOPICS.map((t) =>
      [t.name, t.partitions, 1, ...Object.entries(t.config ?? {}).map(([k, v]) => `${k}=${v}`)].join(' '),
    ).join('\n') + '\n'
  );
}
