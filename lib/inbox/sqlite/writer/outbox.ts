import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { WEBHOOK_BATCH_MAX, type EscalatedEvent, type WebhookEvent } from '../../../contract';
import type { BatchOutcome, ClaimedBatch } from '../../types';
import { isoOrNull, MAX_BATCHES_PER_CLAIM, type DueEscalationRow } from '../../outbox-rows';
import type { Receipts } from './receipts';



/**
 * The writer's side of the webhook outbox: forming and leasing batches,
 * recording outcomes, and firing escalations, each one transaction. One process
 * owns a SQLite file, so its leases only mark what this process is sending: a
 * process that starts releases them all (what the last one was sending when it
 * died is sent again at once, with the same webhook-id).
 */
export class Outbox {
  private readonly stmt;

  constructor(
    private readonly db: Database.Database,
    private readonly receipts: Receipts,
  ) {
    this.stmt = {
      waiting: db.prepare('SELECT id, event FROM outbox_events ORDER BY id LIMIT ?'),
      deleteThrough: db.prepare('DELETE FROM outbox_events WHERE id <= ?'),
      insertBatch: db.prepare('INSERT INTO outbox_batches (id, body, events, created_at, next_at) VALUES (?, ?, ?, ?, ?)'),
      due: db.prepare(
        `SELECT id, body, events, attempts FROM outbox_batches
          WHERE state = 'pending' AND next_at <= ? AND lease_until <= ? ORDER BY next_at LIMIT ?`,
      ),
      lease: db.prepare('UPDATE outbox_batches SET lease_until = ? WHERE id = ?'),
      done: db.prepare('DELETE FROM outbox_batches WHERE id = ? AND lease_until > 0'),
      retry: db.prepare('UPDATE outbox_batches SET attempts = attempts + 1, next_at = ?, lease_until = 0, last_error = ? WHERE id = ?'),
      fail: db.prepare("UPDATE outbox_batches SET attempts = attempts + 1, state = 'failed', lease_until = 0, last_error = ? WHERE id = ?"),
      retryFailed: db.prepare("UPDATE outbox_batches SET state = 'pending', attempts = 0, next_at = ?, lease_until = 0 WHERE state = 'failed'"),
      escalationsDue: db.prepare(
        `SELECT e.seq, e.user_id, e.unless, n.id, r.delivered_at, r.seen_at, r.read_at
           FROM escalations e LEFT JOIN notifications n ON n.seq = e.seq
           LEFT JOIN receipts r ON r.seq = e.seq AND r.user_id = e.user_id
          WHERE e.due_at <= ? ORDER BY e.due_at LIMIT ?`,
      ),
      deleteEscalation: db.prepare('DELETE FROM escalations WHERE seq = ? AND user_id = ?'),
    };
    db.prepare('UPDATE outbox_batches SET lease_until = 0 WHERE lease_until > 0').run();
  }

  /** `owner` is the lease holder's name; here the main thread, so leases only guard against a crash mid-send. */
  claim(now: number, leaseMs: number, max: number): ClaimedBatch[] {
    return this.db.transaction(() => {
      for (let i = 0; i < MAX_BATCHES_PER_CLAIM; i++) if (!this.formBatch(now)) break;
      const rows = this.stmt.due.all(now, now, max) as ClaimedBatch[];
      for (const row of rows) this.stmt.lease.run(now + leaseMs, row.id);
      return rows;
    })();
  }

  settle(id: string, outcome: BatchOutcome): null {
    if (outcome.kind === 'done') this.stmt.done.run(id);
    else if (outcome.kind === 'retry') this.stmt.retry.run(outcome.nextAt, outcome.error.slice(0, 500), id);
    else this.stmt.fail.run(outcome.error.slice(0, 500), id);
    return null;
  }

  retryFailed(now: number): number {
    return this.stmt.retryFailed.run(now).changes;
  }

  escalateDue(now: number, max: number): number {
    return this.db.transaction(() => {
      const rows = this.stmt.escalationsDue.all(now, max) as DueEscalationRow[];
      for (const row of rows) {
        this.stmt.deleteEscalation.run(row.seq, row.user_id);
        // Retention deleted the notification: nothing to escalate.
        if (row.id === null) continue;
        const reached = { delivered: row.delivered_at, seen: row.seen_at, read: row.read_at }[row.unless] !== null;
        if (reached) continue;
        const event: EscalatedEvent = {
          type: 'notification.escalated',
          id: row.id,
          userId: row.user_id,
          unless: row.unless,
          deliveredAt: isoOrNull(row.delivered_at),
          seenAt: isoOrNull(row.seen_at),
          timestamp: new Date(now).toISOString(),
        };
        this.receipts.emit(event);
      }
      return rows.length;
    })();
  }

  /** Moves up to WEBHOOK_BATCH_MAX waiting events into a new batch; false when none wait. */
  private formBatch(now: number): boolean {
    const rows = this.stmt.waiting.all(WEBHOOK_BATCH_MAX) as Array<{ id: number; event: string }>;
    const last = rows[rows.length - 1];
    if (!last) return false;
    const events = rows.map((r) => JSON.parse(r.event) as WebhookEvent);
    const body = JSON.stringify({ type: 'notification.events', timestamp: new Date(now).toISOString(), data: { events } });
    this.stmt.insertBatch.run(`msg_${randomUUID().replaceAll('-', '')}`, body, rows.length, now, now);
    this.stmt.deleteThrough.run(last.id);
    return true;
  }
}
