import { randomUUID } from 'node:crypto';
import { DeadLetterV1, TOPICS, type SegmentRefreshedV1 } from '@export/contracts';
import { createLogger } from '@export/logging';
import { collectMessages, expectEventually, produceRaw, startGroupAtEnd, TEST_KAFKA_BROKERS } from '@export/testing';
import type { INestMicroservice } from '@nestjs/common';
import { Ctx, EventPattern, Payload, type CustomStrategy } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import {
  createKafka,
  EventPublisher,
  KafkaConsumers,
  KafkaContext,
  KafkaController,
  KafkaTransport,
  type ConsumerTimings,
  type KafkaHandlerOptions,
} from '@export/kafka';

const topic = TOPICS.segmentRefreshed.name;
const logger = createLogger({ service: 'kafka-transport-int-test', level: 'silent' });
const kafka = createKafka({ clientId: 'kafka-transport-int-test', brokers: TEST_KAFKA_BROKERS, logger });

/** The handler of the app under test, set by each test (a new app per step, as after a restart). */
let behaviour: (value: SegmentRefreshedV1, ctx: KafkaContext) => Promise<void>;

@KafkaController()
class Refreshed {
  @EventPattern(topic, { readiness: 'refreshed', maxAttempts: 2, retryInitialDelayMs: 10, retryMaxDelayMs: 10 } satisfies KafkaHandlerOptions)
  onRefreshed(@Payload() value: SegmentRefreshedV1, @Ctx() ctx: KafkaContext): Promise<void> {
    return behaviour(value, ctx);
  }
}

const apps: INestMicroservice[] = [];

/** A Nest microservice with the Kafka transport, its handler in `groupId`, joined to the group. */
async function startApp(groupId: string, timings: Partial<ConsumerTimings> = {}): Promise<INestMicroservice> {
  const publisher = new EventPublisher(kafka, 'kafka-transport-int-test', logger);
  const consumers = new KafkaConsumers(kafka, publisher, logger, timings);
  let healthy = (): boolean => false;
  const moduleRef = await Test.createTestingModule({ controllers: [Refreshed] }).compile();
  const app = moduleRef.createNestMicroservice<CustomStrategy>({
    strategy: new KafkaTransport(consumers, { groupId, readiness: { register: (_name, check) => (healthy = check) } }),
    logger: false,
  });
  apps.push(app);
  await app.listen();
  await expectEventually(() => healthy(), { message: 'consumer joined its group', timeoutMs: 45000 });
  return app;
}

function event(tenantId: string, segmentId: string): SegmentRefreshedV1 {
  return {
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    tenantId,
    segment: { id: segmentId, name: segmentId, memberCount: 1 },
    snapshot: { format: 'csv', location: '/tmp/none.csv' },
  };
}

// Every app reads the same topic with the same handler: none outlives its test.
afterEach(async () => {
  await Promise.allSettled(apps.splice(0).map((app) => app.close()));
});

