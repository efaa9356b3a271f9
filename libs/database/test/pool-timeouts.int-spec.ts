import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ADMIN_DATABASE_URL } from '@export/testing';
import type { Pool } from 'pg';
import { createPool, DEFAULT_DATABASE_TIMEOUTS } from '../src/pool';
import { inTransaction } from '../src/transaction';

/**
 * The pool's bounds on the real server: a runaway statement is cancelled, a transaction left idle is ended
 * (its locks go with it), connecting to a server that does not answer fails in time.
 */
jest.setTimeout(20000);

describe('createPool timeouts (real PostgreSQL)', () => {
  const pools: Pool[] = [];
  const pool = (timeouts: Parameters<typeof createPool>[1]['timeouts']) => {
    const created = createPool(ADMIN_DATABASE_URL, { max: 2, timeouts });
    pools.push(created);
    return created;
  };
  afterAll(async () => {
    await Promise.allSettled(pools.map((p) => p.end()));
  });

  it('sets the defaults on every session when none are given', async () => {
    const { rows } = await pool(undefined).query<{ statement: number; idle: number }>(
      `SELECT (SELECT setting::int FROM pg_settings WHERE name = 'statement_timeout') AS statement,
              (SELECT setting::int FROM pg_settings WHERE name = 'idle_in_transaction_session_timeout') AS idle`,
    );
    expect(rows[0]).toEqual({
      statement: DEFAULT_DATABASE_TIMEOUTS.statementTimeoutMs,
      idle: DEFAULT_DATABASE_TIMEOUTS.idleInTransactionTimeoutMs,
    });
  });

  it('cancels a runaway statement after statementTimeoutMs (SQLSTATE 57014)', async () => {
    const started = Date.now();
    await expect(pool({ statementTimeoutMs: 300 }).query('SELECT pg_sleep(10)')).rejects.toMatchObject({
      code: '57014',
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('ends a transaction left idle after idleInTransactionTimeoutMs and releases its locks', async () => {
    const short = pool({ idleInTransactionTimeoutMs: 300 });
    const lockId = Math.floor(Math.random() * 1e9);
    const stuck = inTransaction(short, async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [lockId]);
      // Idle inside the transaction, as a call to a slow dependency made while it is open would be.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await tx.query('SELECT 1');
    });
    await expect(stuck).rejects.toThrow(/idle-in-transaction|terminat|Connection/i);
    // The lock went with the session: another session takes it at once.
    const other = pool({});
    const { rows } = await other.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [lockId]);
    expect(rows[0].locked).toBe(true);
    await other.query('SELECT pg_advisory_unlock($1)', [lockId]);
  });

  it('gives up connecting after connectionTimeoutMs when the server does not answer', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const p = createPool(`postgres://postgres@127.0.0.1:${port}/postgres`, {
        max: 1,
        timeouts: { connectionTimeoutMs: 300 },
      });
      pools.push(p);
      const started = Date.now();
      await expect(p.query('SELECT 1')).rejects.toThrow(/timeout/i);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
