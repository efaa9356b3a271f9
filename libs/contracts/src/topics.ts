import type { z } from 'zod';
import { ContactsMappedV1 } from './events/contacts-mapped.v1';
import { DeadLetterV1 } from './events/dead-letter.v1';
import { ProfilesExtractedV1 } from './events/profiles-extracted.v1';
import { RunControlV1 } from './events/run-control.v1';
import { RunEventV1 } from './events/run-events.v1';
import { RunRequestedV1 } from './events/run-requested.v1';
import { SegmentRefreshedV1 } from './events/segment-refreshed.v1';

/** Default retention of the dead-letter topic: 7 days. */
export const DEAD_LETTER_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * The one registry of topic names. A name ends with its version: a breaking change to a schema is a new
 * topic (`.v2`), never an edit in place. `partitions` is what tools/kafka creates for development and CI.
 */
export const TOPICS = {
  segmentRefreshed: {
    name: 'customer-insights.segment-refreshed.v1',
    schema: SegmentRefreshedV1,
    key: '<tenantId>:<segmentId>',
    partitions: 6,
    public: true,
  },
  runRequested: { name: 'export.run-requested.v1', schema: RunRequestedV1, key: '<runId>', partitions: 6, public: false },
  profilesExtracted: {
    name: 'export.profiles-extracted.v1',
    schema: ProfilesExtractedV1,
    key: '<runId>',
    partitions: 6,
    public: false,
  },
  contactsMapped: { name: 'export.contacts-mapped.v1', schema: ContactsMappedV1, key: '<runId>', partitions: 6, public: false },
  runEvents: { name: 'export.run-events.v1', schema: RunEventV1, key: '<runId>', partitions: 6, public: false },
  runControl: { name: 'export.run-control.v1', schema: RunControlV1, key: '<runId>', partitions: 6, public: false },
  deadLetter: {
    name: 'export.dead-letter.v1',
    schema: DeadLetterV1,
    key: 'original key',
    partitions: 1,
    public: false,
    // Dead letters hold whole messages (personal data): kept 7 days, long enough to inspect and replay them
    // (export-cli dead-letters), no longer.
    config: { 'retention.ms': String(DEAD_LETTER_RETENTION_MS) },
  },
} as const satisfies Record<string, TopicDefinition>;

export interface TopicDefinition {
  name: string;
  schema: z.ZodType;
  key: string;
  partitions: number;
  public: boolean;
  /** Topic-level broker configs set where topics are created (tools/kafka, compose). */
  config?: Readonly<Record<string, string>>;
}

export type TopicKey = keyof typeof TOPICS;
export type TopicName = (typeof TOPICS)[TopicKey]['name'];
export type TopicByName<N extends TopicName> = Extract<(typeof TOPICS)[TopicKey], { name: N }>;
/** The value type of a topic, inferred from its schema. */
export type TopicValue<N extends TopicName> = z.infer<TopicByName<N>['schema']>;

export const ALL_TOPICS: readonly TopicDefinition[] = Object.values(TOPICS);

export function topicByName(name: string): TopicDefinition | undefined {
  return ALL_TOPICS.find((t) => t.name === name);
}
