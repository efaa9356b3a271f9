import { EventPublisher } from '@export/kafka';
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, APP_LOGGER } from '../app-tokens';
import type { ControlPlaneConfig } from '../config';
import { failureClass } from '@export/errors';
import { outboxPublished, outboxSetAside } from '../metrics';
import { OutboxRepository, type OutboxFailureDecision, type OutboxMessage } from './outbox.repository';

const BATCH = 100;

/**
 * Sends what transactions wrote to the outbox. Kicked right after each commit for low latency, and polled
 * so messages left behind by a crash or a broker outage go out once the service or the broker is back.
 */
@Injectable()
export class OutboxDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private draining?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly publisher: EventPublisher,
    @Inject(APP_CONFIG) private readonly config: ControlPlaneConfig,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.kick(), this.config.OUTBOX_POLL_MS);
    this.kick();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.draining;
  }

  kick(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = this.drainAll().finally(() => (this.draining = undefined));
  }

  private async drainAll(): Promise<void> {
    do {
      this.again = false;
      try {
        for (;;) {
          if (this.stopped) return;
          const round = await this.outbox.drain(
            BATCH,
            (message) => this.send(message),
            (error, message, attempts) => this.onFailure(error, message, attempts),
          );
          if (round.picked < BATCH || round.sent === 0) break;
        }
      } catch (error) {
        this.logger.warn({ err: error }, 'outbox not drained; will retry');
        return;
      }
    } while (this.again && !this.stopped);
  }

  // In order, one by one: messages of one run must not overtake each other.
  private async send(m: OutboxMessage): Promise<void> {
    await this.publisher.publish(m.topic, [{ key: m.key, value: m.value }], { correlationId: m.correlationId });
    outboxPublished.inc({ topic: m.topic });
    this.logger.debug({ topic: m.topic, runId: m.key, correlationId: m.correlationId }, 'outbox message published');
  }

  /**
   * A broker outage ends the round (every row waits; nothing is counted). A message that can never be sent
   * (refused by its contract, too large) is set aside at once; another failure after OUTBOX_MAX_ATTEMPTS.
   */
  private onFailure(error: unknown, m: OutboxMessage, attempts: number): OutboxFailureDecision {
    const kind = failureClass(error);
    if (kind === 'outage') return 'stop';
    const context = { topic: m.topic, runId: m.key, correlationId: m.correlationId, attempts, err: error };
    if (kind === 'permanent' || attempts >= this.config.OUTBOX_MAX_ATTEMPTS) {
      outboxSetAside.inc({ topic: m.topic });
      this.logger.error(context, 'outbox message set aside: it cannot be sent (later messages of its key wait)');
      return 'set-aside';
    }
    this.logger.warn(context, 'outbox message not sent; retried next round after the others');
    return 'retry-later';
  }
}
