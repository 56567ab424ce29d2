import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { IdempotencyConflictError, InboxUnavailableError } from '../errors';
import { startWorker } from '../workers';
import { PendingDeliveries } from './pending';
import type { AppendOutcome, CheckpointerData, CheckpointStats, SweepStep, WriterData, WriterReply, WriterRequest } from './sqlite/messages';
import type { JsonValue, ListPage, ReadState, WireNotification } from '../protocol';
import type {
  AppendInput,
  AppendResult,
  Inbox,
  InboxOptions,
  SinceResult,
  StoredResponse,
  SweepResult,
} from './types';

/**
 * The embedded inbox: one SQLite file in WAL mode, with two connections.
 *
 * Every write runs on a worker thread (sqlite/writer.worker.ts), so the INSERTs and the
 * fsync of each commit never occupy the main event loop. Writes go through one
 * FIFO queue here and one request at a time to the worker: appends queued while
 * a request was in the worker are committed together in the next transaction
 * (group commit), so batches grow with load.
 *
 * Reads run here, on the main thread's own connection: in WAL mode a read sees
 * every commit the worker has finished, and a write's promise settles only after
 * its commit, so a read made after `await append()` sees it. This connection
 * writes only at startup (WAL, schema), so it never waits on the writer's locks.
 *
 * An append stores one fan-out log row, not a row per recipient; the per-user rows
 * are merged in later, in bulk, by `merge` requests this thread sends when the
 * writer has nothing else to do (sqlite/writer/merge.ts explains why and the rules).
 * Until then `pending` holds them, and every read adds them to what it reads.
 */

/** Most appends committed in one transaction. */
const MAX_BATCH = 512;
/**
 * Requests sent to the writer before its answers come back. With one, the writer
 * sat idle from each commit until this thread, busy delivering the previous
 * batch, read the answer and sent the next; with two it goes straight on.
 */
const MAX_IN_FLIGHT = 2;
/**
 * Schema 2 added the fan-out log (`fanout`); 3 counts each notification's holders
 * and drops the deliveries' index by seq (sqlite/writer/retention.ts says why).
 */
const SCHEMA_VERSION = 3;

/** When the writer merges pending deliveries into `deliveries`. */
export interface MergeTuning {
  /** Start a merge, when the writer is idle, once at least this many rows are pending... */
  startRows: number;
  /** ...and as many as this per user with anything pending (a merge writes about one page per user)... */
  rowsPerUser: number;
  /** ...or once rows have been pending this long (ms)... */
  startAfterMs: number;
  /** ...or once no write has come for this long (ms): a merge then delays nobody. */
  idleMs: number;
  /** Rows per merge request: an append queued meanwhile waits for one request, not the whole merge. */
  stepRows: number;
  /** ...and at most this long (ms) per request: a step ends early, after its current user, once past it. */
  stepMs: number;
  /** Past this many pending rows, merge steps go first and appends wait for them. */
  forceRows: number;
}

/**
 * A merge writes about one page per user, whatever the user's row count, so it
 * waits until users have several rows each: 16 pushes' worth for a fan-out to
 * everyone, a few seconds of single-recipient pushes. Merging 2,000 rows per
 * step, on this machine, took 10–13 ms of the writer (up to 60 ms with a WAL
 * checkpoint in it), and the pushes queued behind a step waited for it; so steps
 * stop at 1,000 rows or 4 ms. At 16 rows per user rather than 8, fan-out to
 * 5,000 users cost about 3 % less CPU per delivery in three alternating pairs
 * (docs/benchmarks.md, change 14); 32 gave no clear gain.
 */
export const DEFAULT_MERGE: MergeTuning = {
  startRows: 10_000,
  rowsPerUser: 16,
  startAfterMs: 10_000,
  idleMs: 250,
  stepRows: 1_000,
  stepMs: 4,
  forceRows: 200_000,
};
/** How often the checkpointer thread copies the WAL into the database (sqlite/checkpointer.worker.ts). */
const CHECKPOINT_INTERVAL_MS = 100;
/** After a merge request failed, wait this long before the next. */
const MERGE_RETRY_MS = 1_000;

interface Row {
  seq: number;
  id: string;
  entity_type: string;
  data: string;
  created_at: number;
  read: number;
}

interface QueuedAppend {
  kind: 'append';
  input: AppendInput;
  resolve: (r: AppendResult) => void;
  reject: (e: Error) => void;
}

