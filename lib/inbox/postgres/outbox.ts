import 'server-only';
import { randomUUID } from 'node:crypto';
import { WEBHOOK_BATCH_MAX, type EscalatedEvent, type WebhookEvent } from '../../contract';
import type { BatchOutcome, ClaimedBatch, OutboxStats, WebhookOutbox } from '../types';
import { isoOrNull, MAX_BATCHES_PER_CLAIM, type DueEscalationRow } from '../outbox-rows';
import type { PgDatabase } from './pool';
import type { PostgresReceipts } from './receipts';



/**
 * The PostgreSQL webhook outbox, shared by every node. Events are taken into
 * batches and batches are leased with `FOR UPDATE SKIP LOCKED`, so two nodes
 * never take the same rows at once; a lease names its node and runs out, so a
 * dead node's batches are taken over once it has. Escalations due are deleted
 * as they fire, in the transaction that writes their events: each fires once.
 */
export class PostgresOutbox implements WebhookOutbox {
  constructor(
    private readonly db: PgDatabase,
    private readonly receipts: PostgresReceipts,
  ) {}

  claim({ now, leaseMs, owner, max }: { now: number; leaseMs: number; owner: string; max: number }): Promise<ClaimedBatch[]> {
    return this.db.transaction('outboxClaim', async (client) => {
      for (let i = 0; i < MAX_BATCHES_PER_CLAIM; i++) {
        const { rows } = await client.query<{ event: string }>(
          `DELETE FROM outbox_events WHERE id IN (SELECT id FROM outbox_events ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
           RETURNING id, event`,
          [WEBHOOK_BATCH_MAX],
        );
        if (rows.length === 0) break;
        const events = rows.map((r) => JSON.parse(r.event) as WebhookEvent);
        const body = JSON.stringify({ type: 'notification.events', timestamp: new Date(now).toISOString(), data: { events } });
        await client.query('INSERT INTO outbox_batches (id, body, events, created_at, next_at) VALUES ($1, $2, $3, $4, $4)', [
          `msg_${randomUUID().replaceAll('-', '')}`,
          body,
          rows.length,
          now,
        ]);
        if (rows.length < WEBHOOK_BATCH_MAX) break;
      }
      const { rows } = await client.query<ClaimedBatch>(
        `WITH due AS (
           SELECT id FROM outbox_batches WHERE state = 'pending' AND next_at <= $1 AND lease_until <= $1
            ORDER BY next_at LIMIT $2 FOR UPDATE SKIP LOCKED
         )
         UPDATE outbox_batches b SET lease_until = $1::bigint + $3::bigint, lease_owner = $4 FROM due WHERE b.id = due.id
         RETURNING b.id, b.body, b.events, b.attempts`,
        [now, max, leaseMs, owner],
      );
      return rows;
    });
  }

  async settle(id: string, owner: string, outcome: BatchOutcome): Promise<void> {
    if (outcome.kind === 'done') {
      await this.db.query('outboxSettle', 'DELETE FROM outbox_batches WHERE id = $1 AND lease_owner = $2', [id, owner]);
    } else if (outcome.kind === 'retry') {
      await this.db.query(
        'outboxSettle',
        `UPDATE outbox_batches SET attempts = attempts + 1, next_at = $3, lease_until = 0, lease_owner = NULL, last_error = $4
          WHERE id = $1 AND lease_owner = $2`,
        [id, owner, outcome.nextAt, outcome.error.slice(0, 500)],
      );
    } else {
      await this.db.query(
        'outboxSettle',
        `UPDATE outbox_batches SET attempts = attempts + 1, state = 'failed', lease_until = 0, lease_owner = NULL, last_error = $3
          WHERE id = $1 AND lease_owner = $2`,
        [id, owner, outcome.error.slice(0, 500)],
      );
    }
  }

  async retryFailed(now: number): Promise<number> {
    const res = await this.db.query(
      'outboxRetryFailed',
      "UPDATE outbox_batches SET state = 'pending', attempts = 0, next_at = $1, lease_until = 0, lease_owner = NULL WHERE state = 'failed'",
      [now],
    );
    return res.rowCount ?? 0;
  }

  async stats(): Promise<OutboxStats> {
    const { rows } = await this.db.query<OutboxStats>(
      'outboxStats',
      `SELECT (SELECT COUNT(*) FROM outbox_events)::int AS events,
              (SELECT COUNT(*) FROM outbox_batches WHERE state = 'pending')::int AS pending,
              (SELECT COUNT(*) FROM outbox_batches WHERE state = 'failed')::int AS failed`,
    );
    return rows[0] ?? { events: 0, pending: 0, failed: 0 };
  }

  escalateDue(now: number, max: number): Promise<number> {
    return this.db.transaction('escalateDue', async (client) => {
      const { rows } = await client.query<DueEscalationRow>(
        `WITH due AS (
           DELETE FROM escalations WHERE (seq, user_id) IN (
             SELECT seq, user_id FROM escalations WHERE due_at <= $1 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED
           ) RETURNING seq, user_id, unless
         )
         SELECT due.seq, due.user_id, due.unless, n.id, r.delivered_at, r.seen_at, r.read_at
           FROM due LEFT JOIN notifications n ON n.seq = due.seq
           LEFT JOIN receipts r ON r.seq = due.seq AND r.user_id = due.user_id`,
        [now, max],
      );
      const events: EscalatedEvent[] = [];
      for (const row of rows) {
        // Retention deleted the notification: nothing to escalate.
        if (row.id === null) continue;
        if ({ delivered: row.delivered_at, seen: row.seen_at, read: row.read_at }[row.unless] !== null) continue;
        events.push({
          type: 'notification.escalated',
          id: row.id,
          userId: row.user_id,
          unless: row.unless,
          deliveredAt: isoOrNull(row.delivered_at),
          seenAt: isoOrNull(row.seen_at),
          timestamp: new Date(now).toISOString(),
        });
      }
      await this.receipts.emit(client, events);
      return rows.length;
    });
  }
}
