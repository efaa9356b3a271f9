import type { TopicName, TopicValue } from '@export/contracts';
import { Inject, Injectable } from '@nestjs/common';
import { errorMessage } from '@export/errors';
import type { Pool } from 'pg';
import { inTransaction, type Queryable } from '../database/database';
import { PG_POOL } from '@export/database';

export interface OutboxMessage<N extends TopicName = TopicName> {
  topic: N;
  key: string;
  value: TopicValue<N>;
  correlationId: string;
}

/**
 * Messages decided inside a transaction. The outbox is infrastructure shared by all tenants (it holds whole
 * messages, each already scoped by the transaction that wrote it), so it has no tenant parameter.
 */
@Injectable()
export class OutboxRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async add<N extends TopicName>(message: OutboxMessage<N>, db: Queryable): Promise<void> {
    await db.query('INSERT INTO outbox (topic, message_key, value, correlation_id) VALUES ($1, $2, $3, $4)', [
      message.topic,
      message.key,
      JSON.stringify(message.value),
      message.correlationId,
    ]);
  }

  /**
   * Hands the oldest pending messages, one at a time and in order, to `send`, and deletes each once it
   * resolves. When `send` throws, `onFailure` decides with the row's attempts so far: `set-aside` (the row
   * stays with its error and is never picked again), `retry-later` (counted; tried again next round) or
   * `stop` (a dependency is down: the round ends and nothing is counted). A message of a key with an
   * earlier row set aside or failing waits, so one key's order holds; other keys go on. Rows are locked with
   * SKIP LOCKED so several instances drain in parallel without sending a message twice.
   */
  async drain(
    limit: number,
    send: (message: OutboxMessage) => Promise<void>,
    onFailure: (error: unknown, message: OutboxMessage, attempts: number) => OutboxFailureDecision,
  ): Promise<{ picked: number; sent: number; setAside: OutboxMessage[] }> {
    return inTransaction(this.pool, async (tx) => {
      const { rows } = await tx.query<{
        id: string;
        topic: TopicName;
        message_key: string;
        value: unknown;
        correlation_id: string;
        attempts: number;
      }>(
        `SELECT id, topic, message_key, value, correlation_id, attempts FROM outbox o
          WHERE set_aside_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM outbox a
                             WHERE a.set_aside_at IS NOT NULL AND a.message_key = o.message_key AND a.id < o.id)
          ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      const sentIds: string[] = [];
      const setAside: OutboxMessage[] = [];
      const waiting = new Set<string>();
      for (const row of rows) {
        if (waiting.has(row.message_key)) continue;
        const message: OutboxMessage = {
          topic: row.topic,
          key: row.message_key,
          value: row.value as TopicValue<TopicName>,
          correlationId: row.correlation_id,
        };
        try {
          await send(message);
          sentIds.push(row.id);
        } catch (error) {
          const decision = onFailure(error, message, row.attempts + 1);
          if (decision === 'stop') break;
          waiting.add(row.message_key);
          await tx.query(
            `UPDATE outbox SET attempts = attempts + 1, last_error = $2,
                    set_aside_at = CASE WHEN $3 THEN now() END
              WHERE id = $1`,
            [row.id, errorMessage(error).slice(0, 2000), decision === 'set-aside'],
          );
          if (decision === 'set-aside') setAside.push(message);
        }
      }
      if (sentIds.length) await tx.query('DELETE FROM outbox WHERE id = ANY ($1::bigint[])', [sentIds]);
      return { picked: rows.length, sent: sentIds.length, setAside };
    });
  }
}

export type OutboxFailureDecision = 'set-aside' | 'retry-later' | 'stop';
