import 'server-only';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { InboxUnavailableError } from '../../errors';
import type { ArchiveState, InboxView, ListPage, NotificationPatch, NotificationStatus, Preferences, ReadState } from '../../contract';
import { startWorker } from '../../workers';
import { PendingDeliveries } from '../pending';
import type {
  AppendInput,
  AppendResult,
  CollapseInput,
  CollapseResult,
  Inbox,
  InboxHooks,
  InboxOptions,
  OutboxStats,
  ReceiptChange,
  RemoveResult,
  SinceResult,
  StoredResponse,
  SweepResult,
  UpdateResult,
  UserReceipts,
  WebhookOutbox,
} from '../types';
import type { CheckpointerData, CheckpointerRequest, CheckpointStats } from './messages';
import { WriterQueue } from './queue';
import { SqliteReads } from './reads';
import { migrate } from './schema';
import { DEFAULT_MERGE, type MergeTuning } from './tuning';

export { DEFAULT_MERGE, type MergeTuning } from './tuning';

/** How often the checkpointer thread copies the WAL into the database (checkpointer.worker.ts). */
const CHECKPOINT_INTERVAL_MS = 100;

/**
 * The embedded inbox: one SQLite file in WAL mode. Its parts:
 * - schema.ts: the tables, created or upgraded at open;
 * - queue.ts: every write, through one FIFO queue to the writer thread
 *   (writer.worker.ts and writer/), with group commit and merge scheduling;
 * - reads.ts: reads on this thread's own connection, which writes only at
 *   startup (WAL, schema), so it never waits on the writer's locks;
 * - checkpointer.worker.ts: WAL checkpoints on a thread of their own;
 * - ../pending.ts: the deliveries stored in the fan-out log and not yet merged,
 *   which the queue keeps and every read adds.
 */
export function openSqliteInbox(
  dataDir: string,
  opts: InboxOptions,
  file = 'herald.db',
  merge: Partial<MergeTuning> = {},
  hooks: InboxHooks = {},
): SqliteInbox {
  mkdirSync(dataDir, { recursive: true });
  return new SqliteInbox(path.join(dataDir, file), opts, { ...DEFAULT_MERGE, ...merge }, hooks);
}

export class SqliteInbox implements Inbox {
  readonly kind = 'sqlite' as const;
  /** The main thread's connection: reads only, after startup. */
  private readonly db: Database.Database;
  private readonly reads: SqliteReads;
  private readonly queue: WriterQueue;
  /** Checkpoints the WAL off the commit path; if it dies, the writer's own autocheckpoint takes over. */
  private readonly checkpointer: Worker;
  private readonly checkpointerExited: Promise<void>;
  /** Stored in the fan-out log, not yet merged into `deliveries`. */
  private readonly pending = new PendingDeliveries();
  private closing: Promise<void> | undefined;
  private nextSweepId = 1;
  /** The outbox's writes go through the writer like every other; its counts are read here. */
  readonly outbox: WebhookOutbox = {
    claim: ({ now, leaseMs, max }) => this.queue.write({ op: 'outboxClaim', now, leaseMs, max }),
    settle: async (id, _owner, outcome) => {
      await this.queue.write({ op: 'outboxSettle', id, outcome });
    },
    retryFailed: (now) => this.queue.write({ op: 'outboxRetryFailed', now }),
    escalateDue: (now, max) => this.queue.write({ op: 'escalateDue', now, max }),
    stats: async (): Promise<OutboxStats> => {
      this.guard();
      return this.reads.outboxStats();
    },
  };

  constructor(file: string, opts: InboxOptions, merge: MergeTuning = DEFAULT_MERGE, hooks: InboxHooks = {}) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    // Before the writer starts, so it opens a database that is already in shape.
    migrate(this.db);
    this.reads = new SqliteReads(this.db, this.pending);
    // What the log holds after a restart is pending again (the writer does the same).
    const now = performance.now();
    const log = this.db.prepare('SELECT seq, recipients FROM fanout ORDER BY seq').iterate() as Iterable<{ seq: number; recipients: string }>;
    for (const row of log) this.pending.add(row.seq, JSON.parse(row.recipients) as string[], now);

    this.queue = new WriterQueue(file, opts, this.pending, merge, hooks);