describe('KafkaTransport on a real broker', () => {
  it('commits an offset only once its handler finished: work cut short by a stop is redelivered, finished work is not', async () => {
    const groupId = `kafka-transport-int-${randomUUID()}`;
    await startGroupAtEnd(groupId, [topic]);
    const tenant = `t-${randomUUID()}`;
    const key = `${tenant}:seg`;
    const seen: string[] = [];

    // 1. The handler is stopped in the middle of its work (the instance shuts down): nothing is committed.
    behaviour = async (value, ctx) => {
      if (value.tenantId !== tenant) return;
      seen.push(`first:${value.segment.id}`);
      await new Promise<void>((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('stopped'))));
    };
    const first = await startApp(groupId);
    await produceRaw(topic, [{ key, value: JSON.stringify(event(tenant, 'a')) }]);
    await expectEventually(() => seen.length === 1, { message: 'the first instance took the message' });
    await first.close();

    // 2. The next instance of the group gets the unfinished message again and finishes it.
    behaviour = async (value) => {
      if (value.tenantId === tenant) seen.push(`second:${value.segment.id}`);
    };
    const second = await startApp(groupId);
    await expectEventually(() => seen.includes('second:a'), { message: 'the unfinished message redelivered' });
    await second.close();

    // 3. Finished work was committed: a third instance sees only what comes after it.
    behaviour = async (value) => {
      if (value.tenantId === tenant) seen.push(`third:${value.segment.id}`);
    };
    await startApp(groupId);
    await produceRaw(topic, [{ key, value: JSON.stringify(event(tenant, 'b')) }]);
    await expectEventually(() => seen.includes('third:b'), { message: 'the next message' });
    expect(seen).toEqual(['first:a', 'second:a', 'third:b']);
  });

  it('keeps the member in its group through a handler running longer than twice the session timeout', async () => {
    const groupId = `kafka-transport-int-${randomUUID()}`;
    await startGroupAtEnd(groupId, [topic]);
    const tenant = `t-${randomUUID()}`;
    const calls: { segment: string; finished: boolean; aborted: boolean }[] = [];
    // 6 s is the broker's least session timeout; the handler runs 15 s. Without heartbeats during it, the
    // broker would evict the member after 6 s: the handler would be aborted and the message taken again.
    behaviour = async (value, ctx) => {
      if (value.tenantId !== tenant) return;
      const call = { segment: value.segment.id, finished: false, aborted: false };
      calls.push(call);
      if (value.segment.id === 'long') await new Promise((resolve) => setTimeout(resolve, 15_000));
      call.aborted = ctx.signal.aborted;
      call.finished = true;
    };
    const app = await startApp(groupId, { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000, rebalanceTimeoutMs: 10_000 });
    await produceRaw(topic, [{ key: `${tenant}:seg`, value: JSON.stringify(event(tenant, 'long')) }]);
    await expectEventually(() => calls[0]?.finished, { message: 'the long handler finished', timeoutMs: 45_000 });
    await app.close();

    // Its offset was committed: another instance of the group does not take the message again.
    await startApp(groupId);
    await produceRaw(topic, [{ key: `${tenant}:seg`, value: JSON.stringify(event(tenant, 'after')) }]);
    await expectEventually(() => calls.some((c) => c.segment === 'after' && c.finished), { message: 'the next message' });
    expect(calls).toEqual([
      { segment: 'long', finished: true, aborted: false },
      { segment: 'after', finished: true, aborted: false },
    ]);
  }, 120_000);

  it('dead-letters a value that breaks its contract and one that fails past its bound, naming the group', async () => {
    const groupId = `kafka-transport-int-${randomUUID()}`;
    await startGroupAtEnd(groupId, [topic]);
    const tenant = `t-${randomUUID()}`;
    const key = `${tenant}:seg`;
    const handled: string[] = [];
    let attempts = 0;
    behaviour = async (value) => {
      if (value.tenantId !== tenant) return;
      if (value.segment.id === 'flaky') {
        attempts++;
        throw new Error('still failing');
      }
      handled.push(value.segment.id);
    };
    const dlq = await collectMessages([TOPICS.deadLetter.name]);
    await startApp(groupId);
    await produceRaw(topic, [
      { key, value: '{"eventId": "x", oops' },
      { key, value: JSON.stringify(event(tenant, 'flaky')) },
      { key, value: JSON.stringify(event(tenant, 'after')) },
    ]);
    await expectEventually(() => handled.includes('after'), { message: 'the message after two bad ones' });
    const letters = await expectEventually(
      () => {
        const mine = dlq.messages
          .filter((m) => m.key === key)
          .map((m) => DeadLetterV1.parse(JSON.parse(m.value ?? '')))
          .filter((l) => l.consumerGroup === groupId);
        return mine.length === 2 ? mine : undefined;
      },
      { message: 'two dead letters' },
    );
    await dlq.stop();
    expect(letters.map((l) => l.code)).toEqual(['INVALID_JSON', 'RETRIES_EXHAUSTED']);
    expect(attempts).toBe(2);
  });
});
