import { join } from 'node:path';
import type { MappedContact, RunSpec } from '@export/contracts';
import { createPool, migrateDatabase } from '@export/database';
import { createTestDatabase, type TestDatabase } from '@export/testing';
import type { Pool } from 'pg';
import pino from 'pino';
import { BacklogRepository } from '../src/backlog/backlog.repository';
import { BacklogService } from '../src/backlog/backlog.service';
import type { DeliveryConfig } from '../src/config';
import { SCHEMA } from '../src/database/prepare-database';
import { DeliveryMetrics } from '../src/metrics/delivery.metrics';
import { RunsRepository } from '../src/runs/runs.repository';
import { StagingRepository } from '../src/staging/staging.repository';
import { runSpec, uid } from './support/harness';

/**
 * The backlog gauges on a real ledger: contacts still to send by run state, runs waiting for a sender slot
 * or leased, connections with work. Two instances (two services on two pools) export the same figures,
 * whoever holds the leases.
 */
describe('delivery backlog gauges', () => {
  const logger = pino({ level: 'silent' });
  const config = { DELIVERY_MAX_RUNS: 16, DELIVERY_BACKLOG_REFRESH_MS: 60_000, AUTOPILOT_RATE_LIMIT_RPS: 5 } as DeliveryConfig;
  let db: TestDatabase;
  const pools: Pool[] = [];
  let staging: StagingRepository;
  let runs: RunsRepository;
  const metrics = new DeliveryMetrics();

  beforeAll(async () => {
    db = await createTestDatabase('delivery_backlog');
    await migrateDatabase(db.url, { schema: SCHEMA, dir: join(__dirname, '../src/migrations'), logger });
    pools.push(createPool(db.url, { max: 4 }), createPool(db.url, { max: 4 }));
    staging = new StagingRepository(pools[0]);
    runs = new RunsRepository(pools[0]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await db?.drop();
  }, 60_000);

  const batch = (from: number, n: number): MappedContact[] =>
    Array.from({ length: n }, (_, i) => ({
      seq: from + i,
      email: `p${from + i}@example.com`,
      segmentId: 'seg-a',
      contact: { Email: `p${from + i}@example.com` },
    }));

  async function stage(spec: RunSpec, contacts: number, end: boolean): Promise<void> {
    await staging.stageBatch(spec, 0, batch(0, contacts), spec.runId);
    if (end) await staging.recordEnd(spec, 1, contacts, spec.runId);
  }

  async function gauges() {
    const values = async (gauge: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> }) =>
      Object.fromEntries((await gauge.get()).values.map((v) => [String(v.labels['run_state'] ?? ''), v.value]));
    return {
      contacts: await values(metrics.backlogContacts),
      runs: await values(metrics.backlogRuns),
      connections: (await metrics.backlogConnections.get()).values[0]?.value,
      seconds: (await metrics.backlogSeconds.get()).values[0]?.value,
      slots: (await metrics.runSlots.get()).values[0]?.value,
    };
  }

  it('counts what is left to send, by run state, and the runs waiting for a sender slot', async () => {
    const shared = uid('conn');
    // Staging: 120 staged, more to come. Ready (two runs of one connection, nobody holds them yet): 250 + 30.
    const stagingRun = runSpec({ tenantId: uid('tenant'), connectionId: uid('conn') });
    await stage(stagingRun, 120, false);
    const readyRuns = [runSpec({ tenantId: uid('tenant'), connectionId: shared }), runSpec({ tenantId: uid('tenant'), connectionId: shared })];
    await stage(readyRuns[0], 250, true);
    await stage(readyRuns[1], 30, true);
    // Delivering: 400 staged, decided, 150 sent by instance A.
    const delivering = runSpec({ tenantId: uid('tenant'), connectionId: uid('conn') });
    await stage(delivering, 400, true);
    const leased = await runs.lease('instance-a', 1, 60_000);
    expect(leased.map((r) => r.runId)).toEqual([readyRuns[0].runId]);
    // The lease went to the oldest ready run; give it back and lease the delivering one by hand.
    await runs.release('instance-a', readyRuns[0].runId);
    await pools[0].query(`UPDATE delivery.runs SET ready_at = now() - interval '1 hour' WHERE run_id = $1`, [delivering.runId]);
    const [run] = await runs.lease('instance-a', 1, 60_000);
    expect(run.runId).toBe(delivering.runId);
    await runs.decide('instance-a', run, { 'seg-a': 'contactlist_a' }, async () => undefined);
    await runs.markSent('instance-a', delivering.runId, batch(0, 150).map((c) => c.email));

    // Instance B reads the same figures as instance A, though only A holds a lease.
    for (const pool of pools) {
      const service = new BacklogService(new BacklogRepository(pool), metrics, config, logger);
      service.onApplicationBootstrap();
      await service.refresh();
      await service.onModuleDestroy();
      await expect(gauges()).resolves.toEqual({
        contacts: { staging: 120, ready: 280, delivering: 250 },
        runs: { staging: 1, waiting: 2, leased: 1 },
        connections: 3,
        // The busiest connection: the two ready runs' 280 contacts, 3 calls at 5 r/s.
        seconds: 0.6,
        slots: 16,
      });
    }

    // The run ends: its contacts leave the backlog.
    await runs.markSent('instance-a', delivering.runId, batch(150, 250).map((c) => c.email));
    await runs.finish('instance-a', delivering.runId, 'succeeded', null, async () => undefined);
    const service = new BacklogService(new BacklogRepository(pools[1]), metrics, config, logger);
    await service.refresh();
    const after = await gauges();
    expect(after.contacts).toEqual({ staging: 120, ready: 280, delivering: 0 });
    expect(after.runs).toEqual({ staging: 1, waiting: 2, leased: 0 });
    expect(after.connections).toBe(2);
  });
});
