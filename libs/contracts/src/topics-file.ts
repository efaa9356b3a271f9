import { ALL_TOPICS } from './topics';

/** The topics file that tools/kafka reads: one `<name> <partitions>` per line. */
export function topicsFileContent(): string {
  return ALL_TOPICS.map((t) => `${t.name} ${t.partitions}`).join('\n') + '\n';
}