    this.checkpointer = startWorker(import.meta.url, './checkpointer.worker.ts', 'sqlite-checkpointer', {
      workerData: { file, intervalMs: CHECKPOINT_INTERVAL_MS } satisfies CheckpointerData,
    });
    this.checkpointerExited = new Promise((resolve) => this.checkpointer.once('exit', () => resolve()));
    // Its failure loses nothing: commits checkpoint themselves again, only later and in line.
    this.checkpointer.on('error', () => undefined);
    this.checkpointer.unref();
  }

  append(input: AppendInput): Promise<AppendResult> {
    return this.queue.append(input);
  }

  async saveResponse(key: string, response: StoredResponse): Promise<void> {
    await this.queue.write({ op: 'saveResponse', key, response });
  }

  async since(userId: string, afterSeq: number, limit: number): Promise<SinceResult> {
    this.guard();
    return this.reads.since(userId, afterSeq, limit);
  }

  async list(userId: string, opts: { before?: number; limit: number; view?: InboxView }): Promise<ListPage> {
    this.guard();
    return this.reads.list(userId, opts);
  }

  async summary(userId: string): Promise<{ unread: number; headSeq: number }> {
    this.guard();
    return this.reads.summary(userId);
  }

  /** On the writer: unread and headSeq are read inside the write transaction. */
  markRead(userId: string, ids: string[]): Promise<ReadState> {
    return this.queue.write({ op: 'markRead', userId, ids });
  }

  markUnread(userId: string, ids: string[]): Promise<ReadState> {
    return this.queue.write({ op: 'markUnread', userId, ids });
  }

  markReceived(userId: string, upTo: number, now: number = Date.now()): Promise<ReceiptChange> {
    return this.queue.write({ op: 'received', userId, upTo, now });
  }

  markSeen(userId: string, ids: string[], now: number = Date.now()): Promise<ReceiptChange> {
    return this.queue.write({ op: 'seen', userId, ids, now });
  }

  collapse(input: CollapseInput): Promise<CollapseResult> {
    return this.queue.write({ op: 'collapse', input, now: Date.now() });
  }

  update(id: string, patch: NotificationPatch): Promise<UpdateResult | null> {
    return this.queue.write({ op: 'update', id, patch, now: Date.now() });
  }

  retract(id: string, userId?: string): Promise<RemoveResult | null> {
    return this.queue.write({ op: 'retract', id, ...(userId !== undefined ? { userId } : {}), now: Date.now() });
  }

  expireDue(now: number, max: number): Promise<RemoveResult[]> {
    return this.queue.write({ op: 'expireDue', now, max });
  }

  archive(userId: string, ids: string[], archived: boolean): Promise<ArchiveState> {
    return this.queue.write({ op: 'archive', userId, ids, archived });
  }

  async preferences(userId: string): Promise<Preferences> {
    this.guard();
    return { mutedTypes: this.reads.muted(userId) };
  }

  setPreferences(userId: string, prefs: Preferences): Promise<Preferences> {
    return this.queue.write({ op: 'setPreferences', userId, prefs });
  }

  async status(id: string, opts: { after?: string; limit: number }): Promise<NotificationStatus | null> {
    this.guard();
    return this.reads.status(id, opts);
  }

  async receiptsOf(userId: string, seqs: number[]): Promise<Map<number, UserReceipts>> {
    this.guard();
    return this.reads.receiptsOf(userId, seqs);
  }

  probeWrite(): Promise<void> {
    return this.queue.write({ op: 'probe', now: Date.now() }).then(() => undefined);
  }

  markAllRead(userId: string): Promise<ReadState> {
    return this.queue.write({ op: 'markAllRead', userId });
  }

  /**
   * Runs in the writer, one small step per request; each step goes to the back of
   * the queue, so pushes that arrive during a long sweep wait for one step, not all of it.
   */
  async sweep(now: number = Date.now()): Promise<SweepResult> {
    const sweepId = this.nextSweepId++;
    // Each step is told what this thread still holds as pending, and retention leaves
    // that alone. Read when the step is sent with nothing else in the worker: read
    // earlier, a merge answered in between would leave it stale, and the step would
    // spare rows it could delete (and forget their users until they next receive).
    const keepFrom = () => this.pending.lowest();
    let step = await this.queue.write(() => ({ op: 'sweep' as const, sweepId, now, keepFrom: keepFrom() }));
    while (!step.done) step = await this.queue.write(() => ({ op: 'sweepNext' as const, sweepId, keepFrom: keepFrom() }));
    return step.result;
  }

  async ping(): Promise<void> {
    this.guard();
    // Reads still work without the writer, but this node can no longer store a push.
    if (this.queue.failure) throw this.queue.failure;
    this.db.prepare('SELECT 1').get();
  }

  /** Delivery rows stored in the fan-out log and not merged yet (`/readyz`, tests). */
  backlog(): number {
    return this.pending.size;
  }

  /** What the writer queue sent since open (WriterQueue.stats; for tests and diagnostics). */
  stats(): ReturnType<WriterQueue['stats']> {
    return this.queue.stats();
  }

  /** Merges everything pending now, in steps queued behind what is already queued (for tests and diagnostics). */
  mergeAll(): Promise<void> {
    return this.queue.mergeAll();
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
      this.checkpointer.postMessage({ op: 'stats' } satisfies CheckpointerRequest);
    });
  }

  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    // Behind everything already queued: that may be promised to callers, and is committed first.
    await this.queue.close();
    this.checkpointer.postMessage({ op: 'close' } satisfies CheckpointerRequest);
    await this.checkpointerExited;
    this.db.close();
  }

  private guard(): void {
    if (this.queue.closed) throw new InboxUnavailableError('inbox is closed');
  }
}
