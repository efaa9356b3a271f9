import { randomUUID } from 'node:crypto';
import { HEADERS, type RunStage, type TopicName, type TopicValue } from '@export/contracts';
import { errorMessage, failureClass, failureCode } from '@export/errors';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { DEFAULT_CONSUMER_TIMINGS } from './consumer-timings';
import type { Logger } from 'pino';
import type { EventPublisher } from './event-publisher';
import { kafkaMetrics } from './kafka.metrics';
import { failRunOfDeadLetter } from './run-failure';
import { decodeHeaders, parseMessage } from './message-edge';
import { formatTraceparent, parseTraceparent, rootSpan, runInMessageScope } from './trace-context';

export interface ConsumedMessage<T> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: T;
  headers: Record<string, string>;
  /** From the message's header, or a new one when the producer sent none. */
  correlationId: string;
  /** W3C traceparent of the message (a new trace of the correlation id when the producer sent none). */
  traceparent: string;
  /** Keeps the consumer in its group; called automatically every few seconds while the handler runs. */
  heartbeat(): Promise<void>;
  /** Aborted when the consumer stops or loses the partition: long handlers stop and leave the offset unresolved. */
  signal: AbortSignal;
}

export interface TopicConsumerOptions<N extends TopicName> {
  groupId: string;
  topics: readonly N[];
  handle(message: ConsumedMessage<TopicValue<N>>): Promise<void>;
  fromBeginning?: boolean;
  /** Partitions processed at the same time by this instance (kafkajs default is 1). */
  partitionsConsumedConcurrently?: number;
  /** See ConsumerTimings; defaults DEFAULT_CONSUMER_TIMINGS. */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  rebalanceTimeoutMs?: number;
  /**
   * Bound of a failure that may pass on retry (see failureClass): attempts (default 10) and time since the
   * first failure (default 5 min), whichever comes first; then the message is dead-lettered. Outages of a
   * dependency never spend it: the message waits for the dependency, nothing is dropped.
   */
  maxAttempts?: number;
  maxRetryMs?: number;
  /**
   * When a message of a run (its value carries `run: {runId, tenantId}`) is dead-lettered, the run fails
   * with the dead letter's code and reason, reported as this stage. A message whose run the control plane
   * did not confirm (code RUN_NOT_CONFIRMED) never speaks for that run.
   */
  failRunAs?: RunStage;
  retryInitialDelayMs?: number;
  retryMaxDelayMs?: number;
  /** How often the pacemaker heartbeats while a handler runs (default: the heartbeat interval). */
  pacemakerIntervalMs?: number;
}

class StoppedError extends Error {}

const DEFAULT_MAX_ATTEMPTS = 10;
const DEFAULT_MAX_RETRY_MS = 5 * 60_000;

const CONTACT_TIMEOUT_MS = 15000;

/**
 * The consumer of one `@EventPattern` handler (KafkaTransport creates it; Nest's ServerKafka would decide
 * none of this), so that we decide:
 * - every message is parsed with its topic's schema; bad JSON or a wrong shape goes to the dead-letter
 *   topic with the reason, and the partition goes on;
 * - an offset is resolved only after its handler finished, so a crash redelivers unfinished work;
 * - a failing handler is retried in place with exponential backoff and jitter (never a consumer crash);
 *   errors that can never succeed (AppError kinds that are not retryable) are dead-lettered;
 * - long handlers keep heart-beating so the broker does not evict the consumer.
 */
export class TopicConsumer<N extends TopicName> {
  private readonly consumer: Consumer;
  private readonly stopController = new AbortController();
  private joined = false;
  private crashed = false;
  private started = false;
  private paused = false;
  /** Last sign of life from the broker (join, heartbeat, fetch): kafkajs crashes only after minutes of retries. */
  private lastContact = 0;