interface QueuedWrite {
  kind: 'write';
  /** The request, or (a sweep step) how to make it when it is sent. */
  req: WriterRequest | (() => WriterRequest);
  resolve: (value: unknown) => void;
  reject: (e: Error) => void;
}

/** A request in the worker: how to settle its callers. */
interface InFlight {
  resolve: (value: unknown) => void;
  reject: (e: Error) => void;
  /** A merge step: nobody waits for it. */
  merge?: true;
}

const toWire = (row: Row): WireNotification => ({
  id: row.id,
  seq: row.seq,
  entityType: row.entity_type,
  data: JSON.parse(row.data) as JsonValue,
  createdAt: new Date(row.created_at).toISOString(),
  read: row.read === 1,
});

export function openSqliteInbox(
  dataDir: string,
  opts: InboxOptions,
  file = 'herald.db',
  merge: Partial<MergeTuning> = {},
): SqliteInbox {
  mkdirSync(dataDir, { recursive: true });
  return new SqliteInbox(path.join(dataDir, file), opts, { ...DEFAULT_MERGE, ...merge });
}

export class SqliteInbox implements Inbox {
  readonly kind = 'sqlite' as const;
  /** The main thread's connection: reads only, after startup. */
  private readonly db: Database.Database;
  private readonly writer: Worker;
  private readonly writerExited: Promise<void>;
  /** Checkpoints the WAL off the commit path; if it dies, the writer's own autocheckpoint takes over. */
  private readonly checkpointer: Worker;
  private readonly checkpointerExited: Promise<void>;
  private queue: Array<QueuedAppend | QueuedWrite> = [];
  /** Requests in the worker, oldest first (it answers in order); at most MAX_IN_FLIGHT. */
  private inFlight: InFlight[] = [];
  private pumpScheduled = false;
  /** Set once the writer died: every write, queued or later, fails with it. */
  private failure: InboxUnavailableError | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private nextSweepId = 1;
  private readonly counts = { batches: 0, appends: 0, mergeSteps: 0 };
  private readonly stmt;
  /** Stored in the fan-out log, not yet merged into `deliveries`. */
  private readonly pending = new PendingDeliveries();
  /** The writer is part way through a merge: go on with it whenever it is idle. */
  private mergeActive = false;
  private mergeInFlight = false;
  private mergeRetryAt = 0;
  private mergeTimer: NodeJS.Timeout | undefined;
  /** When `mergeTimer` fires (performance.now() time). */
  private mergeTimerAt = Infinity;
  /** When the last write other than a merge was queued. */
  private lastWriteAt = 0;
  private readonly merge: MergeTuning;

