import { join } from 'node:path';
import type { MappedContact } from '@export/contracts';
import { createPool, migrateDatabase } from '@export/database';
import { createTestDatabase, type TestDatabase } from '@export/testing';
import type { Pool } from 'pg';
import pino from 'pino';
import { SCHEMA } from '../src/database/prepare-database';
import { StagingRepository } from '../src/staging/staging.repository';
import { runSpec, uid } from './support/harness';

/**
 * Batches of one run stage side by side (their contacts are written before the run row is locked): with three
 * lanes at once, e-mails shared between batches, batches split in parts and redelivered, the ledger ends
 * exactly as if they had come one by one. Real PostgreSQL.
 */
describe('staging batches of one run concurrently', () => {
  const logger = pino({ level: 'silent' });
  let db: TestDatabase;
  let pool: Pool;
  let staging: StagingRepository;

  beforeAll(async () => {
    db = await createTestDatabase('delivery_staging_concurrency');
    await migrateDatabase(db.url, { schema: SCHEMA, dir: join(__dirname, '../src/migrations'), logger });
    pool = createPool(db.url, { max: 6 });
    staging = new StagingRepository(pool);
  }, 120_000);

  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  }, 60_000);

  it('counts every batch, part and distinct e-mail once, keeps the smallest seq and every segment', async () => {
    const spec = runSpec({
      tenantId: uid('tenant'),
      connectionId: uid('conn'),
      limitPolicy: 'truncate',
      segments: ['seg-a', 'seg-b'].map((segmentId) => ({
        segmentId,
        segmentName: segmentId,
        listName: segmentId,
        snapshot: { format: 'jsonl', location: 'file:///dev/null' },
      })),
    });
    // 60 batches of 50 rows. Batch b holds people b*25 .. b*25+49: each person is in two neighbouring batches,
    // in segment a in the first (smaller seq) and in segment b in the second. Every 4th batch comes in 2 parts.
    const BATCHES = 60;
    const batch = (b: number): MappedContact[] =>
      Array.from({ length: 50 }, (_, i) => {
        const person = b * 25 + i;
        return {
          seq: b * 50 + i,
          email: `p${person}@example.com`,
          segmentId: i < 25 ? 'seg-b' : 'seg-a',
          contact: { Email: `p${person}@example.com`, FirstName: `from-batch-${b}` },
        };
      });
    await staging.recordEnd(spec, BATCHES, BATCHES * 50, spec.runId);
    const jobs: (() => Promise<unknown>)[] = [];
    for (let b = 0; b < BATCHES; b++) {
      const rows = batch(b);
      const messages: (() => Promise<unknown>)[] =
        b % 4 === 0
          ? [
              () => staging.stageBatch(spec, b, rows.slice(0, 20), spec.runId, { part: 0, parts: 2 }),
              () => staging.stageBatch(spec, b, rows.slice(20), spec.runId, { part: 1, parts: 2 }),
            ]
          : [() => staging.stageBatch(spec, b, rows, spec.runId)];
      jobs.push(...messages);
      // Every 7th batch is delivered twice (a redelivery after a rebalance), maybe while the first is staging.
      if (b % 7 === 0) jobs.push(...messages);
    }
    // Three lanes, as the consumer's three partitions; a lane takes the next job when it is free.
    let next = 0;
    await Promise.all(
      [0, 1, 2].map(async () => {
        while (next < jobs.length) await jobs[next++]();
      }),
    );

    const people = BATCHES * 25 + 25;
    const { rows: runs } = await pool.query(
      `SELECT state, staged_batches, mapped, unique_staged FROM delivery.runs WHERE run_id = $1`,
      [spec.runId],
    );
    expect(runs[0].state).toBe('ready');
    expect(runs[0].mapped).toBe(BATCHES * 50);
    expect(runs[0].staged_batches).toBe(BATCHES);
    expect(runs[0].unique_staged).toBe(people);
    const { rows } = await pool.query<{ email: string; seq: number; segment_ids: string[]; contact: { FirstName: string } }>(
      `SELECT email, seq, segment_ids, contact FROM delivery.run_contacts WHERE run_id = $1`,
      [spec.runId],
    );
    expect(rows).toHaveLength(people);
    for (const row of rows) {
      const person = Number(/^p(\d+)@/.exec(row.email)?.[1]);
      const first = Math.max(0, Math.floor((person - 25) / 25));
      const inTwo = person >= 25 && person < BATCHES * 25;
      // Its first batch is the one where it sits in the second half (segment a, the smaller seq).
      const firstBatch = person < 25 ? 0 : first;
      expect(row.seq).toBe(firstBatch * 50 + (person - firstBatch * 25));
      expect(row.contact.FirstName).toBe(`from-batch-${firstBatch}`);
      expect(row.segment_ids).toEqual(inTwo ? ['seg-a', 'seg-b'] : person < 25 ? ['seg-b'] : ['seg-a']);
    }
  });
});
