import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL } from '@export/database';

/** The ledger's work not yet done, across all instances. */
export interface Backlog {
  /** Contacts still to send, by the state of their run (staging and ready: staged so far, before limits). */
  contacts: { staging: number; ready: number; delivering: number };
  /** Runs ready or delivering that no instance holds (waiting for a sender slot), and those held. */
  runs: { staging: number; waiting: number; leased: number };
  /** Connections (API keys) with a run not yet ended: how many keys' rates the backlog can use at once. */
  connections: number;
  /** The contacts still to send of the connection that has the most. */
  largestConnectionContacts: number;
}

/**
 * Reads the backlog from the ledger in one statement: the runs not yet ended (a partial index), and for
 * delivering runs their pending contacts (the (run_id, status, seq) index); staging and ready runs count
 * what they staged (a column), so a million staged rows are never scanned.
 */
@Injectable()
export class BacklogRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async read(): Promise<Backlog> {
    const { rows } = await this.pool.query<{
      state: 'staging' | 'ready' | 'delivering';
      leased: boolean;
      connection_id: string | null;
      runs: number;
      contacts: string;
    }>(
      `SELECT r.state, (r.lease_expires_at IS NOT NULL AND r.lease_expires_at >= now()) AS leased, r.connection_id,
              count(*)::int AS runs,
              sum(CASE WHEN r.state = 'delivering'
                       THEN (SELECT count(*) FROM delivery.run_contacts c WHERE c.run_id = r.run_id AND c.status = 'pending')
                       ELSE r.unique_staged END)::bigint AS contacts
         FROM delivery.runs r WHERE r.state IN ('staging', 'ready', 'delivering')
        GROUP BY 1, 2, 3`,
    );
    const backlog: Backlog = {
      contacts: { staging: 0, ready: 0, delivering: 0 },
      runs: { staging: 0, waiting: 0, leased: 0 },
      connections: 0,
      largestConnectionContacts: 0,
    };
    const byConnection = new Map<string, number>();
    for (const row of rows) {
      const contacts = Number(row.contacts);
      backlog.contacts[row.state] += contacts;
      // A truncate run leased while it stages (it sends meanwhile) holds a sender slot: it counts as leased.
      if (row.state === 'staging' && !row.leased) backlog.runs.staging += row.runs;
      else if (row.leased) backlog.runs.leased += row.runs;
      else backlog.runs.waiting += row.runs;
      const connection = row.connection_id ?? '';
      byConnection.set(connection, (byConnection.get(connection) ?? 0) + contacts);
    }
    backlog.connections = byConnection.size;
    backlog.largestConnectionContacts = Math.max(0, ...byConnection.values());
    return backlog;
  }
}
