import {
  TOPICS,
  type MappedContact,
  type ProfilesExtractedV1,
  type RowRejection,
  type RunEventV1,
} from '@export/contracts';
import { EventPublisher } from '@export/kafka';
import { mapProfile } from '@export/mapping';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { MappingMetrics } from './mapping.metrics';
import { MAPPING_LOGGER } from './mapping.tokens';

/** Rejections per rows-rejected event. */
export const REJECTIONS_PER_EVENT = 500;
/** The profile attribute reported as the row's identity in rejections, when the snapshot has it. */
export const PROFILE_ID_ATTRIBUTE = 'CustomerId';

type ExtractedBatch = Extract<ProfilesExtractedV1, { kind: 'batch' }>;

@Injectable()
export class MappingService {
  constructor(
    private readonly publisher: EventPublisher,
    private readonly metrics: MappingMetrics,
    @Inject(MAPPING_LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Turns one extracted message into exactly one contacts-mapped message: a batch into a batch with the same
   * batchSeq (possibly without contacts) plus its rejections, `end` into `end`. Both are published before
   * this resolves, so the offset is committed only once they are safe. Pure in its input: a redelivered
   * message gives the same output, which delivery recognises by (runId, batchSeq).
   */
  async handle(message: ProfilesExtractedV1, correlationId: string): Promise<void> {
    if (message.kind === 'end') {
      const { run, batches, extracted } = message;
      await this.publisher.publish(
        TOPICS.contactsMapped.name,
        [{ key: run.runId, value: { kind: 'end', run, batches, extracted } }],
        { correlationId },
      );
      this.logger.info({ runId: run.runId, correlationId, batches, extracted }, 'mapping completed');
      return;
    }
    await this.mapBatch(message, correlationId);
  }

  private async mapBatch(
    { run, batchSeq, segmentId, rows }: ExtractedBatch,
    correlationId: string,
  ): Promise<void> {
    const contacts: MappedContact[] = [];
    const rejections: RowRejection[] = [];
    for (const row of rows) {
      const result = mapProfile(row.values, run.mapping);
      if (result.ok) {
        contacts.push({ seq: row.seq, email: result.email, segmentId, contact: result.contact });
        continue;
      }
      const profileId = row.values[PROFILE_ID_ATTRIBUTE]?.trim();
      rejections.push({
        segmentId,
        partition: row.partition,
        line: row.line,
        ...(profileId ? { profileId: profileId.slice(0, 200) } : {}),
        reason: result.reason,
      });
    }

    const at = new Date().toISOString();
    const rejectionEvents: { key: string; value: RunEventV1 }[] = [];
    for (let i = 0; i < rejections.length; i += REJECTIONS_PER_EVENT) {
      rejectionEvents.push({
        key: run.runId,
        value: {
          type: 'rows-rejected',
          runId: run.runId,
          tenantId: run.tenantId,
          at,
          stage: 'mapping',
          rejections: rejections.slice(i, i + REJECTIONS_PER_EVENT),
        },
      });
    }
    await Promise.all([
      this.publisher.publish(TOPICS.runEvents.name, rejectionEvents, { correlationId }),
      this.publisher.publish(
        TOPICS.contactsMapped.name,
        [{ key: run.runId, value: { kind: 'batch', run, batchSeq, contacts, rejected: rejections.length } }],
        { correlationId },
      ),
    ]);
    this.metrics.batchesPublished.inc();
    this.metrics.contactsMapped.inc(contacts.length);
    this.metrics.rowsRejected.inc(rejections.length);
    this.logger.debug(
      { runId: run.runId, correlationId, batchSeq, contacts: contacts.length, rejected: rejections.length },
      'batch mapped',
    );
  }
}
