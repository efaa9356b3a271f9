import { randomUUID } from 'node:crypto';
import { ACTIVE_RUN_STATUSES, RunId, TenantId } from '@export/contracts';
import { AppError } from '@export/errors';
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { z } from 'zod';
import { APP_LOGGER } from '../app-tokens';
import { requireRole, type Principal } from '../auth/principal';
import type { ServiceCaller } from '../auth/service-auth.guard';
import { CredentialsCipher } from '../credentials/credentials-cipher';
import { inTransaction } from '../database/database';
import { PG_POOL } from '@export/database';
import { asTenantId } from '../database/tenant';
import { ExportsRepository } from '../exports/exports.repository';
import { parseInput } from '../http/parse-input';
import { InternalRunsService } from '../runs/internal-runs.service';
import { AutopilotAccountClient } from './autopilot-account.client';
import { CreateConnectionBody, UpdateConnectionBody } from './connection.schemas';
import { ConnectionsRepository, type ConnectionRecord } from './connections.repository';

export interface ConnectionView {
  id: string;
  displayName: string;
  type: 'autopilot';
  allowContributors: boolean;
  apiKeyLast4: string;
  status: ConnectionRecord['status'];
  exportUsers: string[];
  createdAt: string;
}

export interface ConnectionCredentials {
  connectionId: string;
  tenantId: string;
  apiKey: string;
  status: ConnectionRecord['status'];
  /** Grows with every key saved: delivery keeps its "key rejected" flag per version. */
  keyVersion: number;
}

const toView = (c: ConnectionRecord): ConnectionView => ({
  id: c.id,
  displayName: c.displayName,
  type: 'autopilot',
  allowContributors: c.allowContributors,
  apiKeyLast4: c.apiKeyLast4,
  status: c.status,
  exportUsers: c.exportUsers,
  createdAt: c.createdAt.toISOString(),
});

/** Binds a sealed key to its row, so it cannot be decrypted anywhere else. */
const keyBinding = (tenantId: string, connectionId: string) => `${tenantId}/${connectionId}`;
const CredentialsQuery = z.object({ tenantId: TenantId, runId: RunId });
const last4 = (apiKey: string) => apiKey.slice(-4);

@Injectable()
export class ConnectionsService {
  /** Audit lines are written whatever LOG_LEVEL says (info and above). */
  private readonly audit: Logger;

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    private readonly connections: ConnectionsRepository,
    private readonly exportsRepo: ExportsRepository,
    private readonly cipher: CredentialsCipher,
    private readonly autopilot: AutopilotAccountClient,
    private readonly internalRuns: InternalRunsService,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {
    this.audit = logger.child({ component: 'audit' }, { level: 'info' });
  }

  async create(principal: Principal, body: unknown): Promise<ConnectionView> {
    requireRole(principal, 'admin');
    const input = parseInput(CreateConnectionBody, body);
    await this.autopilot.verifyKey(input.apiKey);
    const id = randomUUID();
    const created = await this.connections.insert(principal.tenantId, {
      id,
      displayName: input.displayName,
      apiKeyEncrypted: this.cipher.encrypt(input.apiKey, keyBinding(principal.tenantId, id)),
      apiKeyLast4: last4(input.apiKey),
      allowContributors: input.allowContributors,
      exportUsers: input.addMeAsExportUser ? [principal.sub] : [],
      createdBy: principal.sub,
    });
    this.logger.info(
      { tenantId: principal.tenantId, connectionId: id, sub: principal.sub },
      'connection created',
    );
    return toView(created);
  }

  async list(principal: Principal): Promise<ConnectionView[]> {
    return (await this.connections.list(principal.tenantId)).map(toView);
  }

  async get(principal: Principal, id: string): Promise<ConnectionView> {
    const found = await this.connections.find(principal.tenantId, id);
    if (!found) throw new AppError('not-found', `Connection ${id} not found`);
    return toView(found);
  }

