import { BaseRpcContext } from '@nestjs/microservices';
import type { ConsumedMessage } from '../topic-consumer';

/**
 * The `@Ctx()` of a Kafka handler: the consumed message's metadata (its value is the `@Payload()`).
 * Long handlers pass `signal` on (aborted when the consumer stops or loses the partition); the transport
 * heartbeats for them while they run.
 */
export class KafkaContext<T = unknown> extends BaseRpcContext<[ConsumedMessage<T>]> {
  constructor(readonly message: ConsumedMessage<T>) {
    super([message]);
  }

  get topic(): string {
    return this.message.topic;
  }

  get partition(): number {
    return this.message.partition;
  }

  get offset(): string {
    return this.message.offset;
  }

  get key(): string | null {
    return this.message.key;
  }

  get headers(): Record<string, string> {
    return this.message.headers;
  }

  get correlationId(): string {
    return this.message.correlationId;
  }

  get traceparent(): string {
    return this.message.traceparent;
  }

  get signal(): AbortSignal {
    return this.message.signal;
  }

  heartbeat(): Promise<void> {
    return this.message.heartbeat();
  }
}
