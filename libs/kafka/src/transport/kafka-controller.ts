import { applyDecorators, Catch, Controller, type RpcExceptionFilter } from '@nestjs/common';
import { UseFilters } from '@nestjs/common';
import type { RunStage } from '@export/contracts';
import { throwError, type Observable } from 'rxjs';

/**
 * What a Kafka `@EventPattern(topic, options)` handler may set besides its topic. Group ids and the
 * concurrency come from the service's configuration, so they are functions of the transport's settings.
 */
export interface KafkaHandlerOptions {
  /**
   * The handler's consumer group from the service's group (KAFKA_GROUP_ID); default that group. Two topics
   * with different handlers never share a group (kafkajs assigns partitions as if every member read all).
   */
  group?: (serviceGroup: string) => string;
  /** Readiness check name (/readyz answers 503 while this consumer is not a healthy member of its group). */
  readiness?: string;
  /** Partitions handled at once by this instance; default the transport's (the service's setting, else 1). */
  partitionsConsumedConcurrently?: number;
  /** Read a new group's topic from its beginning (default true); false: only what arrives after it joined. */
  fromBeginning?: boolean;
  /** A dead-lettered message of a run fails the run as this stage (see TopicConsumerOptions.failRunAs). */
  failRunAs?: RunStage;
  /** Bounds of retries of transient failures (see TopicConsumerOptions). */
  maxAttempts?: number;
  maxRetryMs?: number;
  retryInitialDelayMs?: number;
  retryMaxDelayMs?: number;
}

/**
 * Hands a handler's error to the transport as it was thrown. Nest's default RPC filter would turn every
 * error that is not an RpcException into `{ status: 'error', message: 'Internal server error' }`, losing
 * its class, so permanent failures (dead-lettered at once), outages (waited for) and transient ones
 * (bounded retries) could no longer be told apart.
 */
@Catch()
export class KafkaErrorPassThrough implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}

/** `@Controller()` of Kafka `@EventPattern` handlers: their errors keep their class (KafkaErrorPassThrough). */
export function KafkaController(): ClassDecorator {
  return applyDecorators(Controller(), UseFilters(new KafkaErrorPassThrough()));
}
