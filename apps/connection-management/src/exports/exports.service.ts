import { randomUUID } from 'node:crypto';
import type { ExportView } from '@export/contracts';
import { AppError } from '@export/errors';
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { APP_LOGGER } from '../app-tokens';
import { requireRole, type Principal } from '../auth/principal';
import { ConnectionsRepository } from '../connections/connections.repository';
import { inTransaction } from '../database/database';
import { PG_POOL } from '@export/database';
import { parseInput } from '../http/parse-input';
import { RunsRepository } from '../runs/runs.repository';
import { SegmentsRepository } from '../segments/segments.repository';
import { assertMayUseConnection } from './export-access';
import { CreateExportBody, UpdateExportBody } from './export.schemas';
import { ExportsRepository, type ExportRecord, type ExportSettings } from './exports.repository';

export function toExportView(e: ExportRecord): ExportView {
  return {
    id: e.id,
    name: e.name,
    connectionId: e.connectionId,
    state: e.connectionId ? 'ready' : 'no-connection',
    segmentIds: e.segmentIds,
    mapping: e.mapping,
    limitPolicy: e.limitPolicy,
    profileLimit: e.profileLimit,
    listNames: e.listNames,
    syncMode: e.syncMode,
    massRemovalPercent: e.massRemovalPercent,
    createdBy: e.createdBy,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

/** Exports CRUD. Saving an export never runs it. */
@Injectable()
export class ExportsService {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    private readonly exportsRepo: ExportsRepository,
    private readonly connections: ConnectionsRepository,
    private readonly segments: SegmentsRepository,
    private readonly runs: RunsRepository,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  async create(principal: Principal, body: unknown): Promise<ExportView> {
    requireRole(principal, 'admin', 'contributor');
    const input = parseInput(CreateExportBody, body);
    await this.checkReferences(principal, input);
    const created = await this.exportsRepo.insert(principal.tenantId, randomUUID(), input, principal.sub);
    this.logger.info(
      { tenantId: principal.tenantId, exportId: created.id, sub: principal.sub },
      'export created',
    );
    return toExportView(created);
  }

  async list(principal: Principal): Promise<ExportView[]> {
    return (await this.exportsRepo.list(principal.tenantId)).map(toExportView);
  }

  async get(principal: Principal, id: string): Promise<ExportView> {
    return toExportView(await this.found(principal, id));
  }

  async update(principal: Principal, id: string, body: unknown): Promise<ExportView> {
    requireRole(principal, 'admin', 'contributor');
    const changes = parseInput(UpdateExportBody, body);
    const current = await this.found(principal, id);
    // Changing an export needs the right to use the connection it has now and the one it gets.
    if (current.connectionId)
      assertMayUseConnection(
        principal,
        await this.connections.find(principal.tenantId, current.connectionId),
      );
    const merged: ExportSettings = {
      name: changes.name ?? current.name,
      connectionId: changes.connectionId ?? current.connectionId,
      segmentIds: changes.segmentIds ?? current.segmentIds,
      mapping: changes.mapping ?? current.mapping,
      limitPolicy: changes.limitPolicy ?? current.limitPolicy,
      profileLimit: changes.profileLimit ?? current.profileLimit,
      listNames: changes.listNames ?? current.listNames,
      syncMode: changes.syncMode ?? current.syncMode,
      massRemovalPercent: changes.massRemovalPercent ?? current.massRemovalPercent,
    };
    await this.checkReferences(principal, merged);
    const updated = await this.exportsRepo.update(principal.tenantId, id, merged);
    if (!updated) throw new AppError('not-found', `Export ${id} not found`);
    return toExportView(updated);
  }

  async remove(principal: Principal, id: string): Promise<void> {
    requireRole(principal, 'admin', 'contributor');
    const current = await this.found(principal, id);
    if (current.connectionId)
      assertMayUseConnection(
        principal,
        await this.connections.find(principal.tenantId, current.connectionId),
      );
    else if (principal.role !== 'admin') assertMayUseConnection(principal, undefined);
    await inTransaction(this.pool, async (tx) => {
      await this.exportsRepo.lock(principal.tenantId, id, tx);
      if (await this.runs.hasActive(principal.tenantId, id, tx)) {
        throw new AppError('conflict', 'The export has a queued or running run; cancel it first');
      }
      await this.exportsRepo.delete(principal.tenantId, id, tx);
    });
    this.logger.info({ tenantId: principal.tenantId, exportId: id, sub: principal.sub }, 'export deleted');
  }

  private async found(principal: Principal, id: string): Promise<ExportRecord> {
    const found = await this.exportsRepo.find(principal.tenantId, id);
    if (!found) throw new AppError('not-found', `Export ${id} not found`);
    return found;
  }

  private async checkReferences(principal: Principal, s: ExportSettings): Promise<void> {
    if (s.connectionId) {
      const connection = await this.connections.find(principal.tenantId, s.connectionId);
      if (!connection)
        throw new AppError('validation', 'connectionId: no such connection', { field: 'connectionId' });
      assertMayUseConnection(principal, connection);
    } else {
      assertMayUseConnection(principal, undefined);
    }
    const known = await this.segments.findMany(principal.tenantId, s.segmentIds);
    const unknown = s.segmentIds.findIndex((id) => !known.has(id));
    if (unknown >= 0) {
      const field = `segmentIds[${unknown}]`;
      throw new AppError('validation', `${field}: unknown segment ${s.segmentIds[unknown]}`, { field });
    }
    const stray = Object.keys(s.listNames).find((id) => !s.segmentIds.includes(id));
    if (stray)
      throw new AppError('validation', `listNames.${stray}: not one of segmentIds`, {
        field: `listNames.${stray}`,
      });
  }
}
