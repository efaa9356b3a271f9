import { randomUUID } from 'node:crypto';
import { createKafka } from '@export/kafka';
import { Partitioners, type Kafka } from 'kafkajs';
import pino from 'pino';
import type { DeadLetterRecord, DeadLetterTopic } from './dead-letters';

/**
 * The dead-letter topic on the real broker. Reading uses a throwaway consumer group that commits nothing
 * and is deleted afterwards, and stops at each partition's end as it was when the read began.
 */
export function kafkaDeadLetterTopic(brokers: string[]): DeadLetterTopic {
  const kafka: Kafka = createKafka({
    clientId: 'export-cli',
    brokers,
    logger: pino({ level: process.env['LOG_LEVEL'] ?? 'error' }),
  });
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  let producing: Promise<void> | undefined;

  return {
    async read(topic) {
      const admin = kafka.admin();
      await admin.connect();
      const groupId = `export-cli-dead-letters-${randomUUID()}`;
      try {
        const ends = (await admin.fetchTopicOffsets(topic)).filter((p) => Number(p.high) > Number(p.low));
        if (ends.length === 0) return [];
        const remaining = new Map(ends.map((p) => [p.partition, BigInt(p.high)]));
        const records: DeadLetterRecord[] = [];
        const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
        await consumer.connect();
        try {
          await consumer.subscribe({ topic, fromBeginning: true });
          await new Promise<void>((resolve, reject) => {
            consumer
              .run({
                autoCommit: false,
                eachMessage: async ({ partition, message }) => {
                  const end = remaining.get(partition);
                  if (end === undefined) return;
                  if (BigInt(message.offset) < end) {
                    const headers: Record<string, string> = {};
                    for (const [k, v] of Object.entries(message.headers ?? {}))
                      if (v !== undefined) headers[k] = String(v);
                    records.push({
                      partition,
                      offset: message.offset,
                      timestamp: message.timestamp,
                      key: message.key?.toString() ?? null,
                      value: message.value?.toString() ?? null,
                      headers,
                    });
                  }
                  if (BigInt(message.offset) + 1n >= end) remaining.delete(partition);
                  if (remaining.size === 0) resolve();
                },
              })
              .catch(reject);
          });
        } finally {
          await consumer.disconnect();
        }
        return records.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
      } finally {
        await admin.deleteGroups([groupId]).catch(() => undefined);
        await admin.disconnect();
      }
    },
    async publish(topic, { key, value, headers }) {
      producing ??= producer.connect();
      await producing;
      await producer.send({ topic, acks: -1, messages: [{ key, value, headers }] });
    },
    async close() {
      if (producing) await producer.disconnect();
    },
  };
}
