import {
  TOPICS,
  type ContactsMappedBatch,
  type MappedContact,
  type ProfilesExtractedV1,
  type RowRejection,
  type RunEventV1,
} from '@export/contracts';
import { AppError, storableText } from '@export/errors';
import { EventPublisher, jsonByteLength } from '@export/kafka';
import { mapProfile } from '@export/mapping';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { MappingMetrics } from './mapping.metrics';
import { MAPPING_LOGGER, MAPPING_SETTINGS, type MappingSettings } from './mapping.tokens';

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
    @Inject(MAPPING_SETTINGS) private readonly settings: Pick<MappingSettings, 'maxBatchBytes'>,
  ) {}

  /**
   * Turns one extracted message into contacts-mapped messages: a batch into a batch with the same batchSeq
   * (possibly without contacts) plus its rejections, or into parts of it when its contacts would make a
   * message over `maxBatchBytes`; `end` into `end`. All are published before this resolves, so the offset is
   * committed only once they are safe. Pure in its input and settings: a redelivered message gives the same
   * output, which delivery recognises by (runId, batchSeq, part).
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
    const contacts: { contact: MappedContact; bytes: number }[] = [];
    const rejections: RowRejection[] = [];
    // What one part may spend on contacts: the cap less the message around them (run spec, numbers).
    const budget = this.settings.maxBatchBytes - envelopeBytes(run, batchSeq, rows.length);
    if (budget <= 0) throw new AppError('validation', `The run spec alone is over ${this.settings.maxBatchBytes} bytes`, { code: 'MESSAGE_TOO_LARGE' });
    for (const row of rows) {
      const result = mapProfile(row.values, run.mapping);
      let reason: string;
      if (result.ok) {
        const contact: MappedContact = { seq: row.seq, email: result.email, segmentId, contact: result.contact };
        // +1: the comma between contacts in the array.
        const bytes = jsonByteLength(contact) + 1;
        if (bytes <= budget) {
          contacts.push({ contact, bytes });
          continue;
        }
        reason = `mapped contact of ${bytes} bytes is over the ${budget} bytes a message may carry`;
      } else reason = result.reason;
      const profileId = storableText(printable(row.values[PROFILE_ID_ATTRIBUTE]?.trim() ?? ''), 200);
      rejections.push({
        segmentId,
        partition: row.partition,
        line: row.line,
        ...(profileId ? { profileId } : {}),
        reason,
      });
    }
    const parts = splitBySize(contacts, budget);

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
        parts.map((part, i) => {
          // One part: the message as it always was (no part/parts), so delivery deployed before parts reads it.
          const numbering = parts.length === 1 ? {} : { part: i, parts: parts.length };
          const value: ContactsMappedBatch = {
            kind: 'batch',
            run,
            batchSeq,
            ...numbering,
            contacts: part,
            rejected: i === 0 ? rejections.length : 0,
          };
          return { key: run.runId, value };
        }),
        // Built to the contract by mapProfile from the parsed extracted batch (the spec parses every output).
        { correlationId, prevalidated: true },
      ),
    ]);
    this.metrics.batchesPublished.inc(parts.length);
    this.metrics.contactsMapped.inc(contacts.length);
    this.metrics.rowsRejected.inc(rejections.length);
    this.logger.debug(
      { runId: run.runId, correlationId, batchSeq, parts: parts.length, contacts: contacts.length, rejected: rejections.length },
      'batch mapped',
    );
  }
}

/** Bytes of a contacts-mapped batch without its contacts, with room for the largest part numbers and counts. */
function envelopeBytes(run: ProfilesExtractedV1['run'], batchSeq: number, rows: number): number {
  const empty: ContactsMappedBatch = { kind: 'batch', run, batchSeq, part: rows, parts: rows + 1, contacts: [], rejected: rows };
  return Buffer.byteLength(JSON.stringify(empty));
}

/**
 * Consecutive parts, in order, each with contacts of at most `budget` bytes; always at least one (possibly
 * empty) part. Each contact alone fits (the caller rejected the others). Depends only on its input.
 */
export function splitBySize(contacts: { contact: MappedContact; bytes: number }[], budget: number): MappedContact[][] {
  const parts: MappedContact[][] = [[]];
  let used = 0;
  for (const { contact, bytes } of contacts) {
    if (used + bytes > budget && parts[parts.length - 1].length > 0) {
      parts.push([]);
      used = 0;
    }
    parts[parts.length - 1].push(contact);
    used += bytes;
  }
  return parts;
}

/** A value from the file as a rejection may show it: control characters (NUL among them) become `?`. */
function printable(value: string): string {
  // eslint-disable-next-line no-control-regex -- replacing control characters is the point
  return value.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}
