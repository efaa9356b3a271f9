import { Inject, OnModuleInit } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS, type ContactsMappedV1 } from '@export/contracts';
import { KafkaConsumers, KafkaController, type KafkaContext, type KafkaHandlerOptions } from '@export/kafka';
import type { Logger } from 'pino';
import { DELIVERY_LOGGER } from '../app.tokens';
import { ControlPlaneClient } from '../control-plane/control-plane.client';
import { RunConfirmationService, runNotConfirmed } from '../runs/run-confirmation.service';
import { StagingRepository } from './staging.repository';

/**
 * Kafka handler of mapped contacts: confirm the run with the control plane (a definite no dead-letters the
 * message with RUN_NOT_CONFIRMED), then stage the batch (or record the end) in the ledger, nothing else.
 */
@KafkaController()
export class StagingConsumer implements OnModuleInit {
  constructor(
    private readonly consumers: KafkaConsumers,
    private readonly staging: StagingRepository,
    private readonly confirmation: RunConfirmationService,
    private readonly controlPlane: ControlPlaneClient,
    @Inject(DELIVERY_LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    // Every batch is confirmed with the control plane: while it is down, take no new batches (nothing is lost).
    this.consumers.pauseWhileDown('control-plane', () => this.controlPlane.isUp());
  }

  @EventPattern(TOPICS.contactsMapped.name, {
    readiness: 'kafka',
    partitionsConsumedConcurrently: 3,
    failRunAs: 'delivery',
  } satisfies KafkaHandlerOptions)
  async handle(@Payload() value: ContactsMappedV1, @Ctx() { correlationId }: KafkaContext): Promise<void> {
    const log = this.logger.child({ runId: value.run.runId, tenantId: value.run.tenantId, correlationId });
    // A run the ledger closed (ended, or skipped before all its batches arrived) takes nothing more: its
    // late batches are dropped here rather than dead-lettered by a confirmation the control plane now refuses.
    if (await this.staging.isClosed(value.run)) {
      log.debug({ kind: value.kind }, 'message of a closed run ignored');
      return;
    }
    // Tenant, connection, limits, quota and lists come from the control plane, never from the message.
    const run = await this.confirmation.confirmForDelivery(value.run);
    if (value.kind === 'batch') {
      const exported = new Set(run.segments.map((s) => s.segmentId));
      const stray = value.contacts.find((c) => !exported.has(c.segmentId));
      if (stray) throw runNotConfirmed(run.runId, `does not export segment ${stray.segmentId.slice(0, 64)}`);
      // A batch mapping split is staged part by part (absent: part 0 of 1, as before parts existed).
      const part = { part: value.part ?? 0, parts: value.parts ?? 1 };
      const outcome = await this.staging.stageBatch(run, value.batchSeq, value.contacts, correlationId, part);
      log.debug({ batchSeq: value.batchSeq, ...part, contacts: value.contacts.length, outcome }, 'batch staged');
    } else {
      const outcome = await this.staging.recordEnd(run, value.batches, value.extracted, correlationId);
      log.info({ batches: value.batches, extracted: value.extracted, outcome }, 'run end recorded');
    }
  }
}
