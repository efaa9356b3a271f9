import { DeadLetterV1, HEADERS, TOPICS } from '@export/contracts';

/** A message of the dead-letter topic as read from the broker. */
export interface DeadLetterRecord {
  partition: number;
  offset: string;
  /** Broker timestamp (ms since the epoch, as text). */
  timestamp: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/** What the CLI needs of the broker: read the dead-letter topic, re-publish to a source topic. */
export interface DeadLetterTopic {
  /** Every message of `topic` from its start up to its end at the time of the call. */
  read(topic: string): Promise<DeadLetterRecord[]>;
  publish(topic: string, message: { key: string | null; value: string; headers: Record<string, string> }): Promise<void>;
  close(): Promise<void>;
}

/** Header a replayed message carries: `<dead-letter topic>/<partition>/<offset>` it was replayed from. */
export const REPLAYED_FROM_HEADER = 'x-replayed-from';

/** The consumer cuts a dead letter's value at 64 KiB: a value that long may be cut and is never replayed. */
const VALUE_CUT_AT = 64 * 1024;

export interface DeadLetterFilter {
  code?: string;
  sourceTopic?: string;
  key?: string;
  /** Failed at or after this time. */
  since?: Date;
  /** Only these offsets of the dead-letter topic. */
  offsets?: string[];
}

/** One dead letter as shown: never the value unless asked. */
export interface DeadLetterView {
  partition: number;
  offset: string;
  failedAt: string;
  code: string;
  reason: string;
  source: string;
  key: string | null;
  consumerGroup: string;
  value?: string | null;
}

export interface ParsedDeadLetter {
  record: DeadLetterRecord;
  letter: DeadLetterV1 | null;
}

export function parseDeadLetter(record: DeadLetterRecord): ParsedDeadLetter {
  if (record.value === null) return { record, letter: null };
  try {
    const parsed = DeadLetterV1.safeParse(JSON.parse(record.value));
    return { record, letter: parsed.success ? parsed.data : null };
  } catch {
    return { record, letter: null };
  }
}

export function matches({ record, letter }: ParsedDeadLetter, filter: DeadLetterFilter): boolean {
  if (filter.offsets && !filter.offsets.includes(record.offset)) return false;
  if (!letter) return !(filter.code || filter.sourceTopic || filter.key || filter.since);
  if (filter.code && letter.code !== filter.code) return false;
  if (filter.sourceTopic && letter.sourceTopic !== filter.sourceTopic) return false;
  if (filter.key !== undefined && letter.key !== filter.key) return false;
  if (filter.since && new Date(letter.failedAt) < filter.since) return false;
  return true;
}

export function view({ record, letter }: ParsedDeadLetter, showValue: boolean): DeadLetterView {
  const shown: DeadLetterView = letter
    ? {
        partition: record.partition,
        offset: record.offset,
        failedAt: letter.failedAt,
        code: letter.code,
        reason: letter.reason,
        source: `${letter.sourceTopic}/${letter.partition}/${letter.offset}`,
        key: letter.key,
        consumerGroup: letter.consumerGroup,
      }
    : {
        partition: record.partition,
        offset: record.offset,
        failedAt: new Date(Number(record.timestamp)).toISOString(),
        code: 'UNREADABLE_DEAD_LETTER',
        reason: 'not a dead-letter message (export.dead-letter.v1)',
        source: '-',
        key: record.key,
        consumerGroup: '-',
      };
  if (showValue) shown.value = letter ? letter.value : record.value;
  return shown;
}

/** Reads and filters the dead letters; `limit` keeps the newest. */
export async function listDeadLetters(
  topic: DeadLetterTopic,
  options: { deadLetterTopic: string; filter: DeadLetterFilter; limit: number; showValue: boolean },
): Promise<DeadLetterView[]> {
  const records = await topic.read(options.deadLetterTopic);
  const selected = records.map(parseDeadLetter).filter((d) => matches(d, options.filter));
  return selected.slice(Math.max(0, selected.length - options.limit)).map((d) => view(d, options.showValue));
}

export interface ReplayOutcome {
  offset: string;
  source: string;
  result: 'replayed' | 'would-replay' | 'skipped';
  why?: string;
}

/**
 * Re-publishes the original value of each selected dead letter to its source topic with its original key,
 * marked with `x-replayed-from` (and the dead letter's correlation id, so the trace goes on). A letter
 * whose value is missing or may have been cut at 64 KiB, or whose source is a dead-letter topic, is skipped
 * with the reason. `dryRun` only says what would be replayed.
 */
export async function replayDeadLetters(
  topic: DeadLetterTopic,
  options: { deadLetterTopic: string; filter: DeadLetterFilter; dryRun: boolean },
): Promise<ReplayOutcome[]> {
  const records = await topic.read(options.deadLetterTopic);
  const outcomes: ReplayOutcome[] = [];
  for (const dead of records.map(parseDeadLetter).filter((d) => matches(d, options.filter))) {
    const { record, letter } = dead;
    const base = { offset: record.offset, source: letter ? `${letter.sourceTopic}/${letter.partition}/${letter.offset}` : '-' };
    const skip = (why: string) => outcomes.push({ ...base, result: 'skipped', why });
    if (!letter) {
      skip('not a dead-letter message');
      continue;
    }
    if (letter.value === null) {
      skip('the original message had no value');
      continue;
    }
    if (letter.value.length >= VALUE_CUT_AT) {
      skip('the value was cut at 64 KiB when dead-lettered; replaying it would publish a truncated message');
      continue;
    }
    if (letter.sourceTopic === options.deadLetterTopic || letter.sourceTopic === TOPICS.deadLetter.name) {
      skip('its source is a dead-letter topic');
      continue;
    }
    if (options.dryRun) {
      outcomes.push({ ...base, result: 'would-replay' });
      continue;
    }
    const headers: Record<string, string> = {
      [REPLAYED_FROM_HEADER]: `${options.deadLetterTopic}/${record.partition}/${record.offset}`,
      [HEADERS.producer]: 'export-cli',
    };
    const correlationId = record.headers[HEADERS.correlationId];
    if (correlationId) headers[HEADERS.correlationId] = correlationId;
    await topic.publish(letter.sourceTopic, { key: letter.key, value: letter.value, headers });
    outcomes.push({ ...base, result: 'replayed' });
  }
  return outcomes;
}
