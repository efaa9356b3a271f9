import type { AutopilotClient } from '@export/autopilot-client';
import type { Pool } from 'pg';
import { inTransaction } from '../database/database.module';
import type { PacedCall } from './autopilot-caller';

/**
 * Finds each list by title in the key's account, or creates it, once. Autopilot may create a second list
 * with the same title, so creation is serialized across instances with a PostgreSQL advisory lock per
 * (key hash, title) and the id is remembered in `delivery.lists`.
 */
export class ListsService {
  private readonly known = new Map<string, string>();

  constructor(private readonly pool: Pool) {}

  async ensure(
    client: Pick<AutopilotClient, 'listLists' | 'createList'>,
    call: PacedCall,
    hash: string,
    title: string,
  ): Promise<string> {
    const memo = `${hash}:${title}`; // the hash is hex: the first colon separates
    const cached = this.known.get(memo);
    if (cached) return cached;
    const listId = await inTransaction(this.pool, async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`autopilot-list:${memo}`]);
      const { rows } = await tx.query<{ list_id: string }>(
        'SELECT list_id FROM delivery.lists WHERE key_hash = $1 AND title = $2',
        [hash, title],
      );
      if (rows[0]) return rows[0].list_id;
      const lists = await call('GET /lists', () => client.listLists());
      const id =
        lists.find((l) => l.title === title)?.listId ??
        (await call('POST /list', () => client.createList(title)));
      await tx.query('INSERT INTO delivery.lists (key_hash, title, list_id) VALUES ($1, $2, $3)', [
        hash,
        title,
        id,
      ]);
      return id;
    });
    this.known.set(memo, listId);
    return listId;
  }

  /**
   * Forgets a list id that Autopilot no longer knows (404), here and for every instance (the row goes), so
   * the next `ensure` looks the title up again or creates the list. A row another instance has already
   * replaced with a new id is left alone.
   */
  async forget(hash: string, title: string, staleListId: string): Promise<void> {
    const memo = `${hash}:${title}`;
    if (this.known.get(memo) === staleListId) this.known.delete(memo);
    await this.pool.query('DELETE FROM delivery.lists WHERE key_hash = $1 AND title = $2 AND list_id = $3', [
      hash,
      title,
      staleListId,
    ]);
  }
}
