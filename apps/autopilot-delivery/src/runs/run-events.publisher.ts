import { Injectable } from '@nestjs/common';
import { TOPICS, type RunEventV1 } from '@export/contracts';
import { EventPublisher } from '@export/kafka';

type WithoutBase<E> = E extends unknown ? Omit<E, 'runId' | 'tenantId' | 'at'> : never;
export type RunEventBody = WithoutBase<RunEventV1>;

/** Publishes delivery's run events (key: runId), stamped with the run and the time. */
@Injectable()
export class RunEventsPublisher {
  constructor(private readonly publisher: EventPublisher) {}

  async publish(
    run: { runId: string; tenantId: string },
    events: RunEventBody[],
    correlationId: string,
  ): Promise<void> {
    const at = new Date().toISOString();
    await this.publisher.publish(
      TOPICS.runEvents.name,
      events.map((event) => ({
        key: run.runId,
        value: { ...event, runId: run.runId, tenantId: run.tenantId, at } as RunEventV1,
      })),
      { correlationId },
    );
  }
}
