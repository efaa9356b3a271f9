import { createTestDatabase, dropTestDatabase, testDatabaseUrl } from '@export/testing';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import pino from 'pino';
import { migrateDatabase, pendingMigrations } from '../src/migrate';

const logger = pino({ level: 'silent' });
const DIR_A = join(__dirname, 'migrations-a');
const DIR_B = join(__dirname, 'migrations-b');

describe('migrateDatabase started by many instances at the same instant', () => {
  it('comes up every time: 8 starts (two schemas) on one fresh, not yet created database, 20 rounds', async () => {
    const failures: string[] = [];
    for (let round = 0; round < 20; round++) {
      const name = `migrate_race_${round}_${randomBytes(3).toString('hex')}`;
      const url = testDatabaseUrl(name);
      try {
        const starts = Array.from({ length: 8 }, (_, i) =>
          migrateDatabase(url, { schema: i % 2 ? 'svc_a' : 'svc_b', dir: i % 2 ? DIR_A : DIR_B, logger }),
        );
        const results = await Promise.allSettled(starts);
        for (const r of results) if (r.status === 'rejected') failures.push(`round ${round}: ${String(r.reason)}`);
        const client = new Client({ connectionString: url });
        await client.connect();
        try {
          const { rows } = await client.query('SELECT name FROM svc_a.pgmigrations ORDER BY id');
          expect(rows.map((r) => r.name)).toEqual(['1700000000000_first', '1700000000001_second']);
        } finally {
          await client.end();
        }
      } finally {
        await dropTestDatabase(name);
      }
    }
    expect(failures).toEqual([]);
  });

  it('knows cheaply when nothing is pending, and names what is', async () => {
    const db = await createTestDatabase('migrate_pending');
    try {
      expect(await pendingMigrations(db.url, 'svc_a', DIR_A)).toEqual(['1700000000000_first', '1700000000001_second']);
      await migrateDatabase(db.url, { schema: 'svc_a', dir: DIR_B, logger });
      expect(await pendingMigrations(db.url, 'svc_a', DIR_A)).toEqual(['1700000000001_second']);
      await migrateDatabase(db.url, { schema: 'svc_a', dir: DIR_A, logger });
      expect(await pendingMigrations(db.url, 'svc_a', DIR_A)).toEqual([]);
    } finally {
      await db.drop();
    }
  });

  it('gives up waiting for a held lock after the timeout, with a message that says what to do', async () => {
    const db = await createTestDatabase('migrate_lock');
    const holder = new Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1::int, hashtext($2))', [MIGRATION_LOCK_CLASS, 'svc_a']);
      const started = Date.now();
      await expect(
        migrateDatabase(db.url, { schema: 'svc_a', dir: DIR_A, logger, lockTimeoutMs: 1500 }),
      ).rejects.toThrow(/1\.5 s waiting for the migration lock of schema svc_a/);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await holder.end();
      await db.drop();
    }
  });
});

// Kept in sync with the value in src/migrate.ts on purpose: a test that imported it would not notice a change
// that made every service take another service's lock.
const MIGRATION_LOCK_CLASS = 7_301_104;