  constructor(file: string, opts: InboxOptions, merge: MergeTuning = DEFAULT_MERGE) {
    this.merge = merge;
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    // Before the writer starts, so it opens a database that is already in shape.
    this.migrate();
    const db = this.db;
    this.stmt = {
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
      prunedThrough: db.prepare('SELECT pruned_through FROM user_state WHERE user_id = ?'),
      metaGet: db.prepare('SELECT value FROM meta WHERE key = ?'),
      pendingRows: db.prepare(
        `SELECT seq, id, entity_type, data, created_at, 0 AS read FROM notifications
          WHERE seq IN (SELECT value FROM json_each(?)) ORDER BY seq`,
      ),
    };
    // What the log holds after a restart is pending again (the writer does the same).
    const now = performance.now();
    for (const row of db.prepare('SELECT seq, recipients FROM fanout ORDER BY seq').iterate() as Iterable<{
      seq: number;
      recipients: string;
    }>) {
      this.pending.add(row.seq, JSON.parse(row.recipients) as string[], now);
    }

    // Requests sent before it is up wait in its port.
    this.writer = startWorker(import.meta.url, './sqlite/writer.worker.ts', 'sqlite-writer', {
      workerData: { file, opts } satisfies WriterData,
    });
    this.writer.on('message', (reply: WriterReply) => this.onReply(reply));
    this.writer.on('error', (err) => this.fail(`inbox writer failed: ${err.message}`));
    this.writer.on('messageerror', (err) => this.fail(`inbox writer sent an unreadable answer: ${err.message}`));
    this.writerExited = new Promise((resolve) => {
      this.writer.once('exit', (code) => {
        this.fail(this.closed ? 'inbox is closed' : `inbox writer exited (code ${code})`);
        resolve();
      });
    });
    // Idle: the writer alone must not keep the process running.
    this.writer.unref();

    this.checkpointer = startWorker(import.meta.url, './sqlite/checkpointer.worker.ts', 'sqlite-checkpointer', {
      workerData: { file, intervalMs: CHECKPOINT_INTERVAL_MS } satisfies CheckpointerData,
    });
    this.checkpointerExited = new Promise((resolve) => this.checkpointer.once('exit', () => resolve()));
    // Its failure loses nothing: commits checkpoint themselves again, only later and in line.
    this.checkpointer.on('error', () => undefined);
    this.checkpointer.unref();
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version >= SCHEMA_VERSION) return;
    this.db.transaction(() => {
      if (version === 0) this.createSchema();
      else this.upgradeSchema();
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
  }

  private createSchema(): void {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS notifications (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        entity_type TEXT NOT NULL,
        data TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        holders INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX IF NOT EXISTS notifications_created_at ON notifications (created_at);
      CREATE TABLE IF NOT EXISTS deliveries (
        user_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        read INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, seq)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS fanout (seq INTEGER PRIMARY KEY, recipients TEXT NOT NULL);
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
    `);
  }

  /**
   * From schema 1 (a delivery row per recipient at append, an index by seq) or 2
   * (the fan-out log added): count each notification's holders (its delivery rows,
   * and the recipients of its log row not merged yet), then drop the index.
   */
  private upgradeSchema(): void {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS fanout (seq INTEGER PRIMARY KEY, recipients TEXT NOT NULL);
      ALTER TABLE notifications ADD COLUMN holders INTEGER NOT NULL DEFAULT 0;
      UPDATE notifications SET holders =
        (SELECT COUNT(*) FROM deliveries d WHERE d.seq = notifications.seq) +
        (SELECT COUNT(*) FROM fanout f, json_each(f.recipients) r
          WHERE f.seq = notifications.seq
            AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.user_id = r.value AND d.seq = f.seq));
      DROP INDEX IF EXISTS deliveries_seq;
    `);
  }

  // -------------------------------------------------------------------------
  // The write queue
  // -------------------------------------------------------------------------
  append(input: AppendInput): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new InboxUnavailableError('inbox is closed'));
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.enqueue({ kind: 'append', input, resolve, reject }));
  }

  /**
   * Any write but an append: queued in line with the appends, alone in its
   * request. A function is called when the request is sent, with no other
   * request in the worker (so every answer the worker sent before it has been
   * taken in here).
   */
  private write<T>(req: WriterRequest | (() => WriterRequest)): Promise<T> {
    if (this.closed) return Promise.reject(new InboxUnavailableError('inbox is closed'));
    return this.writeEvenIfClosed(req);
  }

  private writeEvenIfClosed<T>(req: WriterRequest | (() => WriterRequest)): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.enqueue({ kind: 'write', req, resolve: (value) => resolve(value as T), reject });
    });
  }

  private enqueue(item: QueuedAppend | QueuedWrite): void {
    this.queue.push(item);
    this.lastWriteAt = performance.now();
    if (this.inFlight.length >= MAX_IN_FLIGHT || this.pumpScheduled) return;
    this.pumpScheduled = true;
    // setImmediate, not a timer: when the writer has room, the next batch is whatever
    // arrived in this turn of the loop.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /**
   * Sends from the head of the queue while the worker has room: a run of appends,
   * or one other write, per request; and a merge step when the queue is empty and
   * a merge is due (or, past `forceRows`, whatever is queued).
   */
  private pump(): void {
    while (this.inFlight.length < MAX_IN_FLIGHT && !this.failure) {
      if (this.mergeDue()) {
        this.sendMerge();
        continue;
      }
      // Past forceRows, appends wait for each merge step: otherwise a batch adding
      // more rows than a step merges would grow the backlog (and memory) without end.
      if (this.mergeInFlight && this.pending.size >= this.merge.forceRows) break;
      const head = this.queue[0];
      if (!head) break;
      let req: WriterRequest;
      let inFlight: InFlight;
      if (head.kind === 'write') {
        // A request made at send time (a sweep step) goes alone: it describes this
        // thread's state, and answers still on their way would change it.
        if (typeof head.req === 'function' && this.inFlight.length > 0) break;
        this.queue.shift();
        req = typeof head.req === 'function' ? head.req() : head.req;
        inFlight = head;
      } else {
        let n = 1;
        while (n < MAX_BATCH && this.queue[n]?.kind === 'append') n++;
        const batch = this.queue.splice(0, n) as QueuedAppend[];
        req = { op: 'append', inputs: batch.map((p) => p.input) };
        inFlight = {
          resolve: (value) => this.settleBatch(batch, value as AppendOutcome[]),
          reject: (err) => batch.forEach((p) => p.reject(err)),
        };
      }
      try {
        this.writer.postMessage(req);
      } catch (err) {
        // Data that cannot be cloned: this request fails, the queue goes on.
        inFlight.reject(new InboxUnavailableError(`inbox write failed: ${(err as Error).message}`));
        continue;
      }
      this.inFlight.push(inFlight);
      // Writes are promised to callers: keep the process alive until they are answered.
      this.writer.ref();
    }
    // Idle. While closing, the worker's exit is still awaited: keep it referenced.
    if (this.inFlight.length === 0 && this.queue.length === 0 && !this.closed) this.writer.unref();
    this.armMergeTimer();
  }

  private mergeDue(): boolean {
    if (this.mergeInFlight || this.closed || this.pending.size === 0) return false;
    const now = performance.now();
    if (now < this.mergeRetryAt) return false;
    if (this.queue.length > 0) return this.pending.size >= this.merge.forceRows;
    const size = this.pending.size;
    return (
      this.mergeActive ||
      size >= this.merge.forceRows ||
      (size >= this.merge.startRows && size >= this.merge.rowsPerUser * this.pending.users) ||
      this.pending.ageMs(now) >= this.merge.startAfterMs ||
      (this.inFlight.length === 0 && now - this.lastWriteAt >= this.merge.idleMs)
    );
  }

  /** One merge step as this inbox's tuning bounds it (rows and time). */
  private mergeRequest(): WriterRequest {
    return { op: 'merge', maxRows: this.merge.stepRows, maxMs: this.merge.stepMs };
  }

  private sendMerge(): void {
    this.writer.postMessage(this.mergeRequest());
    this.mergeInFlight = true;
    this.inFlight.push({
      merge: true,
      resolve: () => {
        this.counts.mergeSteps++;
      },
      // The rows stay pending, and reads still include them; try again later.
      reject: () => {
        this.mergeRetryAt = performance.now() + MERGE_RETRY_MS;
        this.armMergeTimer();
      },
    });
    this.writer.ref();
  }

  /** Rows pending: come back when they are old enough, or the writer idle long enough, to merge. */
  private armMergeTimer(): void {
    if (this.closed || this.failure || this.pending.size === 0) return;
    const now = performance.now();
    const due = Math.max(
      Math.min(now + this.merge.startAfterMs - this.pending.ageMs(now), this.lastWriteAt + this.merge.idleMs),
      this.mergeRetryAt,
      now,
    );
    // A timer already set for about then (or sooner) will do: writes keep moving the idle time on.
    if (!Number.isFinite(due) || due >= this.mergeTimerAt - 1) return;
    clearTimeout(this.mergeTimer);
    this.mergeTimerAt = due;
    this.mergeTimer = setTimeout(() => {
      this.mergeTimer = undefined;
      this.mergeTimerAt = Infinity;
      this.pump();
    }, due - now + 1);
    this.mergeTimer.unref();
  }

  private onReply(reply: WriterReply): void {
    const settle = this.inFlight.shift();
    if (!settle) return;
    if (settle.merge) this.mergeInFlight = false;
    // Before anything reads again: what was merged is in `deliveries` now.
    if (reply.merged) this.pending.merged(reply.merged.users, reply.merged.through, performance.now());
    this.mergeActive = reply.mergeActive;
    // Send first, settle second: the worker starts on what queued meanwhile while
    // this thread delivers what was just committed.
    this.pump();
    if (reply.ok) settle.resolve(reply.value);
    else settle.reject(new InboxUnavailableError(reply.error.message));
    // An append batch adds its rows to `pending` as it settles: a merge may be due now.
    this.pump();
  }

  /** The main thread builds each notification from its own input; the worker sent only the seq. */
  private settleBatch(batch: QueuedAppend[], outcomes: AppendOutcome[]): void {
    this.counts.batches++;
    this.counts.appends += batch.length;
    batch.forEach((p, i) => {
      const outcome = outcomes[i];
      if (!outcome) p.reject(new InboxUnavailableError('inbox writer gave no answer for this append'));
      else if (outcome.status === 'conflict') p.reject(new IdempotencyConflictError(outcome.message));
      else if (outcome.status === 'duplicate') {
        p.resolve({ status: 'duplicate', id: outcome.id, recipients: outcome.recipients, response: outcome.response });
      } else {
        const { input } = p;
        // Pending before the caller hears of it, so a read made after `await append()` sees it.
        this.pending.add(outcome.seq, [...new Set(input.userIds)], performance.now());
        p.resolve({
          status: 'stored',
          notification: {
            id: input.id,
            seq: outcome.seq,
            entityType: input.entityType,
            data: input.data,
            createdAt: new Date(input.createdAt).toISOString(),
            read: false,
          },
        });
      }
    });
  }

  /** The writer is gone: nothing queued or later may wait for it. */
  private fail(message: string): void {
    this.failure ??= new InboxUnavailableError(message);
    const failure = this.failure;
    const settle = this.inFlight;
    const queued = this.queue;
    this.inFlight = [];
    this.queue = [];
    for (const p of settle) p.reject(failure);
    for (const p of queued) p.reject(failure);
    // After 'error' or 'messageerror' the thread may still be running; it is of no use now.
    this.writer.terminate().catch(() => undefined);
  }

  /** Committed append transactions, the appends in them, and merge steps, since open (for tests and diagnostics). */
  stats(): { batches: number; appends: number; mergeSteps: number } {
    return { ...this.counts };
  }

  /** Delivery rows stored in the fan-out log and not merged yet (`/readyz`, tests). */
  backlog(): number {
    return this.pending.size;
  }

  /** What the checkpointer thread has done since open (for tests and diagnostics). */
  checkpoints(): Promise<CheckpointStats> {
    return new Promise((resolve, reject) => {
      const onMessage = (stats: CheckpointStats) => {
        this.checkpointer.off('exit', onExit);
        resolve(stats);
      };
      const onExit = () => {
        this.checkpointer.off('message', onMessage);
        reject(new InboxUnavailableError('inbox checkpointer is not running'));
      };
      this.checkpointer.once('message', onMessage);
      this.checkpointer.once('exit', onExit);
      this.checkpointer.postMessage({ op: 'stats' });
    });
  }

  /** Merges everything pending now, in steps queued behind what is already queued (for tests and diagnostics). */
  async mergeAll(): Promise<void> {
    let idle = 0;
    while (this.pending.size > 0 || this.mergeActive) {
      const before = this.pending.size;
      await this.write<null>(this.mergeRequest());
      this.counts.mergeSteps++;
      // A step that merges nothing only finishes a merge; two in a row mean the
      // writer does not hold what this thread does, which must not loop forever.
      idle = this.pending.size === before && !this.mergeActive ? idle + 1 : 0;
      if (idle >= 2) throw new InboxUnavailableError(`inbox writer holds no merge for ${this.pending.size} pending rows`);
    }
  }

  async saveResponse(key: string, response: StoredResponse): Promise<void> {
    await this.write<null>({ op: 'saveResponse', key, response });
  }

  // -------------------------------------------------------------------------
  // Reads (main thread)
  // -------------------------------------------------------------------------
  async since(userId: string, afterSeq: number, limit: number): Promise<SinceResult> {
    this.guard();
    // One read transaction: the head, the watermarks and the rows come from one commit
    // of the writer, not from either side of one.
    return this.db.transaction((): SinceResult => {
      const merged = this.mergedHead(userId);
      // Everything pending above the merged head comes after every merged row.
      const extra = this.pending.above(userId, Math.max(afterSeq, merged));
      const headSeq = Math.max(merged, this.pending.headOf(userId));
      if (afterSeq < this.prunedThrough(userId)) return { items: [], reset: true, headSeq };
      const rows = this.stmt.since.all(userId, afterSeq, limit + 1) as Row[];
      if (rows.length + extra.length > limit) return { items: [], reset: true, headSeq };
      return { items: [...rows, ...this.pendingRowsOf(extra)].map(toWire), reset: false, headSeq };
    })();
  }

  /** The user's highest seq in `deliveries`: every pending entry at or below it is merged already. */
  private mergedHead(userId: string): number {
    return (this.stmt.headSeq.get(userId) as { head: number }).head;
  }

  /** The notifications of pending seqs, ascending, unread (a read mark merges them first). */
  private pendingRowsOf(seqs: number[]): Row[] {
    return seqs.length === 0 ? [] : (this.stmt.pendingRows.all(JSON.stringify(seqs)) as Row[]);
  }

  private prunedThrough(userId: string): number {
    const user = (this.stmt.prunedThrough.get(userId) as { pruned_through: number } | undefined)?.pruned_through ?? 0;
    const ttl = (this.stmt.metaGet.get('ttl_pruned_through') as { value: number } | undefined)?.value ?? 0;
    return Math.max(user, ttl);
  }

  async list(userId: string, opts: { before?: number; limit: number }): Promise<ListPage> {
    this.guard();
    const before = opts.before ?? Number.MAX_SAFE_INTEGER;
    const rows = this.db.transaction((): Row[] => {
      // Pending entries are the newest: they come first, then merged rows.
      const newest = this.pending
        .above(userId, this.mergedHead(userId))
        .filter((seq) => seq < before)
        .slice(-(opts.limit + 1));
      const fresh = this.pendingRowsOf(newest).reverse();
      if (fresh.length > opts.limit) return fresh;
      return [...fresh, ...(this.stmt.page.all(userId, before, opts.limit + 1 - fresh.length) as Row[])];
    })();
    const more = rows.length > opts.limit;
    const items = rows.slice(0, opts.limit).map(toWire);
    return { items, nextCursor: more ? (items[items.length - 1]?.seq ?? null) : null };
  }

  async summary(userId: string): Promise<{ unread: number; headSeq: number }> {
    this.guard();
    // One read transaction, so both numbers come from the same commit.
    return this.db.transaction(() => {
      const merged = this.mergedHead(userId);
      const fresh = this.pending.above(userId, merged);
      return {
        unread: (this.stmt.unread.get(userId) as { n: number }).n + fresh.length,
        headSeq: Math.max(merged, this.pending.headOf(userId)),
      };
    })();
  }

  // -------------------------------------------------------------------------
  // Read state (worker: unread and headSeq are read inside the write transaction)
  // -------------------------------------------------------------------------
  markRead(userId: string, ids: string[]): Promise<ReadState> {
    return this.write<ReadState>({ op: 'markRead', userId, ids });
  }

  markAllRead(userId: string): Promise<ReadState> {
    return this.write<ReadState>({ op: 'markAllRead', userId });
  }

  // -------------------------------------------------------------------------
  // Retention
  // -------------------------------------------------------------------------
  /**
   * Runs in the worker, one small step per request; each step goes to the back of
   * the queue, so pushes that arrive during a long sweep wait for one step, not all of it.
   */
  async sweep(now: number = Date.now()): Promise<SweepResult> {
    const sweepId = this.nextSweepId++;
    // Each step is told what this thread still holds as pending, and retention leaves
    // that alone. Read when the step is sent with nothing else in the worker: read
    // earlier, a merge answered in between would leave it stale, and the step would
    // spare rows it could delete (and forget their users until they next receive).
    const keepFrom = () => this.pending.lowest();
    let step = await this.write<SweepStep>(() => ({ op: 'sweep', sweepId, now, keepFrom: keepFrom() }));
    while (!step.done) step = await this.write<SweepStep>(() => ({ op: 'sweepNext', sweepId, keepFrom: keepFrom() }));
    return step.result;
  }

  async ping(): Promise<void> {
    this.guard();
    // Reads still work without the writer, but this node can no longer store a push.
    if (this.failure) throw this.failure;
    this.db.prepare('SELECT 1').get();
  }

  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    // What is still pending stays in the log and is merged after the next start.
    clearTimeout(this.mergeTimer);
    this.writer.ref();
    // Behind everything already queued: that may be promised to callers, and is committed first.
    await this.writeEvenIfClosed<null>({ op: 'close' }).catch(() => undefined);
    await this.writerExited;
    this.checkpointer.postMessage({ op: 'close' });
    await this.checkpointerExited;
    this.db.close();
  }

  private guard(): void {
    if (this.closed) throw new InboxUnavailableError('inbox is closed');
  }
}
