import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { MappedContact, RunSpec } from '@export/contracts';
import { createPool } from '@export/database';
import { createTestDatabase, expectEventually, type TestDatabase } from '@export/testing';
import axios from 'axios';
import type { Pool } from 'pg';
import pino from 'pino';
import { migrateDatabase } from '@export/database';
import { SCHEMA } from '../src/database/prepare-database';
import { DeliveryMetrics } from '../src/metrics/delivery.metrics';
import type { RunEventBody } from '../src/runs/run-events.publisher';
import { LeaseLostError, RunsRepository } from '../src/runs/runs.repository';
import type { PacedCall } from '../src/sender/autopilot-caller';
import { ListsService } from '../src/sender/lists.service';
import { RemovalsRepository } from '../src/sync/removals.repository';
import { RunLane, type LaneDeps } from '../src/sender/run-lane';
import { StagingRepository } from '../src/staging/staging.repository';
import { runSpec, startSimulator, uid } from './support/harness';

/**
 * Every ledger write of a lane is fenced by its lease: a lane that stalled past its lease and was taken
 * over writes nothing more, sends nothing more and publishes nothing more; the run's counts stay exact.
 * Real PostgreSQL and the simulator; the lanes are driven by hand (no Kafka needed).
 */
describe('delivery lease fencing', () => {
  const logger = pino({ level: 'silent' });
  let db: TestDatabase;
  let pool: Pool;
  let repo: RunsRepository;
  let staging: StagingRepository;
  let sim: Awaited<ReturnType<typeof startSimulator>>;

  beforeAll(async () => {
    db = await createTestDatabase('delivery_fencing');
    await migrateDatabase(db.url, { schema: SCHEMA, dir: join(__dirname, '../src/migrations'), logger });
    pool = createPool(db.url, { max: 10 });
    repo = new RunsRepository(pool);
    staging = new StagingRepository(pool);
    sim = await startSimulator({ SIM_RATE_LIMIT_RPS: '0' });
  }, 120_000);

  afterAll(async () => {
    await sim?.stop();
    await pool?.end();
    await db?.drop();
  }, 60_000);

  async function readyRun(contacts: number): Promise<{ spec: RunSpec; apiKey: string; account: string }> {
    const apiKey = `key-${randomUUID()}`;
    const account = uid('account');
    await axios.post(`${sim.url}/__sim/keys`, { key: apiKey, account });
    const spec = runSpec({ tenantId: uid('tenant'), connectionId: uid('conn') });
    const batch: MappedContact[] = Array.from({ length: contacts }, (_, i) => ({
      seq: i,
      email: `p${i}@example.com`,
      segmentId: 'seg-a',
      contact: { Email: `p${i}@example.com` },
    }));
    await staging.stageBatch(spec, 0, batch, spec.runId);
    await staging.recordEnd(spec, 1, contacts, spec.runId);
    return { spec, apiKey, account };
  }

  /** The run as its decision leaves it (without the decision): delivering, every contact to send. */
  async function decided(runId: string): Promise<void> {
    await pool.query(`UPDATE delivery.runs SET state = 'delivering' WHERE run_id = $1`, [runId]);
    await pool.query(`UPDATE delivery.run_contacts SET status = 'pending', change = 'added' WHERE run_id = $1`, [runId]);
  }

  /** A lane's dependencies; its bulk upserts go through `gate` (a stall) and are counted. */
  function laneDeps(owner: string, apiKey: string, gate?: Promise<void>) {
    const published: RunEventBody[] = [];
    const bulkCalls = { started: 0, sent: 0 };
    const call: PacedCall = async (route, send) => {
      if (route === 'POST /contacts') {
        bulkCalls.started++;
        if (gate) await gate;
        bulkCalls.sent++;
      }
      return send();
    };
    const deps: LaneDeps = {
      owner,
      repo,
      removals: new RemovalsRepository(pool),
      events: { publish: async (_run: unknown, events: RunEventBody[]) => void published.push(...events) } as never,
      credentials: {
        get: async (connectionId: string, tenantId: string) => ({ connectionId, tenantId, apiKey, status: 'active' }),
        forget: () => undefined,
      } as never,
      pacer: { isDead: async () => false } as never,
      caller: { forKey: () => call } as never,
      lists: new ListsService(pool),
      metrics: new DeliveryMetrics(),
      autopilot: { baseUrl: sim.baseUrl, timeoutMs: 10_000 },
      callsPerRun: 1,
      logger,
    };
    return { deps, published, bulkCalls };
  }

  async function contactsOf(account: string) {
    return (await axios.get(`${sim.url}/__sim/contacts`, { params: { account } })).data.contacts as {
      email: string;
      upserts: number;
    }[];
  }

  it('a lane that stalls past its lease and is taken over writes, sends and publishes nothing more; counts stay exact', async () => {
    const contacts = 300;
    const { spec, apiKey, account } = await readyRun(contacts);
    let wake!: () => void;
    const stall = new Promise<void>((resolve) => (wake = resolve));

    // Lane A leases the run for a moment only, decides it and stalls in its first bulk call.
    const [leasedByA] = await repo.lease('owner-a', 1, 300);
    expect(leasedByA.runId).toBe(spec.runId);
    const a = laneDeps('owner-a', apiKey, stall);
    const laneA = new RunLane(leasedByA, a.deps);
    const doneA = laneA.execute();
    await expectEventually(() => a.bulkCalls.started === 1, { timeoutMs: 10_000, message: 'lane A in its first call' });

    // Its lease runs out; lane B takes the run over and delivers it to the end.
    const leasedByB = await expectEventually(
      async () => (await repo.lease('owner-b', 1, 60_000)).find((r) => r.runId === spec.runId),
      { timeoutMs: 10_000, message: 'lane B to take the run over' },
    );
    const b = laneDeps('owner-b', apiKey);
    await new RunLane(leasedByB, b.deps).execute();
    expect(b.published.at(-1)).toMatchObject({ type: 'delivery-completed', counts: { delivered: contacts, failed: 0 } });

    // A wakes up: its call in flight lands (at-least-once), then its first write finds the lease gone.
    const publishedByABefore = a.published.length;
    wake();
    await doneA;
    expect(a.bulkCalls.sent).toBe(1); // no further call after the write that found the lease lost
    expect(a.published.length).toBe(publishedByABefore); // no progress, no end of run from A

    const counts = await repo.counts(spec.runId);
    expect(counts).toMatchObject({ delivered: contacts, failed: 0, pending: 0 });
    const { rows } = await pool.query<{ state: string; lease_owner: string | null }>(
      'SELECT state, lease_owner FROM delivery.runs WHERE run_id = $1',
      [spec.runId],
    );
    expect(rows[0]).toEqual({ state: 'succeeded', lease_owner: null });
    const inSimulator = await contactsOf(account);
    expect(inSimulator).toHaveLength(contacts);
    // Only the chunk A had in flight was sent twice.
    expect(inSimulator.filter((c) => c.upserts > 1).length).toBeLessThanOrEqual(100);
  }, 60_000);

  it("a lane's late writes on a run another lane holds change nothing and tell it the lease is lost", async () => {
    const { spec } = await readyRun(10);
    await repo.lease('owner-a', 1, 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const [held] = await repo.lease('owner-b', 1, 60_000);
    expect(held.runId).toBe(spec.runId);
    await decided(spec.runId);

    await expect(repo.markSent('owner-a', spec.runId, ['p0@example.com'])).rejects.toBeInstanceOf(LeaseLostError);
    await expect(
      repo.markFailed('owner-a', spec.runId, [{ email: 'p1@example.com', reason: 'late' }]),
    ).rejects.toBeInstanceOf(LeaseLostError);
    await expect(repo.progress('owner-a', spec.runId)).rejects.toBeInstanceOf(LeaseLostError);
    expect(await repo.finish('owner-a', spec.runId, 'failed', { code: 'X', message: 'late' }, async () => undefined)).toBeNull();
    expect(await repo.counts(spec.runId)).toMatchObject({ delivered: 0, failed: 0, pending: 10 });

    // The holder's writes go through.
    expect(await repo.markSent('owner-b', spec.runId, ['p0@example.com'])).toEqual({ sent: 1, updated: 0 });
    await repo.markFailed('owner-b', spec.runId, [{ email: 'p1@example.com', reason: 'refused' }]);
    expect(await repo.progress('owner-b', spec.runId)).toMatchObject({ delivered: 1, failed: 1 });
  }, 30_000);

  it('a takeover never lands under a write of the old holder in progress; after it, the old holder writes nothing', async () => {
    const { spec } = await readyRun(10);
    await repo.lease('owner-a', 1, 1);
    await decided(spec.runId);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // A write of A is under way (its statement holds the run row in share mode, as the fenced writes do)...
    const slow = await pool.connect();
    try {
      await slow.query('BEGIN');
      await slow.query('SELECT 1 FROM delivery.runs WHERE run_id = $1 AND lease_owner = $2 FOR SHARE', [
        spec.runId,
        'owner-a',
      ]);
      // ...so B's takeover passes the run by (SKIP LOCKED) instead of leasing it under A's feet.
      expect((await repo.lease('owner-b', 10, 60_000)).map((r) => r.runId)).not.toContain(spec.runId);
      await slow.query('COMMIT');
    } finally {
      slow.release();
    }
    expect((await repo.lease('owner-b', 10, 60_000)).map((r) => r.runId)).toContain(spec.runId);
    await expect(repo.markSent('owner-a', spec.runId, ['p0@example.com'])).rejects.toBeInstanceOf(LeaseLostError);
    expect(await repo.counts(spec.runId)).toMatchObject({ delivered: 0, pending: 10 });
  }, 30_000);
});
