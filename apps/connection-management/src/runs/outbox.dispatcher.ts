import { EventPublisher } from '@export/kafka';
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, APP_LOGGER } from '../app-tokens';
import type { ControlPlaneConfig } from '../config';
import { outboxPublished } from '../metrics';
import { OutboxRepository } from './outbox.repository';

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
        while (
          !this.stopped &&
          (await this.outbox.drain(BATCH, (messages) => this.send(messages))) === BATCH
        );
      } catch (error) {
        this.logger.warn({ err: error }, 'outbox not drained; will retry');
        return;
      }
    } while (this.again && !this.stopped);
  }

  private async send(messages: Parameters<Parameters<OutboxRepository['drain']>[1]>[0]): Promise<void> {
    // In order, one by one: messages of one run must not overtake each other.
    for (const m of messages) {
      await this.publisher.publish(m.topic, [{ key: m.key, value: m.value }], {
        correlationId: m.correlationId,
      });
      outboxPublished.inc({ topic: m.topic });
      this.logger.debug(
        { topic: m.topic, runId: m.key, correlationId: m.correlationId },
        'outbox message published',
      );
    }
  }
}
