import { DynamicModule, Global, Inject, Injectable, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { TopicName } from '@export/contracts';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { EventPublisher } from './event-publisher';
import { createKafka } from './kafka-client';
import { TopicConsumer, type TopicConsumerOptions } from './topic-consumer';

export const KAFKA = Symbol('KAFKA');
export const KAFKA_LOGGER = Symbol('KAFKA_LOGGER');

export interface KafkaModuleOptions {
  /** Service name: the kafkajs client id and the producer header. */
  service: string;
  brokers: string[];
  logger: Logger;
}

/**
 * Owns the consumers of a service: feature modules register theirs while the app is built; all of them
 * start once the app has bootstrapped and stop (commit, leave the group) on shutdown.
 */
@Injectable()
export class KafkaConsumers implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly consumers: TopicConsumer<TopicName>[] = [];

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    private readonly publisher: EventPublisher,
    @Inject(KAFKA_LOGGER) private readonly logger: Logger,
  ) {}

  register<N extends TopicName>(options: TopicConsumerOptions<N>): TopicConsumer<N> {
    const consumer = new TopicConsumer(this.kafka, this.publisher, this.logger.child({ groupId: options.groupId }), options);
    this.consumers.push(consumer as unknown as TopicConsumer<TopicName>);
    return consumer;
  }

  get healthy(): boolean {
    return this.consumers.every((c) => c.healthy);
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const consumer of this.consumers) await consumer.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled(this.consumers.map((c) => c.stop()));
    await this.publisher.disconnect();
  }
}

@Global()
@Module({})
export class KafkaModule {
  static forRoot(options: KafkaModuleOptions): DynamicModule {
    const kafka = createKafka({ clientId: options.service, brokers: options.brokers, logger: options.logger });
    return {
      module: KafkaModule,
      providers: [
        { provide: KAFKA, useValue: kafka },
        { provide: KAFKA_LOGGER, useValue: options.logger },
        { provide: EventPublisher, useValue: new EventPublisher(kafka, options.service, options.logger) },
        KafkaConsumers,
      ],
      exports: [KAFKA, EventPublisher, KafkaConsumers],
    };
  }
}
