import { AppError } from '@export/errors';
import { HEADERS, TOPICS, topicByName, type TopicName, type TopicValue, type DeadLetterV1 } from '@export/contracts';
import { CompressionTypes, Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { kafkaMetrics } from './kafka.metrics';
import { outgoingTraceparent } from './trace-context';

export interface OutgoingMessage<N extends TopicName> {
  key: string;
  value: TopicValue<N>;
  headers?: Record<string, string>;
}

export interface PublishContext {
  correlationId?: string;
  /** Parent span; by default the span of the message being handled (same correlation id) or the run's trace. */
  traceparent?: string;
}

/**
 * Typed producer: every value is parsed with its topic's schema before it is sent, so no service can put
 * a message on a topic that its consumers would reject. Sends wait for all in-sync replicas (acks=-1).
 */
export class EventPublisher {
  private readonly producer: Producer;
  private connecting?: Promise<void>;

  constructor(
    kafka: Kafka,
    private readonly service: string,
    private readonly logger: Logger,
  ) {
    // The Java-compatible murmur2 partitioner: keys land on the same partitions as with Java clients.
    this.producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  }

  connect(): Promise<void> {
    this.connecting ??= this.producer.connect().catch((error) => {
      this.connecting = undefined;
      throw error;
    });
    return this.connecting;
  }

  async disconnect(): Promise<void> {
    if (this.connecting) await this.producer.disconnect();
    this.connecting = undefined;
  }

  async publish<N extends TopicName>(topic: N, messages: OutgoingMessage<N>[], context: PublishContext = {}): Promise<void> {
    if (messages.length === 0) return;
    const definition = topicByName(topic);
    if (!definition) throw new AppError('internal', `Unknown topic ${topic}`);
    // One producer span per send: same trace as the work that caused it, new span id.
    const traceparent = outgoingTraceparent(context);
    const encoded = messages.map((message) => {
      const parsed = definition.schema.safeParse(message.value);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
        throw new AppError('contract-violation', `Refusing to publish an invalid ${topic} message: ${issues}`);
      }
      return {
        key: message.key,
        value: JSON.stringify(parsed.data),
        headers: this.headers(context.correlationId, traceparent, message.headers),
      };
    });
    await this.connect();
    await this.producer.send({ topic, messages: encoded, acks: -1, compression: CompressionTypes.None });
    kafkaMetrics.produced.inc({ topic }, encoded.length);
  }

  /** Sends a message to the dead-letter topic. Never throws a contract error: the reason is the payload. */
  async deadLetter(letter: DeadLetterV1, context: PublishContext = {}): Promise<void> {
    await this.publish(TOPICS.deadLetter.name, [{ key: letter.key ?? 'none', value: letter }], context);
    this.logger.warn(
      { topic: letter.sourceTopic, partition: letter.partition, offset: letter.offset, code: letter.code, reason: letter.reason },
      'message dead-lettered',
    );
  }

  private headers(correlationId: string | undefined, traceparent: string, extra?: Record<string, string>): Record<string, string> {
    const headers: Record<string, string> = { [HEADERS.producer]: this.service, ...extra };
    if (correlationId) headers[HEADERS.correlationId] = correlationId;
    headers[HEADERS.traceparent] = traceparent;
    return headers;
  }
}
