import { DynamicModule, Global, Inject, Injectable, Module, OnApplicationShutdown, Optional } from '@nestjs/common';
import type { TopicName } from '@export/contracts';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { EventPublisher } from './event-publisher';
import { createKafka, describeKafkaSecurity, type KafkaSecurityOptions } from './kafka-client';
import type { ConsumerTimings } from './consumer-timings';
import { TopicConsumer, type TopicConsumerOptions } from './topic-consumer';

export const KAFKA = Symbol('KAFKA');
export const KAFKA_LOGGER = Symbol('KAFKA_LOGGER');
export const KAFKA_CONSUMER_TIMINGS = Symbol('KAFKA_CONSUMER_TIMINGS');

export interface KafkaModuleOptions extends KafkaSecurityOptions {
  /** Service name: the kafkajs client id and the producer header. */
  service: string;
  brokers: string[];
  logger: Logger;
  /** Said once at start (e.g. an unencrypted connection that production allowed on purpose). */
  warnings?: string[];
  /** Group timings of every consumer of the service (KAFKA_SESSION_TIMEOUT_MS ...); defaults DEFAULT_CONSUMER_TIMINGS. */
  consumerTimings?: Partial<ConsumerTimings>;
  /** Largest message the service's publisher sends (see EventPublisherOptions); KAFKA_MAX_MESSAGE_BYTES. */
  maxMessageBytes?: number;
}

/**
 * Owns the consumers of a service: the Kafka transport (KafkaTransport) registers one per `@EventPattern`
 * handler and starts them all when the microservice listens; they stop (commit, leave the group) when it
 * closes, at the latest on shutdown.
 */
@Injectable()
export class KafkaConsumers implements OnApplicationShutdown {
  private readonly consumers: TopicConsumer<TopicName>[] = [];
  private readonly dependencies = new Map<string, DependencyCheck>();
  private readonly down = new Set<string>();
  private watchdog?: NodeJS.Timeout;
  private checking = false;

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    private readonly publisher: EventPublisher,
    @Inject(KAFKA_LOGGER) private readonly logger: Logger,
    @Optional() @Inject(KAFKA_CONSUMER_TIMINGS) private readonly timings: Partial<ConsumerTimings> = {},
  ) {}

  register<N extends TopicName>(options: TopicConsumerOptions<N>): TopicConsumer<N> {
    const consumer = new TopicConsumer(this.kafka, this.publisher, this.logger.child({ groupId: options.groupId }), {
      ...this.timings,
      ...options,
    });
    this.consumers.push(consumer as unknown as TopicConsumer<TopicName>);
    return consumer;
  }

  get healthy(): boolean {
    return this.consumers.every((c) => c.healthy);
  }

  /**
   * Every consumer of the service stops fetching while `check` fails (e.g. the database is down) and resumes
   * by itself once it passes: the message in hand retries in place, nothing new is taken, no offset moves.
   */
  pauseWhileDown(name: string, check: DependencyCheck): void {
    this.dependencies.set(name, check);
  }

  /** Names of the dependencies found down at the last check (consumers are paused while any is). */
  get dependenciesDown(): string[] {
    return [...this.down];
  }

  /** Starts every registered consumer and the dependency watchdog. */
  async startAll(): Promise<void> {
    for (const consumer of this.consumers) await consumer.start();
    if (this.dependencies.size > 0 && !this.watchdog) {
      this.watchdog = setInterval(() => void this.checkDependencies(), WATCHDOG_INTERVAL_MS);
      this.watchdog.unref();
    }
  }

  /** Stops every consumer (each commits what it resolved and leaves its group). */
  async stopAll(): Promise<void> {
    clearInterval(this.watchdog);
    this.watchdog = undefined;
    await Promise.allSettled(this.consumers.map((c) => c.stop()));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stopAll();
    await this.publisher.disconnect();
  }

  /** One round of dependency checks; exposed for tests. */
  async checkDependencies(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      for (const [name, check] of this.dependencies) {
        const up = await withTimeout(check, WATCHDOG_TIMEOUT_MS);
        if (!up && !this.down.has(name)) {
          this.down.add(name);
          this.logger.warn({ dependency: name }, 'dependency down: pausing Kafka consumers');
        } else if (up && this.down.has(name)) {
          this.down.delete(name);
          this.logger.info({ dependency: name }, 'dependency back');
        }
      }
      const wasPaused = this.consumers.some((c) => c.isPaused);
      // Re-applied on every round while down: kafkajs forgets paused topics when it restarts a consumer.
      if (this.down.size > 0) for (const consumer of this.consumers) consumer.pause();
      else if (wasPaused) {
        for (const consumer of this.consumers) consumer.resume();
        this.logger.info('every dependency up: Kafka consumers resumed');
      }
    } finally {
      this.checking = false;
    }
  }
}

export type DependencyCheck = () => Promise<boolean> | boolean;

const WATCHDOG_INTERVAL_MS = 1000;
const WATCHDOG_TIMEOUT_MS = 2000;

async function withTimeout(check: DependencyCheck, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(check),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

@Global()
@Module({})
export class KafkaModule {
  static forRoot(options: KafkaModuleOptions): DynamicModule {
    const { service, brokers, logger, ssl, sasl } = options;
    const kafka = createKafka({ clientId: service, brokers, logger, ssl, sasl });
    logger.info({ brokers, ...describeKafkaSecurity({ ssl, sasl }) }, 'kafka connection');
    for (const warning of options.warnings ?? []) logger.warn({ brokers }, warning);
    return {
      module: KafkaModule,
      providers: [
        { provide: KAFKA, useValue: kafka },
        { provide: KAFKA_LOGGER, useValue: options.logger },
        { provide: KAFKA_CONSUMER_TIMINGS, useValue: options.consumerTimings ?? {} },
        { provide: EventPublisher, useValue: new EventPublisher(kafka, options.service, options.logger, { maxMessageBytes: options.maxMessageBytes }) },
        KafkaConsumers,
      ],
      exports: [KAFKA, KAFKA_LOGGER, EventPublisher, KafkaConsumers],
    };
  }
}
