import { randomUUID } from 'node:crypto';
import { TOPICS, type SegmentRefreshedV1, DeadLetterV1 } from '@export/contracts';
import { AppError } from '@export/errors';
import { createLogger } from '@export/logging';
import { collectMessages, expectEventually, produceRaw, startGroupAtEnd, TEST_KAFKA_BROKERS } from '@export/testing';
import { createKafka, EventPublisher, TopicConsumer, type ConsumedMessage } from '@export/kafka';

const topic = TOPICS.segmentRefreshed.name;
const logger = createLogger({ service: 'kafka-int-test', level: 'silent' });

function event(tenantId: string, overrides: Partial<SegmentRefreshedV1> = {}): SegmentRefreshedV1 {
  return {
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    tenantId,
    segment: { id: 'seg-1', name: 'Segment 1', memberCount: 3 },
    snapshot: { format: 'csv', location: '/tmp/none.csv' },
    ...overrides,
  };
}

describe('TopicConsumer on a real broker', () => {
  const kafka = createKafka({ clientId: 'kafka-int-test', brokers: TEST_KAFKA_BROKERS, logger });
  const publisher = new EventPublisher(kafka, 'kafka-int-test', logger);
  const consumers: TopicConsumer<typeof topic>[] = [];

  afterAll(async () => {
    await Promise.all(consumers.map((c) => c.stop()));
    await publisher.disconnect();
  });

  async function startConsumer(handle: (m: ConsumedMessage<SegmentRefreshedV1>) => Promise<void>, maxAttempts?: number) {
    const groupId = `kafka-int-${randomUUID()}`;
    await startGroupAtEnd(groupId, [topic]);
    const consumer = new TopicConsumer(kafka, publisher, logger, {
      groupId,
      topics: [topic],
      maxAttempts,
      retryInitialDelayMs: 50,
      retryMaxDelayMs: 200,
      handle,
    });
    consumers.push(consumer);
    await consumer.start();
    await expectEventually(() => consumer.healthy, { message: 'consumer joined its group' });
    return consumer;
  }

  it('dead-letters bad JSON and wrong shapes with a reason and goes on with the next event', async () => {
    const tenant = `t-${randomUUID()}`;
    const received: ConsumedMessage<SegmentRefreshedV1>[] = [];
    const dlq = await collectMessages([TOPICS.deadLetter.name]);
    const consumer = await startConsumer(async (m) => {
      if (m.value.tenantId === tenant) received.push(m);
    });

    const key = `${tenant}:seg-1`;
    const good = event(tenant);
    await produceRaw(topic, [
      { key, value: '{"eventId": "x", oops' },
      { key, value: JSON.stringify({ ...event(tenant), snapshot: { format: 'parquet', location: 'x' } }) },
      { key, value: JSON.stringify(good), headers: { 'x-correlation-id': 'corr-123' } },
    ]);

    await expectEventually(() => received.length === 1, { message: 'the valid event after two bad ones' });
    expect(received[0].value).toEqual(good);
    expect(received[0].correlationId).toBe('corr-123');

    const letters = await expectEventually(
      () => {
        // Only this consumer's letters: other groups on the shared broker may dead-letter the same messages.
        const mine = dlq.messages
          .filter((m) => m.key === key)
          .map((m) => DeadLetterV1.parse(JSON.parse(m.value ?? '')))
          .filter((l) => l.consumerGroup === consumer.groupId);
        return mine.length === 2 ? mine : undefined;
      },
      { message: 'two dead letters' },
    );
    await dlq.stop();
    expect(letters.map((l) => l.code).sort()).toEqual(['INVALID_JSON', 'SCHEMA_MISMATCH']);
    expect(letters.find((l) => l.code === 'SCHEMA_MISMATCH')?.reason).toContain('snapshot.format');
    expect(letters.every((l) => l.sourceTopic === topic)).toBe(true);
  });

  it('retries a failing handler in place, then dead-letters non-retryable errors without blocking', async () => {
    const tenant = `t-${randomUUID()}`;
    let attempts = 0;
    const done: string[] = [];
    const dlq = await collectMessages([TOPICS.deadLetter.name]);
    await startConsumer(async (m) => {
      if (m.value.tenantId !== tenant) return;
      if (m.value.segment.id === 'flaky' && ++attempts < 3) throw new Error('transient');
      if (m.value.segment.id === 'never') throw new AppError('validation', 'cannot ever work');
      done.push(m.value.segment.id);
    });
    const seg = (id: string) => event(tenant, { segment: { id, name: id, memberCount: 1 } });
    // One key, so one partition: the order of the three messages is what the consumer sees.
    const key = `${tenant}:ordered`;
    await produceRaw(topic, [
      { key, value: JSON.stringify(seg('flaky')) },
      { key, value: JSON.stringify(seg('never')) },
      { key, value: JSON.stringify(seg('after')) },
    ]);
    await expectEventually(() => done.length === 2, { message: 'both processable events handled' });
    expect(done).toEqual(['flaky', 'after']);
    expect(attempts).toBe(3);
    const letter = await expectEventually(() => dlq.messages.find((m) => m.key === key));
    await dlq.stop();
    expect(JSON.parse(letter.value ?? '')).toMatchObject({ code: 'NON_RETRYABLE', reason: 'cannot ever work' });
  });

  it('refuses to publish a value that breaks its contract', async () => {
    await expect(
      publisher.publish(topic, [{ key: 'k', value: { ...event('t'), tenantId: '' } as SegmentRefreshedV1 }]),
    ).rejects.toThrow(/Refusing to publish an invalid customer-insights.segment-refreshed.v1 message: tenantId/);
  });
});
