import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { IdempotencyConflictError, InboxUnavailableError } from '../errors';
import type { JsonValue, ListPage, ReadState, WireNotification } from '../protocol';
import {
  IDEMPOTENCY_WINDOW_MS,
  type AppendInput,
  type AppendResult,
  type Inbox,
  type InboxOptions,
  type SinceResult,
  type SweepResult,
} from './types';

/**
 * The embedded inbox: one SQLite file in WAL mode. Appends are queued and
 * committed together (group commit): one transaction and one fsync per burst,
 * not per push.
 */

/** Most appends committed in one transaction. */
const MAX_BATCH = 512;
/** Rows deleted per retention step before yielding to the event loop. */
const SWEEP_CHUNK = 1000;
const SCHEMA_VERSION = 1;

interface Row {
  seq: number;
  id: string;
  entity_type: string;
  data: string;
  created_at: number;
  read: number;
}

interface Pending {
  input: AppendInput;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

const toWire = (row: Row): WireNotification => ({
  id: row.id,
  seq: row.seq,
  entityType: row.entity_type,
  data: JSON.parse(row.data) as JsonValue,
  createdAt: new Date(row.created_at).toISOString(),
  read: row.read === 1,
});

export function openSqliteInbox(dataDir: string, opts: InboxOptions, file = 'herald.db'): SqliteInbox {
  mkdirSync(dataDir, { recursive: true });
  return new SqliteInbox(path.join(dataDir, file), opts);
}

export class SqliteInbox implements Inbox {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private queue: Pending[] = [];
  private flushScheduled = false;
  private closed = false;
  /** Users who received something since the last sweep: only they can be over the cap. */
  private touched = new Set<string>();
  private firstSweep = true;
  private readonly stmt;

