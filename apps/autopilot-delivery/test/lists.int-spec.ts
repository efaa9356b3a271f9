import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createPool } from '@export/database';
import { createTestDatabase, type TestDatabase } from '@export/testing';
import type { Pool } from 'pg';
import pino from 'pino';
import { migrateDatabase } from '@export/database';
import { SCHEMA } from '../src/database/prepare-database';
import type { PacedCall } from '../src/sender/autopilot-caller';
import { ListsService } from '../src/sender/lists.service';

const call: PacedCall = (_route, send) => send();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** No call to Autopilot inside a database transaction, and still one list per (key, title) across instances. */
describe('ListsService on PostgreSQL', () => {
  let db: TestDatabase;
  const pools: Pool[] = [];
  const pool = (idleInTransactionTimeoutMs = 60_000) => {
    const created = createPool(db.url, { max: 4, timeouts: { idleInTransactionTimeoutMs } });
    pools.push(created);
    return created;
  };

  beforeAll(async () => {
    db = await createTestDatabase('delivery_lists');
    await migrateDatabase(db.url, { schema: SCHEMA, dir: join(__dirname, '../src/migrations'), logger: pino({ level: 'silent' }) });
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(pools.map((p) => p.end()));
    await db?.drop();
  }, 60_000);

  /** An Autopilot account whose lookups take `latencyMs`; records what was created. */
  function account(latencyMs: number) {
    const lists: { listId: string; title: string }[] = [];
    let created = 0;
    return {
      lists,
      created: () => created,
      client: {
        listLists: async () => {
          await sleep(latencyMs);
          return [...lists];
        },
        createList: async (title: string) => {
          await sleep(latencyMs);
          created++;
          const listId = `contactlist_${randomUUID()}`;
          lists.push({ listId, title });
          return listId;
        },
      },
    };
  }

  it('holds no transaction open while it waits for Autopilot (a slow lookup outlives the idle-in-transaction timeout)', async () => {
    const autopilot = account(800);
    const observer = pool();
    const sessionsIdleInTransaction: number[] = [];
    const watch = setInterval(() => {
      void observer
        .query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
        )
        .then(({ rows }) => sessionsIdleInTransaction.push(rows[0].n), () => undefined);
    }, 100);
    try {
      const id = await new ListsService(pool(300)).ensure(autopilot.client, call, 'hash-a', 'VIP customers');
      expect(id).toMatch(/^contactlist_/);
    } finally {
      clearInterval(watch);
    }
    expect(autopilot.created()).toBe(1);
    expect(Math.max(0, ...sessionsIdleInTransaction)).toBe(0);
  }, 30_000);

  it('creates one list per key and title when instances ask at the same time, and remembers it', async () => {
    const autopilot = account(200);
    const instances = [new ListsService(pool()), new ListsService(pool()), new ListsService(pool())];
    const ids = await Promise.all(instances.map((lists) => lists.ensure(autopilot.client, call, 'hash-b', 'Newsletter')));
    expect(new Set(ids).size).toBe(1);
    expect(autopilot.created()).toBe(1);
    // A fresh instance finds it in the ledger without asking Autopilot.
    const quiet = { listLists: jest.fn(), createList: jest.fn() };
    expect(await new ListsService(pool()).ensure(quiet, call, 'hash-b', 'Newsletter')).toBe(ids[0]);
    expect(quiet.listLists).not.toHaveBeenCalled();
  }, 30_000);

  it('lets the lock go when Autopilot fails, so the next attempt is not blocked', async () => {
    const failing = {
      listLists: async () => {
        throw new Error('503 from Autopilot');
      },
      createList: jest.fn(),
    };
    const lists = new ListsService(pool());
    await expect(lists.ensure(failing, call, 'hash-c', 'Trial')).rejects.toThrow('503');
    const autopilot = account(10);
    const id = await Promise.race([
      new ListsService(pool()).ensure(autopilot.client, call, 'hash-c', 'Trial'),
      sleep(5000).then(() => 'blocked'),
    ]);
    expect(id).toMatch(/^contactlist_/);
  }, 30_000);
});
