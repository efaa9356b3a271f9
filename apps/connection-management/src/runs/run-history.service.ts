import type { RunRejection, RunView } from '@export/contracts';
import { AppError } from '@export/errors';
import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import type { Principal } from '../auth/principal';
import { ExportsRepository } from '../exports/exports.repository';
import { hasNoNul, parseInput } from '../http/parse-input';
import { RunsRepository, type RunRecord } from './runs.repository';

export function toRunView(r: RunRecord): RunView {
  return {
    id: r.id,
    exportId: r.exportId,
    status: r.status,
    trigger: r.trigger,
    ...(r.reason ? { reason: r.reason } : {}),
    ...(r.message ? { message: r.message } : {}),
    queuedAt: r.queuedAt.toISOString(),
    startedAt: r.startedAt?.toISOString() ?? null,
    finishedAt: r.finishedAt?.toISOString() ?? null,
    dryRun: r.options.dryRun,
    fullResync: r.options.fullResync,
    confirmRemovals: r.options.confirmRemovals,
    phase: r.phase,
    progress: r.progress,
    counts: r.counts,
  };
}

const Cursor = z.tuple([z.string().refine(hasNoNul), z.string().refine(hasNoNul), z.number().int()]);
const encodeCursor = (r: RunRejection) =>
  Buffer.from(JSON.stringify([r.segmentId, r.partition, r.line])).toString('base64url');

function decodeCursor(cursor: string): { segmentId: string; partition: string; line: number } {
  try {
    const [segmentId, partition, line] = Cursor.parse(
      JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')),
    );
    return { segmentId, partition, line };
  } catch {
    throw new AppError('validation', 'cursor: not a cursor this API returned', { field: 'cursor' });
  }
}

const RunsQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) });
const RejectionsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().min(1).optional(),
});

/** Run history: what the API shows of runs and their rejected rows. */
@Injectable()
export class RunHistoryService {
  constructor(
    private readonly runs: RunsRepository,
    private readonly exportsRepo: ExportsRepository,
  ) {}

  async get(principal: Principal, runId: string): Promise<RunView> {
    const run = await this.runs.find(principal.tenantId, runId);
    if (!run) throw new AppError('not-found', `Run ${runId} not found`);
    return toRunView(run);
  }

  async listForExport(principal: Principal, exportId: string, query: unknown): Promise<RunView[]> {
    const { limit } = parseInput(RunsQuery, query);
    if (!(await this.exportsRepo.find(principal.tenantId, exportId)))
      throw new AppError('not-found', `Export ${exportId} not found`);
    return (await this.runs.listForExport(principal.tenantId, exportId, limit)).map(toRunView);
  }

  async rejections(
    principal: Principal,
    runId: string,
    query: unknown,
  ): Promise<{ items: RunRejection[]; nextCursor: string | null }> {
    const { limit, cursor } = parseInput(RejectionsQuery, query);
    if (!(await this.runs.find(principal.tenantId, runId)))
      throw new AppError('not-found', `Run ${runId} not found`);
    const items = await this.runs.listRejections(
      principal.tenantId,
      runId,
      limit,
      cursor ? decodeCursor(cursor) : undefined,
    );
    return { items, nextCursor: items.length === limit ? encodeCursor(items[items.length - 1]) : null };
  }
}
