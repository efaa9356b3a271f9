import { TOPICS, type RunStage } from '@export/contracts';
import { storableText } from '@export/errors';
import type { EventPublisher } from './event-publisher';

/** Code of a pipeline message whose run the control plane did not confirm: it never speaks for that run. */
export const RUN_NOT_CONFIRMED = 'RUN_NOT_CONFIRMED';

/**
 * When a message of a run (its value carries `run: {runId, tenantId}`) is dead-lettered, the run fails with
 * the dead letter's code and reason, reported as `stage` (see TopicConsumerOptions.failRunAs). A message
 * whose run the control plane did not confirm never speaks for that run. Resolves to the failed run's id.
 */
export async function failRunOfDeadLetter(
  publisher: EventPublisher,
  stage: RunStage,
  value: unknown,
  code: string,
  reason: string,
  correlationId: string,
): Promise<string | undefined> {
  const run = (value as { run?: { runId?: unknown; tenantId?: unknown } } | null)?.run;
  if (code === RUN_NOT_CONFIRMED || typeof run?.runId !== 'string' || typeof run.tenantId !== 'string') return undefined;
  await publisher.publish(
    TOPICS.runEvents.name,
    [
      {
        key: run.runId,
        value: {
          type: 'run-failed',
          runId: run.runId,
          tenantId: run.tenantId,
          at: new Date().toISOString(),
          stage,
          code,
          // Storable like every run event (the control plane stores it): a refused publish here would stall the partition.
          message: storableText(`a message of this run could not be processed (${code}): ${reason}`, 2000),
        },
      },
    ],
    { correlationId },
  );
  return run.runId;
}
