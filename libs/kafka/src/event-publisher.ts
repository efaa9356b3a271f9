import { AppError } from '@export/errors';
import { HEADERS, TOPICS, type TopicName, type TopicValue, type DeadLetterV1 } from '@export/contracts';
import { CompressionTypes, Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { kafkaMetrics } from './kafka.metrics';
import { topicSchema } from './topic-schema';
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
  /**
   * The values were built to satisfy the topic's contract (the caller's tests parse what it publishes with
   * the schema) out of input that a schema already parsed, and carry nothing unchecked from outside: they
   * are sent as they are, without parsing them again (mapping's contacts: 100,000 a run). Leave it unset
   * for anything else.
   */
  prevalidated?: boolean;
}

export interface EventPublisherOptions {
  /**
   * Largest message (key, value and headers, in bytes) this publisher sends, and the most one send puts
   * together; default DEFAULT_MAX_MESSAGE_BYTES. Keep it at or under the broker's and topics'
   * `max.message.bytes` (1 MiB by default).
   */
  maxMessageBytes?: number;
}

/**
 * The broker's default `max.message.bytes` is 1,048,588 bytes for a whole record batch; a little under 1 MB
 * leaves room for the batch's and each record's framing.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_000_000;
/** Framing of one record in a batch (length, attributes, deltas, header counts), generously rounded up. */
const RECORD_OVERHEAD_BYTES = 64;

/**
 * Typed producer: every value is parsed with its topic's schema before it is sent (unless the caller built it
 * to the contract from parsed input: `prevalidated`), so no service can put a message on a topic that its
 * consumers would reject. Sends wait for all in-sync replicas (acks=-1).
 * A message over the maximum size is refused before anything is sent (a permanent MESSAGE_TOO_LARGE, never a
 * broker error after a partial send), and one publish is cut into sends that each stay under it.
 */
export class EventPublisher {
  private readonly producer: Producer;
  private connecting?: Promise<void>;
  readonly maxMessageBytes: number;

  constructor(
    kafka: Kafka,
    private readonly service: string,
    private readonly logger: Logger,
    options: EventPublisherOptions = {},
  ) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
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
    const schema = topicSchema(topic);
    if (!schema) throw new AppError('internal', `Unknown topic ${topic}`);
    // One producer span per send: same trace as the work that caused it, new span id.
    const traceparent = outgoingTraceparent(context);
    const encoded = messages.map((message) => {
      const record = {
        key: message.key,
        value: JSON.stringify(context.prevalidated ? message.value : this.parsed(topic, schema, message.value)),
        headers: this.headers(context.correlationId, traceparent, message.headers),
      };
      const bytes = encodedSize(record);
      if (bytes > this.maxMessageBytes) {
        throw new AppError(
          'contract-violation',
          `Refusing to publish a ${topic} message of ${bytes} bytes: it is over the maximum of ${this.maxMessageBytes} bytes`,
          { code: 'MESSAGE_TOO_LARGE', bytes, maxBytes: this.maxMessageBytes },
        );
      }
      return { record, bytes };
    });
    await this.connect();
    // Sends in order, each under the maximum: the broker limits a partition's whole record batch, not a record.
    for (const chunk of chunksUnder(encoded, this.maxMessageBytes)) {
      await this.producer.send({ topic, messages: chunk, acks: -1, compression: CompressionTypes.None });
      kafkaMetrics.produced.inc({ topic }, chunk.length);
    }
  }

  private parsed(topic: TopicName, schema: z.ZodType, value: unknown): unknown {
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new AppError('contract-violation', `Refusing to publish an invalid ${topic} message: ${issues}`);
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

interface EncodedRecord {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** What a record weighs on the wire: key, value, header names and values, and its framing. */
function encodedSize(record: EncodedRecord): number {
  let bytes = RECORD_OVERHEAD_BYTES + Buffer.byteLength(record.key) + Buffer.byteLength(record.value);
  for (const [name, value] of Object.entries(record.headers)) bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  return bytes;
}

/** Consecutive groups of records whose sizes add up to at most `max` (each record alone is under it). */
function* chunksUnder(records: { record: EncodedRecord; bytes: number }[], max: number): Generator<EncodedRecord[]> {
  let chunk: EncodedRecord[] = [];
  let total = 0;
  for (const { record, bytes } of records) {
    if (chunk.length > 0 && total + bytes > max) {
      yield chunk;
      chunk = [];
      total = 0;
    }
    chunk.push(record);
    total += bytes;
  }
  if (chunk.length > 0) yield chunk;
}
