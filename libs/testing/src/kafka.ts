import { createServer } from 'node:net';
import { randomUUID } from 'node:crypto';
import { TOPICS } from '@export/contracts';
import { Kafka, logLevel, type Consumer, type KafkaConfig } from 'kafkajs';

export const TEST_KAFKA_BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');

/** Where and how a test's own clients connect; default: the shared broker, PLAINTEXT. */
export interface TestKafkaConnection {
  brokers: string[];
  ssl?: KafkaConfig['ssl'];
  sasl?: KafkaConfig['sasl'];
}

export const defaultTestKafka = (): TestKafkaConnection => ({ brokers: TEST_KAFKA_BROKERS });

export function testKafka(clientId = `test-${randomUUID().slice(0, 8)}`, connection: TestKafkaConnection = defaultTestKafka()): Kafka {
  return new Kafka({ clientId, ...connection, logLevel: logLevel.NOTHING });
}

/** Produces raw values (strings, so tests can also send malformed JSON) to a topic. */
export async function produceRaw(
  topic: string,
  messages: { key?: string; value: string | null; headers?: Record<string, string> }[],
  connection?: TestKafkaConnection,
): Promise<void> {
  const producer = testKafka(undefined, connection).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic, messages, acks: -1 });
  } finally {
    await producer.disconnect();
  }
}

export interface CollectedMessage {
  topic: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/**
 * Collects every message of the given topics written from now on (or from the beginning) into an array
 * the test can poll. Call `stop()` at the end.
 */
export async function collectMessages(
  topics: string[],
  { fromBeginning = false, connection }: { fromBeginning?: boolean; connection?: TestKafkaConnection } = {},
): Promise<{ messages: CollectedMessage[]; stop: () => Promise<void> }> {
  const kafka = testKafka(undefined, connection);
  const consumer: Consumer = kafka.consumer({ groupId: `test-collector-${randomUUID()}` });
  const messages: CollectedMessage[] = [];
  await consumer.connect();
  for (const topic of topics) await consumer.subscribe({ topic, fromBeginning });
  let joined!: () => void;
  const joinedPromise = new Promise<void>((resolve) => (joined = resolve));
  consumer.on(consumer.events.GROUP_JOIN, () => joined());
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = String(v);
      messages.push({ topic, key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, headers });
    },
  });
  await joinedPromise;
  if (!fromBeginning) {
    // "latest" would be resolved lazily at the partition's first fetch, which can come after a message
    // the caller writes right after this returns: pin every partition to its current end instead.
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (const topic of topics) {
        for (const { partition, high } of await admin.fetchTopicOffsets(topic)) consumer.seek({ topic, partition, offset: high });
      }
    } finally {
      await admin.disconnect();
    }
  }
  return { messages, stop: () => consumer.disconnect() };
}

/**
 * Commits the current end of each topic for a consumer group that has no members yet, so a service
 * started with that group sees only messages written from now on (tests share one broker and its history).
 */
export async function startGroupAtEnd(groupId: string, topics: readonly string[], connection?: TestKafkaConnection): Promise<void> {
  const admin = testKafka(undefined, connection).admin();
  await admin.connect();
  try {
    for (const topic of topics) {
      const offsets = await admin.fetchTopicOffsets(topic);
      await admin.setOffsets({ groupId, topic, partitions: offsets.map((o) => ({ partition: o.partition, offset: o.high })) });
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * The consumer groups each service joins, given its KAFKA_GROUP_ID, with their topics: the control plane's
 * group and `<group>.run-events`, extraction's, mapping's, delivery's and `<group>-control`.
 */
export function serviceConsumerGroups(groupOf: (service: string) => string): [groupId: string, topics: string[]][] {
  return [
    [groupOf('connection-management'), [TOPICS.segmentRefreshed.name]],
    [`${groupOf('connection-management')}.run-events`, [TOPICS.runEvents.name]],
    [groupOf('segment-extraction'), [TOPICS.runRequested.name]],
    [groupOf('field-mapping'), [TOPICS.profilesExtracted.name]],
    [groupOf('autopilot-delivery'), [TOPICS.contactsMapped.name]],
    [`${groupOf('autopilot-delivery')}-control`, [TOPICS.runControl.name]],
  ];
}

/** A port that was free a moment ago on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
