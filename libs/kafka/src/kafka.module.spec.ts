import pino from 'pino';
import type { EventPublisher } from './event-publisher';
import { KafkaConsumers } from './kafka.module';
import type { TopicConsumer } from './topic-consumer';
import type { TopicName } from '@export/contracts';

/** A TopicConsumer stand-in that only records pause/resume. */
function fakeConsumer() {
  let paused = false;
  return {
    pause: jest.fn(() => (paused = true)),
    resume: jest.fn(() => (paused = false)),
    get isPaused() {
      return paused;
    },
  };
}

describe('KafkaConsumers.pauseWhileDown', () => {
  it('pauses every consumer while a dependency is down and resumes them when it is back', async () => {
    const consumers = new KafkaConsumers({} as never, {} as EventPublisher, pino({ level: 'silent' }));
    const a = fakeConsumer();
    const b = fakeConsumer();
    // Registered consumers are private: put the stand-ins where register() would.
    (consumers as unknown as { consumers: TopicConsumer<TopicName>[] }).consumers.push(
      a as unknown as TopicConsumer<TopicName>,
      b as unknown as TopicConsumer<TopicName>,
    );
    let databaseUp = true;
    consumers.pauseWhileDown('database', async () => {
      if (!databaseUp) throw new Error('connection refused');
      return true;
    });

    await consumers.checkDependencies();
    expect(a.pause).not.toHaveBeenCalled();

    databaseUp = false;
    await consumers.checkDependencies();
    expect(consumers.dependenciesDown).toEqual(['database']);
    expect(a.isPaused && b.isPaused).toBe(true);

    await consumers.checkDependencies();
    expect(a.pause).toHaveBeenCalledTimes(2); // re-applied while down
    expect(a.resume).not.toHaveBeenCalled();

    databaseUp = true;
    await consumers.checkDependencies();
    expect(consumers.dependenciesDown).toEqual([]);
    expect(a.isPaused || b.isPaused).toBe(false);
    expect(a.resume).toHaveBeenCalledTimes(1);
  });
});

describe('KafkaConsumers group timings', () => {
  function kafkaRecordingConsumerConfig() {
    const configs: Record<string, unknown>[] = [];
    const consumer = { on: jest.fn(), events: {} };
    const kafka = {
      consumer: jest.fn((config: Record<string, unknown>) => {
        configs.push(config);
        return consumer;
      }),
    };
    return { kafka, configs };
  }

  it('gives every consumer a 10 s session, 1 s heartbeats and a 20 s rebalance timeout by default (not kafkajs 30 s)', () => {
    const { kafka, configs } = kafkaRecordingConsumerConfig();
    new KafkaConsumers(kafka as never, {} as EventPublisher, pino({ level: 'silent' })).register({
      groupId: 'g',
      topics: [],
      handle: async () => undefined,
    });
    expect(configs[0]).toMatchObject({ sessionTimeout: 10_000, heartbeatInterval: 1_000, rebalanceTimeout: 20_000 });
  });

  it("applies the service's timings (KAFKA_SESSION_TIMEOUT_MS ...) to every consumer it registers", () => {
    const { kafka, configs } = kafkaRecordingConsumerConfig();
    new KafkaConsumers(kafka as never, {} as EventPublisher, pino({ level: 'silent' }), {
      sessionTimeoutMs: 45_000,
      heartbeatIntervalMs: 3_000,
      rebalanceTimeoutMs: 60_000,
    }).register({ groupId: 'g', topics: [], handle: async () => undefined });
    expect(configs[0]).toMatchObject({ sessionTimeout: 45_000, heartbeatInterval: 3_000, rebalanceTimeout: 60_000 });
  });
});
