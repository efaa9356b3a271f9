import type { EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import pino from 'pino';
import { TOPICS, type SegmentRefreshedV1, type TopicName } from '@export/contracts';
import { EventPublisher } from './event-publisher';
import { TopicConsumer, type ConsumedMessage, type TopicConsumerOptions } from './topic-consumer';

/** Test fixtures of the TopicConsumer specs: a kafkajs stand-in and messages. */
export const topic = TOPICS.segmentRefreshed.name;
export const event: SegmentRefreshedV1 = {
  eventId: 'e-1',
  occurredAt: '2026-11-28T08:00:00Z',
  tenantId: 'contoso',
  segment: { id: 'seg-vip', name: 'VIP', memberCount: 1 },
  snapshot: { format: 'csv', location: 'file:///tmp/x.csv' },
};

export interface Sent {
  topic: string;
  messages: { key: string; value: string; headers: Record<string, string> }[];
}

/** A kafkajs stand-in: records what is produced and lets the test hand batches to the consumer. */
export function fakeKafka(batchTopic: string = topic) {
  const sent: Sent[] = [];
  /** Group ids of the consumers created, in order. */
  const groups: string[] = [];
  let heartbeats = 0;
  let eachBatch: ((payload: EachBatchPayload) => Promise<void>) | undefined;
  const consumer = {
    events: { GROUP_JOIN: 'join', CRASH: 'crash', DISCONNECT: 'disconnect', STOP: 'stop' },
    on: () => undefined,
    connect: async () => undefined,
    subscribe: async () => undefined,
    run: async (config: { eachBatch: (payload: EachBatchPayload) => Promise<void> }) => {
      eachBatch = config.eachBatch;
    },
    pause: jest.fn(),
    resume: jest.fn(),
    disconnect: async () => undefined,
  };
  const producer = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    send: async (record: Sent) => {
      sent.push(record);
    },
  };
  const kafka = {
    consumer: (config: { groupId: string }) => (groups.push(config.groupId), consumer),
    producer: () => producer,
  } as unknown as Kafka;
  /** Hands a batch to the consumer; `resolved` receives the offsets as they are resolved. */
  const deliver = async (messages: KafkaMessage[], highWatermark: string, resolved: string[] = []) => {
    await eachBatch?.({
      batch: { topic: batchTopic, partition: 2, highWatermark, messages, firstOffset: () => messages[0]?.offset ?? null },
      resolveOffset: (offset: string) => resolved.push(offset),
      heartbeat: async () => void heartbeats++,
      isRunning: () => true,
      isStale: () => false,
      commitOffsetsIfNecessary: async () => undefined,
    } as unknown as EachBatchPayload);
    return resolved;
  };
  return { kafka, consumer, sent, deliver, groups, heartbeats: () => heartbeats };
}

export function message(offset: string, value: string, headers: Record<string, string> = {}): KafkaMessage {
  return { offset, key: Buffer.from('k'), value: Buffer.from(value), headers, timestamp: '0', attributes: 0 } as KafkaMessage;
}

export function setup(
  groupId: string,
  handle: (m: ConsumedMessage<SegmentRefreshedV1>, publisher: EventPublisher) => Promise<void>,
  options: Partial<TopicConsumerOptions<TopicName>> = {},
  batchTopic: string = topic,
) {
  const fake = fakeKafka(batchTopic);
  const logger = pino({ level: 'silent' });
  const publisher = new EventPublisher(fake.kafka, 'test-service', logger);
  const consumer = new TopicConsumer(fake.kafka, publisher, logger, {
    groupId,
    topics: [batchTopic as TopicName],
    retryInitialDelayMs: 1,
    retryMaxDelayMs: 1,
    ...options,
    handle: (m) => handle(m as ConsumedMessage<SegmentRefreshedV1>, publisher),
  });
  return { ...fake, kafkaConsumer: fake.consumer, consumer, publisher };
}

