import { randomUUID } from 'node:crypto';
import { createPool } from '@export/database';
import { createLogger } from '@export/logging';
import { createTestDatabase, type TestDatabase } from '@export/testing';
import type { RowRejection } from '@export/contracts';
import type { Pool } from 'pg';
import { SCHEMA } from '../src/database/database';
import { migrateDatabase } from '../src/database/migrate';
import { asTenantId } from '../src/database/tenant';
import { RetentionRepository } from '../src/retention/retention.repository';
import { RunsRepository } from '../src/runs/runs.repository';
import { MIGRATIONS_DIR } from './support/control-plane';

/**
 * Retention of the control plane's run history on the real PostgreSQL: rejections stored per run are capped
 * while the run's `rejected` count stays exact (incremental, redelivery-proof), and runs with their
 * rejections are purged in batches once older than the retention period.
 */
describe('control plane retention', () => {
  let db: TestDatabase;
  let pool: Pool;
  let runs: RunsRepository;
  let retention: RetentionRepository;
  const tenant = asTenantId(`t-ret-${randomUUID().slice(0, 8)}`);

  beforeAll(async () => {
    db = await createTestDatabase('cp_retention');
    await migrateDatabase(db.url, MIGRATIONS_DIR, createLogger({ service: 'test', level: 'warn' }));
    pool = createPool(db.url, { max: 10, schema: SCHEMA });
    runs = new RunsRepository(pool);
    retention = new RetentionRepository(pool);
  });

  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  async function exportWithRun(status = 'running', finishedDaysAgo?: number): Promise<string> {
    const exportId = randomUUID();
    const runId = randomUUID();
    await pool.query(
      `INSERT INTO exports (id, tenant_id, name, segment_ids, mapping, created_by)
       VALUES ($1, $2, 'e', '{seg-a}', '{"email":"EMail"}', 'u')`,
      [exportId, tenant],
    );
    await pool.query(
      `INSERT INTO runs (id, tenant_id, export_id, status, trigger, event_id, correlation_id, queued_at, finished_at)
       VALUES ($1, $2, $3, $4, 'on-demand', $6, $6, now() - $5 * interval '1 day', now() - $5 * interval '1 day')`,
      [runId, tenant, exportId, status, finishedDaysAgo ?? 0, `event-${runId}`],
    );
    if (finishedDaysAgo === undefined) await pool.query('UPDATE runs SET finished_at = NULL WHERE id = $1', [runId]);
    return runId;
  }

  const rejections = (from: number, count: number): RowRejection[] =>
    Array.from({ length: count }, (_, i) => ({
      segmentId: 'seg-a',
      partition: 'p1',
      line: from + i,
      reason: `bad e-mail on line ${from + i}`,
    }));

  const state = async (runId: string) => {
    const { rows } = await pool.query<{ rejected: number; stored: string }>(
      'SELECT rejected, (SELECT count(*) FROM rejections WHERE run_id = $1) AS stored FROM runs WHERE id = $1',
      [runId],
    );
    return { rejected: rows[0].rejected, stored: Number(rows[0].stored) };
  };

  it('stores at most the cap of rejections per run while `rejected` counts every one, once', async () => {
    const runId = await exportWithRun();
    const cap = 5;
    // Three events of 4, the second delivered twice (Kafka redelivers after a crash before the commit).
    await runs.addRejections(tenant, runId, 'mapping', rejections(1, 4), pool, cap);
    await runs.addRejections(tenant, runId, 'mapping', rejections(5, 4), pool, cap);
    await runs.addRejections(tenant, runId, 'mapping', rejections(5, 4), pool, cap);
    await runs.addRejections(tenant, runId, 'mapping', rejections(9, 4), pool, cap);
    expect(await state(runId)).toEqual({ rejected: 12, stored: 5 });
    // The first rows are the ones kept (row order), so the first page of rejections is stable.
    const page = await runs.listRejections(tenant, runId, 10);
    expect(page.map((r) => r.line)).toEqual([1, 2, 3, 4, 5]);
    // A stored row sent again in an event cut differently (a producer restarted with other settings) is not
    // counted twice either.
    await runs.addRejections(tenant, runId, 'mapping', rejections(2, 2), pool, cap);
    expect(await state(runId)).toEqual({ rejected: 12, stored: 5 });
  });

  it('counts incrementally: the stored rows are never counted again', async () => {
    const runId = await exportWithRun();
    await runs.addRejections(tenant, runId, 'extraction', rejections(1, 3), pool, 10_000);
    // Were `rejected` recounted from the stored rows, removing one would change it on the next event.
    await pool.query('DELETE FROM rejections WHERE run_id = $1 AND line = 1', [runId]);
    await runs.addRejections(tenant, runId, 'extraction', rejections(4, 2), pool, 10_000);
    expect((await state(runId)).rejected).toBe(5);
  });

  it('purges runs finished before the retention period with their rejections, in batches; keeps the rest', async () => {
    const old = await Promise.all([1, 2, 3].map(() => exportWithRun('succeeded', 31)));
    for (const runId of old) await runs.addRejections(tenant, runId, 'mapping', rejections(1, 7), pool, 10_000);
    const recent = await exportWithRun('failed', 29);
    await runs.addRejections(tenant, recent, 'mapping', rejections(1, 2), pool, 10_000);
    const active = await exportWithRun('running');
    await pool.query(`UPDATE runs SET queued_at = now() - interval '60 days' WHERE id = $1`, [active]);

    const purged = await retention.purge({ retentionDays: 30, batchSize: 2 });
    expect(purged).toEqual({ runs: 3, rejections: 21, skipped: false });
    const { rows } = await pool.query<{ id: string }>('SELECT id FROM runs WHERE id = ANY($1::uuid[])', [
      [...old, recent, active],
    ]);
    expect(rows.map((r) => r.id).sort()).toEqual([recent, active].sort());
    expect((await state(recent)).stored).toBe(2);
  });

  it('lets one instance purge at a time (advisory lock): the other skips the round', async () => {
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock($1)', [RetentionRepository.LOCK_KEY]);
      expect(await retention.purge({ retentionDays: 30, batchSize: 100 })).toEqual({
        runs: 0,
        rejections: 0,
        skipped: true,
      });
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
  });
});
