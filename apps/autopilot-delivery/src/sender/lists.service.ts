import type { AutopilotClient } from '@export/autopilot-client';
import type { Pool, PoolClient } from 'pg';
import type { PacedCall } from './autopilot-caller';

/**
 * Finds each list by title in the key's account, or creates it, once. Autopilot may create a second list
 * with the same title, so look-up-or-create is serialized across instances with a PostgreSQL advisory lock
 * per (key hash, title), and the id is remembered in `delivery.lists`.
 *
 * The lock is a session lock on a connection of its own, taken and let go outside any transaction: the
 * calls to Autopilot (paced, possibly waiting on the key's rate limit) never keep a transaction open (no
 * row locks held, no session idle in a transaction). If the session dies, PostgreSQL drops the lock with it.
 */
export class ListsService {
  private readonly ids = new Map<string, string>();

  constructor(private readonly pool: Pool) {}

  async ensure(
    client: Pick<AutopilotClient, 'listLists' | 'createList'>,
    call: PacedCall,
    hash: string,
    title: string,
  ): Promise<string> {
    const memo = `${hash}:${title}`; // the hash is hex: the first colon separates
    const cached = this.ids.get(memo);
    if (cached) return cached;
    const listId = (await this.find(this.pool, hash, title)) ?? (await this.lookUpOrCreate(client, call, hash, title, memo));
    this.ids.set(memo, listId);
    return listId;
  }

  /** The list id the ledger knows for the title, without calling Autopilot (undefined when never resolved). */
  async knownId(hash: string, title: string): Promise<string | undefined> {
    return this.ids.get(`${hash}:${title}`) ?? (await this.find(this.pool, hash, title));
  }

  /**
   * Forgets a list id that Autopilot no longer knows (404), here and for every instance (the row goes), so
   * the next `ensure` looks the title up again or creates the list. A row another instance has already
   * replaced with a new id is left alone.
   */
  async forget(hash: string, title: string, staleListId: string): Promise<void> {
    const memo = `${hash}:${title}`;
    if (this.ids.get(memo) === staleListId) this.ids.delete(memo);
    await this.pool.query('DELETE FROM delivery.lists WHERE key_hash = $1 AND title = $2 AND list_id = $3', [
      hash,
      title,
      staleListId,
    ]);
  }

  private async lookUpOrCreate(
    client: Pick<AutopilotClient, 'listLists' | 'createList'>,
    call: PacedCall,
    hash: string,
    title: string,
    memo: string,
  ): Promise<string> {
    const session = await this.pool.connect();
    let broken: Error | undefined;
    const onError = (error: Error) => (broken ??= error);
    session.on('error', onError);
    let locked = false;
    try {
      // Waits for another instance doing the same (bounded by the pool's statement timeout).
      await session.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`autopilot-list:${memo}`]);
      locked = true;
      const known = await this.find(session, hash, title);
      if (known) return known;
      const lists = await call('GET /lists', () => client.listLists());
      const id =
        lists.find((l) => l.title === title)?.listId ??
        (await call('POST /list', () => client.createList(title)));
      // Only a row removed by `forget` meanwhile could be there: the lock holder's id wins.
      await session.query(
        `INSERT INTO delivery.lists (key_hash, title, list_id) VALUES ($1, $2, $3)
         ON CONFLICT (key_hash, title) DO UPDATE SET list_id = EXCLUDED.list_id`,
        [hash, title, id],
      );
      return id;
    } finally {
      if (locked && !broken) {
        await session
          .query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [`autopilot-list:${memo}`])
          .catch((error: Error) => (broken ??= error));
      }
      session.off('error', onError);
      // A session that may still hold the lock is closed, never handed to the next caller.
      session.release(broken);
    }
  }

  private async find(db: Pick<PoolClient, 'query'>, hash: string, title: string): Promise<string | undefined> {
    const { rows } = await db.query<{ list_id: string }>(
      'SELECT list_id FROM delivery.lists WHERE key_hash = $1 AND title = $2',
      [hash, title],
    );
    return rows[0]?.list_id;
  }
}