  constructor(
    kafka: Kafka,
    private readonly publisher: EventPublisher,
    private readonly logger: Logger,
    private readonly options: TopicConsumerOptions<N>,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs ?? DEFAULT_CONSUMER_TIMINGS.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs ?? DEFAULT_CONSUMER_TIMINGS.heartbeatIntervalMs,
      rebalanceTimeout: options.rebalanceTimeoutMs ?? DEFAULT_CONSUMER_TIMINGS.rebalanceTimeoutMs,
      allowAutoTopicCreation: false,
      maxBytesPerPartition: 4 * 1024 * 1024,
      retry: { retries: 10 },
    });
    const { GROUP_JOIN, CRASH, DISCONNECT, STOP, HEARTBEAT, FETCH_START } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, () => {
      this.joined = true;
      this.crashed = false;
      this.lastContact = Date.now();
    });
    const contact = () => (this.lastContact = Date.now());
    if (HEARTBEAT) this.consumer.on(HEARTBEAT, contact);
    if (FETCH_START) this.consumer.on(FETCH_START, contact);
    this.consumer.on(CRASH, (event) => {
      this.joined = false;
      this.crashed = !event.payload.restart;
      this.logger.error({ err: event.payload.error, restart: event.payload.restart }, 'kafka consumer crashed');
    });
    this.consumer.on(DISCONNECT, () => (this.joined = false));
    this.consumer.on(STOP, () => (this.joined = false));
  }

  get groupId(): string {
    return this.options.groupId;
  }

  /**
   * True while the consumer is a member of its group, has not crashed for good and heard from the broker
   * lately (fetches start every few seconds, heartbeats every 3 s, also during long handlers), so /readyz
   * turns 503 within seconds of losing the broker, not after kafkajs has used up its retries.
   */
  get healthy(): boolean {
    return this.started && this.joined && !this.crashed && Date.now() - this.lastContact < CONTACT_TIMEOUT_MS;
  }

  async start(): Promise<void> {
    await this.publisher.connect();
    await this.consumer.connect();
    for (const topic of this.options.topics) {
      await this.consumer.subscribe({ topic, fromBeginning: this.options.fromBeginning ?? true });
    }
    await this.consumer.run({
      autoCommit: true,
      autoCommitInterval: 1000,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    this.started = true;
    if (this.paused) this.pause();
  }

  /** Stops fetching, lets the message in hand finish or abort, commits what was resolved and leaves the group. */
  async stop(): Promise<void> {
    this.stopController.abort();
    await this.consumer.disconnect();
    this.started = false;
  }

  /**
   * Pauses/resumes fetching of all subscribed topics (e.g. while a dependency is down). The message in hand
   * keeps retrying in place; nothing new is fetched, so no offset moves past work that failed. Idempotent,
   * and safe to call again after kafkajs restarted a crashed consumer (which forgets its paused topics).
   */
  pause(): void {
    this.paused = true;
    kafkaMetrics.paused.set({ group: this.options.groupId }, 1);
    if (this.started) this.consumer.pause(this.options.topics.map((topic) => ({ topic })));
  }

  resume(): void {
    this.paused = false;
    kafkaMetrics.paused.set({ group: this.options.groupId }, 0);
    if (this.started) this.consumer.resume(this.options.topics.map((topic) => ({ topic })));
  }

  get isPaused(): boolean {
    return this.paused;
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary }: EachBatchPayload) {
    const { groupId } = this.options;
    const lag = kafkaMetrics.consumerLag.labels({ group: groupId, topic: batch.topic, partition: String(batch.partition) });
    const consumed = kafkaMetrics.consumed.labels({ group: groupId, topic: batch.topic });
    const highWatermark = Number(batch.highWatermark);
    lag.set(Math.max(0, highWatermark - Number(batch.firstOffset() ?? highWatermark)));
    for (const message of batch.messages) {
      if (!isRunning() || isStale() || this.stopController.signal.aborted) return;
      try {
        await this.process(batch.topic, batch.partition, message, heartbeat, () => !isRunning() || isStale());
      } catch (error) {
        if (error instanceof StoppedError) return; // offset stays unresolved: the message is redelivered
        throw error;
      }
      resolveOffset(message.offset);
      consumed.inc();
      lag.set(Math.max(0, highWatermark - Number(message.offset) - 1));
      await commitOffsetsIfNecessary();
      await heartbeat();
    }
  }

  private async process(
    topic: string,
    partition: number,
    message: KafkaMessage,
    heartbeat: () => Promise<void>,
    lostPartition: () => boolean,
  ): Promise<void> {
    const headers = decodeHeaders(message.headers);
    const correlationId = headers[HEADERS.correlationId] ?? randomUUID();
    // The message's span, or a new one of its correlation id's trace; what the handler produces continues it.
    const trace = parseTraceparent(headers[HEADERS.traceparent]) ?? rootSpan(correlationId);
    const traceparent = formatTraceparent(trace);
    return runInMessageScope({ trace, correlationId }, () =>
      this.handleMessage(topic, partition, message, headers, correlationId, traceparent, heartbeat, lostPartition),
    );
  }

  private async handleMessage(
    topic: string,
    partition: number,
    message: KafkaMessage,
    headers: Record<string, string>,
    correlationId: string,
    traceparent: string,
    heartbeat: () => Promise<void>,
    lostPartition: () => boolean,
  ): Promise<void> {
    const key = message.key?.toString('utf8') ?? null;
    const raw = message.value?.toString('utf8') ?? null;
    const log = this.logger.child({ topic, partition, offset: message.offset, correlationId, traceId: traceparent.slice(3, 35) });

    const parsed = parseMessage(topic, raw);
    if (!parsed.ok) {
      await this.deadLetter(topic, partition, message.offset, key, raw, parsed.code, parsed.reason, correlationId);
      return;
    }

    const maxAttempts = this.options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    const maxRetryMs = this.options.maxRetryMs ?? DEFAULT_MAX_RETRY_MS;
    const giveUp = async (code: string, reason: string) => {
      await this.deadLetter(topic, partition, message.offset, key, raw, code, reason, correlationId);
      const stage = this.options.failRunAs;
      const runId = stage && (await failRunOfDeadLetter(this.publisher, stage, parsed.value, code, reason, correlationId));
      if (runId) log.warn({ runId, code }, 'run failed: one of its messages was dead-lettered');
    };
    let firstFailureAt: number | undefined;
    for (let attempt = 1, outages = 0; ; ) {
      const controller = new AbortController();
      const onStop = () => controller.abort();
      this.stopController.signal.addEventListener('abort', onStop);
      const pacemaker = setInterval(() => {
        if (lostPartition()) return controller.abort();
        heartbeat().catch((error) => {
          log.warn({ err: error }, 'heartbeat failed while handling a message; aborting it');
          controller.abort();
        });
      }, this.options.pacemakerIntervalMs ?? this.options.heartbeatIntervalMs ?? DEFAULT_CONSUMER_TIMINGS.heartbeatIntervalMs);
      try {
        await this.options.handle({
          topic,
          partition,
          offset: message.offset,
          key,
          value: parsed.value as TopicValue<N>,
          headers,
          correlationId,
          traceparent,
          heartbeat,
          signal: controller.signal,
        });
        return;
      } catch (error) {
        if (controller.signal.aborted || this.stopController.signal.aborted) throw new StoppedError();
        const kind = failureClass(error);
        if (kind === 'permanent') return void (await giveUp(failureCode(error), errorMessage(error)));
        let delay: number;
        if (kind === 'outage') {
          // Not the message's fault: wait for the dependency (the service's watchdog pauses fetching too).
          outages++;
          delay = backoff(outages, this.options.retryInitialDelayMs ?? 500, this.options.retryMaxDelayMs ?? 30000);
          log.warn({ err: error, outages, delayMs: delay }, 'a dependency is unavailable; the message waits for it');
        } else {
          firstFailureAt ??= Date.now();
          const elapsed = Date.now() - firstFailureAt;
          if (attempt >= maxAttempts || elapsed >= maxRetryMs) {
            const reason = `gave up after ${attempt} attempts in ${Math.round(elapsed / 1000)} s: ${errorMessage(error)}`;
            return void (await giveUp('RETRIES_EXHAUSTED', reason));
          }
          delay = Math.min(
            backoff(attempt, this.options.retryInitialDelayMs ?? 500, this.options.retryMaxDelayMs ?? 30000),
            Math.max(0, maxRetryMs - elapsed),
          );
          attempt++;
          log.warn({ err: error, attempt, delayMs: delay }, 'handler failed; retrying');
        }
        kafkaMetrics.handlerRetries.inc({ group: this.options.groupId, topic });
        await this.wait(delay, heartbeat, lostPartition);
      } finally {
        clearInterval(pacemaker);
        this.stopController.signal.removeEventListener('abort', onStop);
      }
    }
  }

  private async deadLetter(
    topic: string,
    partition: number,
    offset: string,
    key: string | null,
    raw: string | null,
    code: string,
    reason: string,
    correlationId: string,
  ): Promise<void> {
    await this.publisher.deadLetter(
      {
        sourceTopic: topic,
        partition,
        offset,
        key,
        value: raw === null ? null : raw.slice(0, 64 * 1024),
        code,
        reason: reason.slice(0, 4000),
        consumerGroup: this.options.groupId,
        failedAt: new Date().toISOString(),
      },
      { correlationId },
    );
    kafkaMetrics.deadLetters.inc({ group: this.options.groupId, topic, code });
  }

  private async wait(ms: number, heartbeat: () => Promise<void>, lostPartition: () => boolean): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (this.stopController.signal.aborted || lostPartition()) throw new StoppedError();
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, until - Date.now())));
      await heartbeat().catch(() => undefined);
    }
  }
}

/** Exponential backoff with full jitter. */
export function backoff(attempt: number, initialMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}
