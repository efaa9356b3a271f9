import type { TopicName, TopicValue } from '@export/contracts';
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { inTransaction, type Queryable } from '../database/database';
import { PG_POOL } from '../database/database.module';

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
   * Hands the oldest pending messages to `send` and deletes them once it resolves. Rows are locked with
   * SKIP LOCKED so several instances drain in parallel without sending a message twice; if `send` throws,
   * the rows stay for the next attempt. Returns how many were sent.
   */
  async drain(limit: number, send: (messages: OutboxMessage[]) => Promise<void>): Promise<number> {
    return inTransaction(this.pool, async (tx) => {
      const { rows } = await tx.query<{
        id: string;
        topic: TopicName;
        message_key: string;
        value: unknown;
        correlation_id: string;
      }>(
        'SELECT id, topic, message_key, value, correlation_id FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED',
        [limit],
      );
      if (rows.length === 0) return 0;
      await send(
        rows.map((r) => ({
          topic: r.topic,
          key: r.message_key,
          value: r.value as TopicValue<TopicName>,
          correlationId: r.correlation_id,
        })),
      );
      await tx.query('DELETE FROM outbox WHERE id = ANY ($1::bigint[])', [rows.map((r) => r.id)]);
      return rows.length;
    });
  }
}
