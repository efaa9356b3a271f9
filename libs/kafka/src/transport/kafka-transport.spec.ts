import { TOPICS, type SegmentRefreshedV1 } from '@export/contracts';
import { AppError } from '@export/errors';
import { Controller, type Type } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload, type CustomStrategy } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import pino from 'pino';
import { EventPublisher } from '../event-publisher';
import { KafkaConsumers } from '../kafka.module';
import { event, fakeKafka, message, topic } from '../topic-consumer.fixtures';
import { KafkaContext } from './kafka-context';
import { KafkaController, type KafkaHandlerOptions } from './kafka-controller';
import { KafkaTransport } from './kafka-transport';

const FAST_RETRIES = { retryInitialDelayMs: 1, retryMaxDelayMs: 1 } satisfies KafkaHandlerOptions;
const valueOf = (eventId: string) => JSON.stringify({ ...event, eventId });
const letters = (sent: { topic: string; messages: { value: string }[] }[]) =>
  sent.filter((s) => s.topic === TOPICS.deadLetter.name).flatMap((s) => s.messages.map((m) => JSON.parse(m.value)));

/** What the handlers of a test did. */
let seen: { eventId: string; correlationId: string; offset: string }[] = [];
let behaviour: (value: SegmentRefreshedV1, ctx: KafkaContext) => Promise<void> = async () => undefined;

@KafkaController()
class RefreshHandlers {
  @EventPattern(topic, { readiness: 'kafka-refreshed', maxAttempts: 3, ...FAST_RETRIES } satisfies KafkaHandlerOptions)
  async onRefreshed(@Payload() value: SegmentRefreshedV1, @Ctx() ctx: KafkaContext): Promise<void> {
    seen.push({ eventId: value.eventId, correlationId: ctx.correlationId, offset: ctx.offset });
    await behaviour(value, ctx);
  }
}

/** The same handler in a plain @Controller(): Nest's default RPC filter handles its errors. */
@Controller()
class PlainHandlers {
  @EventPattern(topic, { maxAttempts: 2, ...FAST_RETRIES } satisfies KafkaHandlerOptions)
  async onRefreshed(@Payload() value: SegmentRefreshedV1): Promise<void> {
    seen.push({ eventId: value.eventId, correlationId: '', offset: '' });
    await behaviour(value, undefined as never);
  }
}

async function start(controllers: Type[]) {
  const fake = fakeKafka(topic);
  const logger = pino({ level: 'silent' });
  const consumers = new KafkaConsumers(fake.kafka, new EventPublisher(fake.kafka, 'test-service', logger), logger);
  const checks = new Map<string, () => boolean>();
  const moduleRef = await Test.createTestingModule({ controllers }).compile();
  const app = moduleRef.createNestMicroservice<CustomStrategy>({
    strategy: new KafkaTransport(consumers, { groupId: 'svc', readiness: { register: (name, check) => checks.set(name, check) } }),
    logger: false,
  });
  await app.listen();
  return { ...fake, app, checks };
}

beforeEach(() => {
  seen = [];
  behaviour = async () => undefined;
});

afterEach(() => jest.useRealTimers());

