import type Database from 'better-sqlite3';
import { idInUse, KEY_REUSED, replayOf } from '../../idempotency';
import type { AppendInput, StoredResponse } from '../../types';
import type { AppendOutcome } from '../messages';
import { actorOf } from '../../groups';
import type { Changes } from './changes';
import type { Merger } from './merge';
import type { Receipts } from './receipts';

type StoredOutcome = Extract<AppendOutcome, { status: 'stored' }>;
/** What a batch's transaction stored, by seq: the recipients that will be pending, and the outcome. */
type Stored = Map<number, { userIds: string[]; outcome: StoredOutcome }>;

interface KeyRow {
  body_hash: string;
  notification_id: string;
  recipients: number;
  response: string | null;
  created_at: number;
}

/**
 * The writer's appends (group commit: the main thread sends everything queued as
 * one batch) and the answers recorded for idempotency keys. An append stores its
 * notification and one fan-out log row naming its recipients; `merger` holds them
 * as pending once committed. The notification keeps its recipients (for its
 * status), a push with `escalate` gets an escalation row per recipient when
 * escalations are enabled, and a push with a collapse key is collapsed in the
 * same transaction (changes.ts).
 */
export class Appender {
  private readonly stmt;

  constructor(
    private readonly db: Database.Database,
    private readonly merger: Merger,
    private readonly receipts: Receipts,
    private readonly changes: Changes,
  ) {
    this.stmt = {
      insertNotification: db.prepare(
        `INSERT INTO notifications (id, entity_type, data, created_at, holders, recipients, collapse_key, expires_at, priority)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertEscalations: db.prepare(
        'INSERT OR IGNORE INTO escalations (seq, user_id, due_at, unless) SELECT ?, value, ?, ? FROM json_each(?)',
      ),
      insertFanout: db.prepare('INSERT INTO fanout (seq, recipients) VALUES (?, ?)'),
      notificationExists: db.prepare('SELECT 1 FROM notifications WHERE id = ?'),
      keyGet: db.prepare('SELECT body_hash, notification_id, recipients, response, created_at FROM idempotency WHERE key = ?'),
      keyDelete: db.prepare('DELETE FROM idempotency WHERE key = ?'),
      keyInsert: db.prepare(
        'INSERT INTO idempotency (key, body_hash, notification_id, recipients, response, created_at) VALUES (?, ?, ?, ?, NULL, ?)',
      ),
      keySaveResponse: db.prepare('UPDATE idempotency SET response = ? WHERE key = ? AND response IS NULL'),
    };
  }

  /**
   * One transaction, one fsync, for the whole batch. A conflict is an outcome, not
   * a throw, so it rolls back nothing else; a throw (disk full, I/O error) fails the batch.
   */
  appendBatch(inputs: AppendInput[]): AppendOutcome[] {
    const outcomes: AppendOutcome[] = [];
    const stored: Stored = new Map();
    try {
      this.db.transaction(() => {
        for (const input of inputs) outcomes.push(this.appendOne(input, stored));
      })();
    } catch (err) {
      this.changes.rolledBack();
      throw err;
    }
    // Committed: what collapses merged is forgotten as pending, and the new rows are pending.
    this.changes.committed();
    for (const [seq, { userIds }] of stored) if (userIds.length > 0) this.merger.add(seq, userIds);
    return outcomes;
  }

  /** Records the first answer given for `key`. */
  saveResponse(key: string, response: StoredResponse): void {
    this.stmt.keySaveResponse.run(JSON.stringify(response), key);
  }

  /** `stored` collects what this transaction stores, by seq. */
  private appendOne(input: AppendInput, stored: Stored): AppendOutcome {
    const { idempotency } = input;
    if (idempotency) {
      const prior = this.stmt.keyGet.get(idempotency.key) as KeyRow | undefined;
      const replay = replayOf(prior, idempotency.bodyHash, input.createdAt);
      if (replay === 'conflict') return { status: 'conflict', message: KEY_REUSED };
      if (replay === 'duplicate' && prior) {
        return {
          status: 'duplicate',
          id: prior.notification_id,
          recipients: prior.recipients,
          response: prior.response ? (JSON.parse(prior.response) as StoredResponse) : null,
        };
      }
      if (prior) this.stmt.keyDelete.run(idempotency.key);
    }
    if (this.stmt.notificationExists.get(input.id)) return { status: 'conflict', message: idInUse(input.id) };
    const dataJson = JSON.stringify(input.data);
    // Named twice, a user gets it once (the main thread dedupes the same way).
    const userIds = [...new Set(input.userIds)];
    const recipients = JSON.stringify(userIds);
    const seq = Number(
      this.stmt.insertNotification.run(
        input.id,
        input.entityType,
        dataJson,
        input.createdAt,
        userIds.length,
        recipients,
        input.collapseKey ?? null,
        input.expiresAt ?? null,
        input.priority ?? null,
      ).lastInsertRowid,
    );
    this.stmt.insertFanout.run(seq, recipients);
    if (input.escalate && this.receipts.escalating) {
      this.stmt.insertEscalations.run(seq, input.createdAt + input.escalate.afterMs, input.escalate.unless, recipients);
    }
    const outcome: StoredOutcome = { status: 'stored', seq };
    stored.set(seq, { userIds, outcome });
    if (idempotency) {
      this.stmt.keyInsert.run(idempotency.key, idempotency.bodyHash, input.id, userIds.length, input.createdAt);
    }
    if (input.collapseKey === undefined) return outcome;
    const actor = actorOf(input.data);
    outcome.collapsed = this.changes.collapseWithin(
      { seq, id: input.id, userIds, collapseKey: input.collapseKey, ...(actor !== undefined ? { actor } : {}) },
      input.createdAt,
      // A head stored earlier in this batch: the user never gets it as pending.
      (headSeq, userId) => {
        const earlier = stored.get(headSeq);
        if (!earlier?.userIds.includes(userId)) return false;
        earlier.userIds = earlier.userIds.filter((u) => u !== userId);
        (earlier.outcome.dropped ??= []).push(userId);
        return true;
      },
    );
    return outcome;
  }
}
