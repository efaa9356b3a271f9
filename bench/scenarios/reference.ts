/**
 * The reference pipeline (scenario 6): the same CSV rows read by a minimal script with no services, sent
 * through one Kafka topic and posted to the simulator in bulk calls of 100 (several in flight), to show what
 * the services add. No validation, no ledger, no pacing: a floor, not a competitor.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { testKafka } from '@export/testing';

export interface ReferenceResult {
  rows: number;
  acknowledged: number;
  seconds: number;
}

export async function runReference(file: string, simulatorUrl: string, apiKey: string): Promise<ReferenceResult> {
  const kafka = testKafka();
  const topic = `bench.reference.${randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId: `bench-reference-${randomUUID()}` });
  await Promise.all([producer.connect(), consumer.connect()]);
  await consumer.subscribe({ topic, fromBeginning: true });
  try {
    const started = performance.now();
    let rows = 0;
    let acknowledged = 0;
    let produced = false;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const post = async (contacts: { Email: string; FirstName: string; LastName: string }[]) => {
      for (;;) {
        const response = await fetch(`${simulatorUrl}/v1/contacts`, {
          method: 'POST',
          headers: { autopilotapikey: apiKey, 'content-type': 'application/json' },
          body: JSON.stringify({ contacts }),
        });
        await response.arrayBuffer();
        if (response.ok) return;
        if (response.status !== 429 && response.status < 500) throw new Error(`reference POST /contacts: ${response.status}`);
      }
    };
    // One message per 100 rows, as the services batch; each message is one bulk call.
    await consumer.run({
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        const inFlight: Promise<void>[] = [];
        for (const message of batch.messages) {
          const contacts = JSON.parse(message.value?.toString() ?? '[]') as { Email: string; FirstName: string; LastName: string }[];
          inFlight.push(post(contacts).then(() => void (acknowledged += contacts.length)));
          if (inFlight.length >= 4) await Promise.all(inFlight.splice(0));
          resolveOffset(message.offset);
        }
        await Promise.all(inFlight);
        await heartbeat();
        if (produced && acknowledged >= rows) done();
      },
    });
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    let chunk: { Email: string; FirstName: string; LastName: string }[] = [];
    let pending: { value: string }[] = [];
    let header = true;
    for await (const line of lines) {
      if (header) {
        header = false;
        continue;
      }
      if (!line) continue;
      const [, email, first, last] = line.split(',');
      chunk.push({ Email: email, FirstName: first, LastName: last });
      rows++;
      if (chunk.length === 100) {
        pending.push({ value: JSON.stringify(chunk) });
        chunk = [];
      }
      if (pending.length === 50) {
        await producer.send({ topic, messages: pending, acks: -1 });
        pending = [];
      }
    }
    if (chunk.length > 0) pending.push({ value: JSON.stringify(chunk) });
    if (pending.length > 0) await producer.send({ topic, messages: pending, acks: -1 });
    produced = true;
    if (acknowledged >= rows) done();
    await finished;
    return { rows, acknowledged, seconds: Math.round((performance.now() - started) / 10) / 100 };
  } finally {
    await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}