  async update(principal: Principal, id: string, body: unknown): Promise<ConnectionView> {
    requireRole(principal, 'admin');
    const input = parseInput(UpdateConnectionBody, body);
    if (!(await this.connections.find(principal.tenantId, id)))
      throw new AppError('not-found', `Connection ${id} not found`);
    if (input.apiKey) await this.autopilot.verifyKey(input.apiKey);
    const updated = await this.connections.update(principal.tenantId, id, {
      displayName: input.displayName,
      allowContributors: input.allowContributors,
      exportUsers: input.exportUsers,
      ...(input.apiKey
        ? {
            apiKeyEncrypted: this.cipher.encrypt(input.apiKey, keyBinding(principal.tenantId, id)),
            apiKeyLast4: last4(input.apiKey),
          }
        : {}),
    });
    if (!updated) throw new AppError('not-found', `Connection ${id} not found`);
    this.logger.info(
      { tenantId: principal.tenantId, connectionId: id, keyRotated: Boolean(input.apiKey) },
      'connection updated',
    );
    return toView(updated);
  }

  /** Refused while exports use the connection, unless `detach`: those exports then have no connection. */
  async remove(principal: Principal, id: string, detach: boolean): Promise<{ detachedExports: number }> {
    requireRole(principal, 'admin');
    const detached = await inTransaction(this.pool, async (tx) => {
      if (!(await this.connections.lock(principal.tenantId, id, tx)))
        throw new AppError('not-found', `Connection ${id} not found`);
      const inUse = await this.exportsRepo.countUsingConnection(principal.tenantId, id, tx);
      if (inUse > 0 && !detach) {
        throw new AppError(
          'conflict',
          `${inUse} export(s) use this connection; delete them or retry with ?detach=true`,
        );
      }
      const count = inUse > 0 ? await this.exportsRepo.detachConnection(principal.tenantId, id, tx) : 0;
      await this.connections.markDeleted(principal.tenantId, id, tx);
      return count;
    });
    this.logger.info(
      { tenantId: principal.tenantId, connectionId: id, detachedExports: detached },
      'connection deleted',
    );
    return { detachedExports: detached };
  }

  /**
   * For the delivery service only (internal listener): the decrypted key of a live connection, for one run
   * that is active (queued or running) and delivers through that connection in that tenant. Refused
   * otherwise: 404 RUN_NOT_FOUND (no such run in the tenant), 409 RUN_CONNECTION_MISMATCH, 409 RUN_NOT_ACTIVE.
   * Every decryption writes the audit line `credentials.decrypted` (who, run, connection, tenant; never the key).
   */
  async credentialsForRun(
    caller: ServiceCaller,
    connectionId: string,
    query: unknown,
    correlationId: string,
  ): Promise<ConnectionCredentials> {
    const parsed = CredentialsQuery.safeParse(query);
    if (!parsed.success) {
      const field = String(parsed.error.issues[0]?.path[0] ?? 'tenantId');
      throw new AppError('validation', `${field}: required`, { field });
    }
    const tenant = asTenantId(parsed.data.tenantId);
    const { runId } = parsed.data;
    const audit = {
      audit: true,
      caller: caller.service,
      tenantId: tenant,
      connectionId,
      runId,
      correlationId,
    };
    try {
      const run = await this.internalRuns.confirm(tenant, runId);
      if (run.connectionId !== connectionId)
        throw new AppError(
          'conflict',
          `RUN_CONNECTION_MISMATCH: run ${runId} does not use connection ${connectionId}`,
          {
            code: 'RUN_CONNECTION_MISMATCH',
          },
        );
      if (!ACTIVE_RUN_STATUSES.includes(run.status))
        throw new AppError('conflict', `RUN_NOT_ACTIVE: run ${runId} is ${run.status}`, {
          code: 'RUN_NOT_ACTIVE',
        });
      const found = await this.connections.findSealedKey(tenant, connectionId);
      if (!found)
        throw new AppError('not-found', `CONNECTION_NOT_FOUND: connection ${connectionId} not found`, {
          code: 'CONNECTION_NOT_FOUND',
        });
      const apiKey = this.cipher.decrypt(found.sealed, keyBinding(tenant, connectionId));
      this.audit.info(audit, 'credentials.decrypted');
      return { connectionId, tenantId: tenant, apiKey, status: found.record.status, keyVersion: found.record.keyVersion };
    } catch (error) {
      const code = error instanceof AppError ? (error.details.code ?? error.kind) : 'error';
      this.audit.warn({ ...audit, code }, 'credentials.refused');
      throw error;
    }
  }
}
