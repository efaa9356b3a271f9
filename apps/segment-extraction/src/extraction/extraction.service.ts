import { TOPICS, type RowRejection, type RunEventV1, type RunSpec } from '@export/contracts';
import { EventPublisher } from '@export/kafka';
import { readSnapshot, snapshotErrorCode } from '@export/snapshot-reader';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { BatchBuilder } from './batch-builder';
import { ExtractionMetrics } from './extraction.metrics';
import { EXTRACTION_LOGGER, EXTRACTION_SETTINGS, type ExtractionSettings } from './extraction.tokens';
import { SendWindow } from './send-window';

/** Rejections per rows-rejected event. */
export const REJECTIONS_PER_EVENT = 500;

export interface ExtractionContext {
  correlationId: string;
  signal: AbortSignal;
  /** True once the control plane canceled the run: extraction stops at the next row. */
  isCanceled?: () => boolean;
}

/** The run was canceled while it was read: nothing more is published for it (no `end`). */
class RunCanceled extends Error {}

type RunEventBody<T extends RunEventV1['type']> = Omit<
  Extract<RunEventV1, { type: T }>,
  'runId' | 'tenantId' | 'at' | 'type'
>;

@Injectable()
export class ExtractionService {
  constructor(
    private readonly publisher: EventPublisher,
    private readonly metrics: ExtractionMetrics,
    @Inject(EXTRACTION_SETTINGS) private readonly settings: ExtractionSettings,
    @Inject(EXTRACTION_LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Streams every segment of the run, in order, as numbered profiles-extracted batches, then `end`.
   * Deterministic: the same run re-read gives identical batches, so a redelivered request is harmless.
   * A snapshot that cannot be read or is refused (outside `<SNAPSHOT_ROOT>/<tenantId>/`, not a regular file,
   * over a cap) fails the run (run-failed with the code, no `end`); anything else is thrown and the request
   * is retried. Batches already sent for an earlier segment stay, but without `end` nothing is delivered.
   */
  async extractRun(run: RunSpec, context: ExtractionContext): Promise<void> {
    const log = this.logger.child({
      runId: run.runId,
      tenantId: run.tenantId,
      correlationId: context.correlationId,
    });
    const started = Date.now();
    if (context.isCanceled?.()) {
      this.metrics.runs.inc({ outcome: 'canceled' });
      return void log.info('run canceled before extraction; nothing read');
    }
    log.info({ segments: run.segments.length }, 'extraction started');
    await this.runEvent(run, context, 'extraction-started', {});
    try {
      const totals = await this.streamSegments(run, context);
      await this.publisher.publish(
        TOPICS.profilesExtracted.name,
        [{ key: run.runId, value: { kind: 'end', run, ...totals } }],
        { correlationId: context.correlationId },
      );
      await this.runEvent(run, context, 'extraction-completed', { extracted: totals.extracted });
      this.metrics.runs.inc({ outcome: 'completed' });
      log.info({ ...totals, ms: Date.now() - started }, 'extraction completed');
    } catch (error) {
      if (error instanceof RunCanceled) {
        this.metrics.runs.inc({ outcome: 'canceled' });
        return void log.info({ ms: Date.now() - started }, 'extraction stopped: the run was canceled');
      }
      const code = snapshotErrorCode(error);
      if (!code || context.signal.aborted) throw error;
      const message = (error as Error).message.slice(0, 2000);
      await this.runEvent(run, context, 'run-failed', { stage: 'extraction', code, message });
      this.metrics.runs.inc({ outcome: 'failed' });
      log.warn({ code, reason: message }, 'extraction failed: snapshot unreadable');
    }
  }

  private async streamSegments(run: RunSpec, context: ExtractionContext) {
    const window = new SendWindow(this.settings.maxInFlight);
    const rejections: RowRejection[] = [];
    let seq = 0;
    let batchSeq = 0;
    let rejected = 0;

    const sendBatch = async (segmentId: string, rows: ReturnType<BatchBuilder['flush']>) => {
      if (rows.length === 0) return;
      const value = { kind: 'batch' as const, run, batchSeq: batchSeq++, segmentId, rows };
      await window.add(
        this.publisher
          .publish(TOPICS.profilesExtracted.name, [{ key: run.runId, value }], {
            correlationId: context.correlationId,
          })
          .then(() => {
            this.metrics.batchesPublished.inc();
            this.metrics.rowsExtracted.inc(rows.length);
          }),
      );
    };
    const sendRejections = async () => {
      if (rejections.length === 0) return;
      const chunk = rejections.splice(0, rejections.length);
      await window.add(
        this.runEvent(run, context, 'rows-rejected', { stage: 'extraction', rejections: chunk }).then(() =>
          this.metrics.rowsRejected.inc(chunk.length),
        ),
      );
    };

    for (const segment of run.segments) {
      const batches = new BatchBuilder({
        maxRows: this.settings.batchRows,
        maxBytes: this.settings.batchBytes,
      });
      const scope = { root: this.settings.snapshotRoot, tenantId: run.tenantId };
      const options = { signal: context.signal, limits: this.settings.snapshotLimits };
      for await (const records of readSnapshot(segment.snapshot, scope, options)) {
        for (const record of records) {
          // Between rows, as the reader does between its chunks.
          context.signal.throwIfAborted();
          if (context.isCanceled?.()) throw new RunCanceled();
          if (record.kind === 'rejected') {
            rejected++;
            rejections.push({
              segmentId: segment.segmentId,
              partition: record.partition,
              line: record.line,
              reason: record.reason,
            });
            if (rejections.length >= REJECTIONS_PER_EVENT) await sendRejections();
            continue;
          }
          const closed = batches.add({
            seq: seq++,
            partition: record.partition,
            line: record.line,
            values: record.values,
          });
          if (closed) await sendBatch(segment.segmentId, closed);
        }
      }
      await sendBatch(segment.segmentId, batches.flush());
    }
    await sendRejections();
    await window.drain();
    return { batches: batchSeq, extracted: seq, rejected };
  }

  private runEvent<T extends RunEventV1['type']>(
    run: RunSpec,
    context: ExtractionContext,
    type: T,
    body: RunEventBody<T>,
  ): Promise<void> {
    const value = {
      type,
      runId: run.runId,
      tenantId: run.tenantId,
      at: new Date().toISOString(),
      ...body,
    } as RunEventV1;
    return this.publisher.publish(TOPICS.runEvents.name, [{ key: run.runId, value }], {
      correlationId: context.correlationId,
    });
  }
}