  constructor(
    file: string,
    private readonly opts: InboxOptions,
  ) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk before /api/push answers 202, even across power loss.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    const db = this.db;
    this.stmt = {
      insertNotification: db.prepare(
        'INSERT INTO notifications (id, entity_type, data, created_at) VALUES (?, ?, ?, ?)',
      ),
      insertDelivery: db.prepare('INSERT INTO deliveries (user_id, seq, read) VALUES (?, ?, 0)'),
      notificationExists: db.prepare('SELECT 1 FROM notifications WHERE id = ?'),
      idemGet: db.prepare('SELECT body_hash, notification_id, recipients, response, created_at FROM idempotency WHERE key = ?'),
      idemDelete: db.prepare('DELETE FROM idempotency WHERE key = ?'),
      idemInsert: db.prepare(
        'INSERT INTO idempotency (key, body_hash, notification_id, recipients, response, created_at) VALUES (?, ?, ?, ?, NULL, ?)',
      ),
      idemSaveResponse: db.prepare('UPDATE idempotency SET response = ? WHERE key = ? AND response IS NULL'),
      since: db.prepare(
        `SELECT n.seq, n.id, n.entity_type, n.data, n.created_at, d.read
           FROM deliveries d JOIN notifications n ON n.seq = d.seq
          WHERE d.user_id = ? AND d.seq > ? ORDER BY d.seq ASC LIMIT ?`,
      ),
      page: db.prepare(
        `SELECT n.seq, n.id, n.entity_type, n.data, n.created_at, d.read
           FROM deliveries d JOIN notifications n ON n.seq = d.seq
          WHERE d.user_id = ? AND d.seq < ? ORDER BY d.seq DESC LIMIT ?`,
      ),
      headSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) AS head FROM deliveries WHERE user_id = ?'),
      unread: db.prepare('SELECT COUNT(*) AS n FROM deliveries WHERE user_id = ? AND read = 0'),
      unreadByIds: db.prepare(
        `SELECT n.id, n.seq FROM deliveries d JOIN notifications n ON n.seq = d.seq
          WHERE d.user_id = ? AND d.read = 0 AND n.id IN (SELECT value FROM json_each(?))`,
      ),
      markSeqRead: db.prepare('UPDATE deliveries SET read = 1 WHERE user_id = ? AND seq = ?'),
      markAllRead: db.prepare('UPDATE deliveries SET read = 1 WHERE user_id = ? AND read = 0'),
      prunedThrough: db.prepare('SELECT pruned_through FROM user_state WHERE user_id = ?'),
      setPrunedThrough: db.prepare(
        `INSERT INTO user_state (user_id, pruned_through) VALUES (?, ?)
         ON CONFLICT (user_id) DO UPDATE SET pruned_through = MAX(pruned_through, excluded.pruned_through)`,
      ),
      metaGet: db.prepare('SELECT value FROM meta WHERE key = ?'),
      metaSet: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    };
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version >= SCHEMA_VERSION) return;
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS notifications (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        entity_type TEXT NOT NULL,
        data TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS notifications_created_at ON notifications (created_at);
      CREATE TABLE IF NOT EXISTS deliveries (
        user_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        read INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, seq)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS deliveries_seq ON deliveries (seq);
      CREATE TABLE IF NOT EXISTS idempotency (
        key TEXT PRIMARY KEY,
        body_hash TEXT NOT NULL,
        notification_id TEXT NOT NULL,
        recipients INTEGER NOT NULL,
        response TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS idempotency_created_at ON idempotency (created_at);
      CREATE TABLE IF NOT EXISTS user_state (
        user_id TEXT PRIMARY KEY,
        pruned_through INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
      PRAGMA user_version = ${SCHEMA_VERSION};
    `);
  }

  // -------------------------------------------------------------------------
  // Appends (group commit)
  // -------------------------------------------------------------------------
  append(input: AppendInput): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new InboxUnavailableError('inbox is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate, not a timer: the batch is whatever arrived in this turn of the loop.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      const outcomes: Array<AppendResult | Error> = [];
      try {
        this.db.transaction(() => {
          for (const p of batch) outcomes.push(this.appendOne(p.input));
        })();
      } catch (err) {
        const failure = new InboxUnavailableError(`inbox write failed: ${(err as Error).message}`);
        for (const p of batch) p.reject(failure);
        continue;
      }
      batch.forEach((p, i) => {
        const outcome = outcomes[i];
        if (outcome instanceof Error) p.reject(outcome);
        else if (outcome) p.resolve(outcome);
      });
    }
  }

  /** Runs inside the batch transaction. A conflict is returned, not thrown, so it rolls back nothing else. */
  private appendOne(input: AppendInput): AppendResult | Error {
    const { idempotency } = input;
    if (idempotency) {
      const prior = this.stmt.idemGet.get(idempotency.key) as
        | { body_hash: string; notification_id: string; recipients: number; response: string | null; created_at: number }
        | undefined;
      if (prior && prior.created_at > input.createdAt - IDEMPOTENCY_WINDOW_MS) {
        if (prior.body_hash !== idempotency.bodyHash) {
          return new IdempotencyConflictError('this idempotency key was used with a different body');
        }
        return {
          status: 'duplicate',
          id: prior.notification_id,
          recipients: prior.recipients,
          response: prior.response ? (JSON.parse(prior.response) as { id: string; recipients: number; online: number }) : null,
        };
      }
      if (prior) this.stmt.idemDelete.run(idempotency.key);
    }
    if (this.stmt.notificationExists.get(input.id)) {
      return new IdempotencyConflictError(`notification id "${input.id}" is already in use`);
    }
    const dataJson = JSON.stringify(input.data);
    const seq = Number(this.stmt.insertNotification.run(input.id, input.entityType, dataJson, input.createdAt).lastInsertRowid);
    // A user named twice would break the delivery key and roll back the whole batch.
    const userIds = [...new Set(input.userIds)];
    for (const userId of userIds) {
      this.stmt.insertDelivery.run(userId, seq);
      this.touched.add(userId);
    }
    if (idempotency) {
      this.stmt.idemInsert.run(idempotency.key, idempotency.bodyHash, input.id, userIds.length, input.createdAt);
    }
    return {
      status: 'stored',
      notification: {
        id: input.id,
        seq,
        entityType: input.entityType,
        data: input.data,
        createdAt: new Date(input.createdAt).toISOString(),
        read: false,
      },
    };
  }

  async saveResponse(key: string, response: { id: string; recipients: number; online: number }): Promise<void> {
    this.guard();
    this.stmt.idemSaveResponse.run(JSON.stringify(response), key);
  }

  // -------------------------------------------------------------------------
  // Reads
  // -------------------------------------------------------------------------
  async since(userId: string, afterSeq: number, limit: number): Promise<SinceResult> {
    this.guard();
    const headSeq = (this.stmt.headSeq.get(userId) as { head: number }).head;
    if (afterSeq < this.prunedThrough(userId)) return { items: [], reset: true, headSeq };
    const rows = this.stmt.since.all(userId, afterSeq, limit + 1) as Row[];
    if (rows.length > limit) return { items: [], reset: true, headSeq };
    return { items: rows.map(toWire), reset: false, headSeq };
  }

  private prunedThrough(userId: string): number {
    const user = (this.stmt.prunedThrough.get(userId) as { pruned_through: number } | undefined)?.pruned_through ?? 0;
    const ttl = (this.stmt.metaGet.get('ttl_pruned_through') as { value: number } | undefined)?.value ?? 0;
    return Math.max(user, ttl);
  }

  async list(userId: string, opts: { before?: number; limit: number }): Promise<ListPage> {
    this.guard();
    const before = opts.before ?? Number.MAX_SAFE_INTEGER;
    const rows = this.stmt.page.all(userId, before, opts.limit + 1) as Row[];
    const more = rows.length > opts.limit;
    const items = rows.slice(0, opts.limit).map(toWire);
    return { items, nextCursor: more ? (items[items.length - 1]?.seq ?? null) : null };
  }

  async summary(userId: string): Promise<{ unread: number; headSeq: number }> {
    this.guard();
    return this.summaryNow(userId);
  }

  /** Synchronous, so both numbers come from the same committed state. */
  private summaryNow(userId: string): { unread: number; headSeq: number } {
    return {
      unread: (this.stmt.unread.get(userId) as { n: number }).n,
      headSeq: (this.stmt.headSeq.get(userId) as { head: number }).head,
    };
  }

  // -------------------------------------------------------------------------
  // Read state
  // -------------------------------------------------------------------------
  async markRead(userId: string, ids: string[]): Promise<ReadState> {
    this.guard();
    return this.db.transaction(() => {
      const rows = this.stmt.unreadByIds.all(userId, JSON.stringify(ids)) as Array<{ id: string; seq: number }>;
      for (const row of rows) this.stmt.markSeqRead.run(userId, row.seq);
      return { ...this.summaryNow(userId), readIds: rows.map((r) => r.id) };
    })();
  }

  async markAllRead(userId: string): Promise<ReadState> {
    this.guard();
    return this.db.transaction(() => {
      this.stmt.markAllRead.run(userId);
      return { ...this.summaryNow(userId), readIds: [], all: true };
    })();
  }

  // -------------------------------------------------------------------------
  // Retention
  // -------------------------------------------------------------------------
  async sweep(now: number = Date.now()): Promise<SweepResult> {
    this.guard();
    const result: SweepResult = { deliveriesDeleted: 0, notificationsDeleted: 0, idempotencyDeleted: 0 };
    const db = this.db;

    // 1. Per-user cap: only users who received something can have grown past it.
    let users: string[];
    if (this.firstSweep) {
      users = (
        db.prepare('SELECT user_id FROM deliveries GROUP BY user_id HAVING COUNT(*) > ?').all(this.opts.maxPerUser) as Array<{
          user_id: string;
        }>
      ).map((r) => r.user_id);
      this.firstSweep = false;
    } else {
      users = [...this.touched];
    }
    this.touched = new Set();
    const cutoffOf = db.prepare('SELECT seq FROM deliveries WHERE user_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?');
    const deleteUpTo = db.prepare(
      'DELETE FROM deliveries WHERE user_id = ? AND seq IN (SELECT seq FROM deliveries WHERE user_id = ? AND seq <= ? LIMIT ?)',
    );
    for (const userId of users) {
      // The newest `maxPerUser` stay; `cutoff` is the newest one that goes.
      const cutoff = (cutoffOf.get(userId, this.opts.maxPerUser) as { seq: number } | undefined)?.seq;
      if (cutoff === undefined) continue;
      for (;;) {
        const n = db.transaction(() => {
          const changes = deleteUpTo.run(userId, userId, cutoff, SWEEP_CHUNK).changes;
          this.stmt.setPrunedThrough.run(userId, cutoff);
          return changes;
        })();
        result.deliveriesDeleted += n;
        if (n < SWEEP_CHUNK) break;
        await yieldToLoop();
      }
      await yieldToLoop();
    }

    // 2. Age: everything created before the cutoff goes, for every user.
    const ttlCutoff = now - this.opts.ttlDays * 24 * 60 * 60 * 1000;
    const ttlSeq = (db.prepare('SELECT MAX(seq) AS s FROM notifications WHERE created_at < ?').get(ttlCutoff) as { s: number | null }).s;
    if (ttlSeq !== null) {
      // Watermark first: while the chunks below run, a client behind it already gets
      // sync_reset rather than a replay with a hole in it.
      const prior = (this.stmt.metaGet.get('ttl_pruned_through') as { value: number } | undefined)?.value ?? 0;
      if (ttlSeq > prior) this.stmt.metaSet.run('ttl_pruned_through', ttlSeq);
      const deleteOld = db.prepare(
        'DELETE FROM deliveries WHERE (user_id, seq) IN (SELECT user_id, seq FROM deliveries WHERE seq <= ? LIMIT ?)',
      );
      for (;;) {
        const n = deleteOld.run(ttlSeq, SWEEP_CHUNK).changes;
        result.deliveriesDeleted += n;
        if (n < SWEEP_CHUNK) break;
        await yieldToLoop();
      }
    }

    // 3. Notifications no user holds any more.
    const deleteOrphans = db.prepare(
      `DELETE FROM notifications WHERE seq IN (
         SELECT n.seq FROM notifications n
          WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.seq = n.seq) LIMIT ?)`,
    );
    for (;;) {
      const n = deleteOrphans.run(SWEEP_CHUNK).changes;
      result.notificationsDeleted += n;
      if (n < SWEEP_CHUNK) break;
      await yieldToLoop();
    }

    // 4. Idempotency keys past their window.
    result.idempotencyDeleted = db
      .prepare('DELETE FROM idempotency WHERE created_at <= ?')
      .run(now - IDEMPOTENCY_WINDOW_MS).changes;
    return result;
  }

  async ping(): Promise<void> {
    this.guard();
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Commit what is queued before closing: it may already be promised to a caller.
    this.flush();
    this.closed = true;
    this.db.close();
  }

  private guard(): void {
    if (this.closed) throw new InboxUnavailableError('inbox is closed');
  }
}
