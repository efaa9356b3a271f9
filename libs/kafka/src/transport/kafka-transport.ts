import { topicByName, type TopicName, type TopicValue } from '@export/contracts';
import type { INestApplication, INestMicroservice } from '@nestjs/common';
import { type CustomStrategy, type CustomTransportStrategy, type MessageHandler, Server } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import { KafkaConsumers } from '../kafka.module';
import type { ConsumedMessage } from '../topic-consumer';
import { KafkaContext } from './kafka-context';
import type { KafkaHandlerOptions } from './kafka-controller';

export interface KafkaTransportOptions {
  /** The service's consumer group (KAFKA_GROUP_ID): the default group of its handlers. */
  groupId: string;
  /** Default partitions handled at once per handler (KAFKA_PARTITIONS_CONCURRENCY where the service has it). */
  partitionsConsumedConcurrently?: number;
  /** Where each handler's consumer reports its health (the service's Readiness). */
  readiness?: { register(name: string, check: () => boolean): void };
}

/**
 * Nest transport of the services' Kafka handlers: one TopicConsumer per `@EventPattern(topic)` handler,
 * in the handler's consumer group. What the consumer guarantees stays: the value is parsed with the
 * topic's schema before the handler sees it (refused ones are dead-lettered), its offset is resolved only
 * once the handler's promise (or observable) has completed, the consumer heartbeats while it runs, and the
 * handler's error decides between dead letter, bounded retries and waiting for a dependency.
 * Only events: a topic handler answers nobody (`@MessagePattern` is refused at start).
 */
export class KafkaTransport extends Server implements CustomTransportStrategy {
  constructor(
    private readonly consumers: KafkaConsumers,
    private readonly options: KafkaTransportOptions,
  ) {
    super();
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      for (const [pattern, head] of this.messageHandlers) {
        for (let handler: MessageHandler | undefined = head; handler; handler = handler.next) this.subscribe(pattern, handler);
      }
      await this.consumers.startAll();
      callback();
    } catch (error) {
      callback(error);
    }
  }

  async close(): Promise<void> {
    await this.consumers.stopAll();
  }

  on(): never {
    throw new Error('KafkaTransport has no events to listen to; see the consumers\' readiness instead');
  }

  unwrap<T>(): T {
    return this.consumers as T;
  }

  private subscribe(pattern: string, handler: MessageHandler): void {
    if (!handler.isEventHandler) throw new Error(`@MessagePattern(${pattern}): Kafka handlers are events only (use @EventPattern)`);
    const topic = topicByName(pattern)?.name as TopicName | undefined;
    if (!topic) throw new Error(`@EventPattern(${pattern}): not a topic of the contracts`);
    const extras = (handler.extras ?? {}) as KafkaHandlerOptions;
    const consumer = this.consumers.register({
      groupId: extras.group ? extras.group(this.options.groupId) : this.options.groupId,
      topics: [topic],
      partitionsConsumedConcurrently: extras.partitionsConsumedConcurrently ?? this.options.partitionsConsumedConcurrently,
      fromBeginning: extras.fromBeginning,
      failRunAs: extras.failRunAs,
      maxAttempts: extras.maxAttempts,
      maxRetryMs: extras.maxRetryMs,
      retryInitialDelayMs: extras.retryInitialDelayMs,
      retryMaxDelayMs: extras.retryMaxDelayMs,
      handle: (message) => invoke(handler, message),
    });
    if (extras.readiness) this.options.readiness?.register(extras.readiness, () => consumer.healthy);
  }
}

/** Runs a Nest handler (`@Payload()` the parsed value, `@Ctx()` a KafkaContext) to its end, errors as thrown. */
export async function invoke<N extends TopicName>(handler: MessageHandler, message: ConsumedMessage<TopicValue<N>>): Promise<void> {
  const result: unknown = await handler(message.value, new KafkaContext(message));
  if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
}

/**
 * Connects the service's `@EventPattern` handlers to Kafka (`app.startAllMicroservices()` starts them). Call
 * it after `app.init()`, so every provider is ready before the first message arrives.
 */
export function connectKafkaTransport(app: INestApplication, options: KafkaTransportOptions): INestMicroservice {
  return app.connectMicroservice<CustomStrategy>({ strategy: new KafkaTransport(app.get(KafkaConsumers), options) });
}