describe('KafkaTransport: @EventPattern handlers on the TopicConsumer', () => {
  it('hands the parsed value to @Payload() and the message to @Ctx(), and resolves the offset after the handler', async () => {
    const { app, deliver, groups, checks } = await start([RefreshHandlers]);
    const resolved = await deliver([message('7', valueOf('e-7'), { 'x-correlation-id': 'corr-7' })], '8');
    expect(seen).toEqual([{ eventId: 'e-7', correlationId: 'corr-7', offset: '7' }]);
    expect(resolved).toEqual(['7']);
    expect(groups).toEqual(['svc']);
    expect([...checks.keys()]).toEqual(['kafka-refreshed']);
    await app.close();
  });

  it('dead-letters a value that breaks its contract without calling the handler, and goes on', async () => {
    const { app, deliver, sent } = await start([RefreshHandlers]);
    const resolved = await deliver([message('0', JSON.stringify({ eventId: 'x' })), message('1', valueOf('next'))], '2');
    expect(seen.map((s) => s.eventId)).toEqual(['next']);
    expect(resolved).toEqual(['0', '1']);
    expect(letters(sent)).toEqual([expect.objectContaining({ code: 'SCHEMA_MISMATCH', offset: '0', consumerGroup: 'svc' })]);
    await app.close();
  });

  it('retries a transient failure up to the bound of its @EventPattern, then dead-letters it and goes on', async () => {
    behaviour = async (value) => {
      if (value.eventId === 'stuck') throw new Error('something odd');
    };
    const { app, deliver, sent } = await start([RefreshHandlers]);
    const resolved = await deliver([message('0', valueOf('stuck')), message('1', valueOf('next'))], '2');
    expect(seen.map((s) => s.eventId)).toEqual(['stuck', 'stuck', 'stuck', 'next']);
    expect(resolved).toEqual(['0', '1']);
    const [letter] = letters(sent);
    expect(letter).toMatchObject({ code: 'RETRIES_EXHAUSTED' });
    expect(letter.reason).toContain('3 attempts');
    expect(letter.reason).toContain('something odd');
    await app.close();
  });

  it("keeps a thrown error's class through Nest's exception layer: a permanent one is dead-lettered at once with its code", async () => {
    behaviour = async () => {
      throw new AppError('validation', 'segment name refused', { code: 'SEGMENT_REFUSED' });
    };
    const { app, deliver, sent } = await start([RefreshHandlers]);
    await deliver([message('0', valueOf('bad'))], '1');
    expect(seen).toHaveLength(1);
    expect(letters(sent)).toEqual([expect.objectContaining({ code: 'SEGMENT_REFUSED', reason: 'segment name refused' })]);
    await app.close();
  });

  it('keeps an outage an outage: the message waits for the dependency without spending its bound', async () => {
    let outages = 5;
    behaviour = async () => {
      if (outages-- > 0) throw new AppError('upstream-unavailable', 'database down');
    };
    const { app, deliver, sent } = await start([RefreshHandlers]);
    const resolved = await deliver([message('0', valueOf('waits'))], '1');
    expect(seen).toHaveLength(6); // 5 outages, then success: more than maxAttempts (3), nothing dead-lettered
    expect(resolved).toEqual(['0']);
    expect(letters(sent)).toEqual([]);
    await app.close();
  });

  it("shows why KafkaController exists: Nest's default RPC filter flattens the error of a plain @Controller()", async () => {
    behaviour = async () => {
      throw new AppError('validation', 'segment name refused', { code: 'SEGMENT_REFUSED' });
    };
    const { app, deliver, sent } = await start([PlainHandlers]);
    await deliver([message('0', valueOf('bad'))], '1');
    // The permanent failure became `{ status: 'error', message: 'Internal server error' }`: retried as transient.
    expect(seen).toHaveLength(2);
    const [letter] = letters(sent);
    expect(letter.code).toBe('RETRIES_EXHAUSTED');
    expect(letter.reason).not.toContain('segment name refused');
    await app.close();
  });

  it('heartbeats all through a 60 s handler and resolves its offset only once the work is done', async () => {
    jest.useFakeTimers();
    let done = false;
    behaviour = async (_value, ctx) => {
      await new Promise<void>((resolve) => setTimeout(resolve, 60_000));
      expect(ctx.signal.aborted).toBe(false);
      done = true;
    };
    const { app, deliver, heartbeats } = await start([RefreshHandlers]);
    const resolved: string[] = [];
    const delivered = deliver([message('0', valueOf('long'))], '1', resolved);
    await jest.advanceTimersByTimeAsync(59_000);
    expect(done).toBe(false);
    expect(resolved).toEqual([]); // not durable yet: a crash now redelivers the message
    expect(heartbeats()).toBeGreaterThanOrEqual(59); // the pacemaker, every heartbeat interval (1 s)
    await jest.advanceTimersByTimeAsync(1_000);
    await delivered;
    expect(done).toBe(true);
    expect(resolved).toEqual(['0']);
    jest.useRealTimers();
    await app.close();
  });
});

describe('KafkaTransport: groups and patterns', () => {
  it('gives each handler the consumer group its @EventPattern names, several per service and per topic', async () => {
    @KafkaController()
    class TwoGroups {
      @EventPattern(TOPICS.runControl.name, { group: (g) => `${g}-control`, readiness: 'kafka-control' } satisfies KafkaHandlerOptions)
      async control(): Promise<void> {
        seen.push({ eventId: 'control', correlationId: '', offset: '' });
      }

      @EventPattern(TOPICS.runControl.name, { group: (g) => `${g}.cancels`, fromBeginning: true } satisfies KafkaHandlerOptions)
      async cancels(): Promise<void> {
        seen.push({ eventId: 'cancels', correlationId: '', offset: '' });
      }

      @EventPattern(topic)
      async refreshed(): Promise<void> {
        seen.push({ eventId: 'refreshed', correlationId: '', offset: '' });
      }
    }
    const { app, groups, checks } = await start([TwoGroups]);
    expect(groups.sort()).toEqual(['svc', 'svc-control', 'svc.cancels']);
    expect([...checks.keys()]).toEqual(['kafka-control']);
    await app.close();
  });

  it('refuses at start a request-reply @MessagePattern and a pattern that is no topic of the contracts', async () => {
    @KafkaController()
    class Replies {
      @MessagePattern(topic)
      async reply(): Promise<string> {
        return 'no one listens';
      }
    }
    @KafkaController()
    class Typo {
      @EventPattern('customer-insights.segment-refresh.v1')
      async handle(): Promise<void> {
        seen.push({ eventId: 'typo', correlationId: '', offset: '' });
      }
    }
    await expect(start([Replies])).rejects.toThrow('Kafka handlers are events only');
    await expect(start([Typo])).rejects.toThrow('not a topic of the contracts');
  });
});
