import 'server-only';
import type { Worker } from 'node:worker_threads';
import { IdempotencyConflictError, InboxUnavailableError } from '../../errors';
import { startWorker } from '../../workers';
import type { PendingDeliveries } from '../pending';
import { storedNotification } from '../rows';
import type { AppendInput, AppendResult, InboxHooks, InboxOptions } from '../types';
import type { AppendOutcome, ReceiptRequest, WriterData, WriterReply, WriterRequest, WriterValues } from './messages';
import type { MergeTuning } from './tuning';

/** Most appends committed in one transaction. */
const MAX_BATCH = 512;
/**
 * Requests in the writer before its answers come back: two, so the writer goes
 * straight on to the next while this thread delivers what it just committed.
 */
const MAX_IN_FLIGHT = 2;
/** After a merge request failed, wait this long before the next. */
const MERGE_RETRY_MS = 1_000;

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

/**
 * The main thread's side of the SQLite writer thread (writer.worker.ts): every
 * write goes through one FIFO queue here and one request at a time to the worker.
 * Appends queued while a request was in the worker are committed together in the
 * next transaction (group commit), so batches grow with load.
 *
 * An append stores one fan-out log row, not a row per recipient; the per-user rows
 * are merged in later, in bulk, by `merge` requests this queue sends when the
 * writer has nothing else to do (MergeTuning says when). Until then `pending`
 * holds them, and every read adds them to what it reads.
 */
export class WriterQueue {
  private readonly writer: Worker;
  private readonly writerExited: Promise<void>;
  private queue: Array<QueuedAppend | QueuedWrite> = [];
  /** Requests in the worker, oldest first (it answers in order); at most MAX_IN_FLIGHT. */
  private inFlight: InFlight[] = [];
  private pumpScheduled = false;
  /** Set once the writer died: every write, queued or later, fails with it. */
  private failed: InboxUnavailableError | undefined;
  private isClosed = false;
  private readonly counts = { batches: 0, appends: 0, mergeSteps: 0, receiptBatches: 0, receipts: 0 };
  /** The writer is part way through a merge: go on with it whenever it is idle. */
  private mergeActive = false;
  private mergeInFlight = false;
  private mergeRetryAt = 0;
  private mergeTimer: NodeJS.Timeout | undefined;
  /** When `mergeTimer` fires (performance.now() time). */
  private mergeTimerAt = Infinity;
  /** When the last write other than a merge was queued. */
  private lastWriteAt = 0;

  constructor(
    file: string,
    opts: InboxOptions,
    /** Stored in the fan-out log, not yet merged into `deliveries`. */
    private readonly pending: PendingDeliveries,
    private readonly merge: MergeTuning,
    private readonly hooks: InboxHooks = {},
  ) {
    // Requests sent before it is up wait in its port.
    this.writer = startWorker(import.meta.url, './writer.worker.ts', 'sqlite-writer', { workerData: { file, opts } satisfies WriterData });
    this.writer.on('message', (reply: WriterReply) => this.onReply(reply));
    this.writer.on('error', (err) => this.fail(`inbox writer failed: ${err.message}`));
    this.writer.on('messageerror', (err) => this.fail(`inbox writer sent an unreadable answer: ${err.message}`));
    this.writerExited = new Promise((resolve) => {
      this.writer.once('exit', (code) => {
        this.fail(this.isClosed ? 'inbox is closed' : `inbox writer exited (code ${code})`);
        resolve();
      });
    });
    // Idle: the writer alone must not keep the process running.
    this.writer.unref();
  }

  /** Closed: no new writes. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Why the writer is gone, once it is. */
  get failure(): InboxUnavailableError | undefined {
    return this.failed;
  }

  append(input: AppendInput): Promise<AppendResult> {
    if (this.isClosed) return Promise.reject(new InboxUnavailableError('inbox is closed'));
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => this.enqueue({ kind: 'append', input, resolve, reject }));
  }

  /**
   * Any write but an append: queued in line with the appends, alone in its
   * request. A function is called when the request is sent, with no other
   * request in the worker (so every answer the worker sent before it has been
   * taken in here).
   */
  write<R extends WriterRequest>(req: R | (() => R)): Promise<WriterValues[R['op']]> {
    if (this.isClosed) return Promise.reject(new InboxUnavailableError('inbox is closed'));
    return this.writeEvenIfClosed(req);
  }

  /** Committed append transactions and the appends in them, merge steps, and receipt batches and the receipts in them, since open. */
  stats(): { batches: number; appends: number; mergeSteps: number; receiptBatches: number; receipts: number } {
    return { ...this.counts };
  }

  /** Merges everything pending now, in steps queued behind what is already queued. */
  async mergeAll(): Promise<void> {
    let idle = 0;
    while (this.pending.size > 0 || this.mergeActive) {
      const before = this.pending.size;
      await this.write(this.mergeRequest());
      this.counts.mergeSteps++;
      // A step that merges nothing only finishes a merge; two in a row mean the
      // writer does not hold what this thread does, which must not loop forever.
      idle = this.pending.size === before && !this.mergeActive ? idle + 1 : 0;
      if (idle >= 2) throw new InboxUnavailableError(`inbox writer holds no merge for ${this.pending.size} pending rows`);
    }
  }

  /**
   * Commits everything already queued (it may be promised to callers), then ends
   * the writer. What is still pending stays in the log and is merged after the next start.
   */
  async close(): Promise<void> {
    this.isClosed = true;
    clearTimeout(this.mergeTimer);
    this.writer.ref();
    await this.writeEvenIfClosed({ op: 'close' }).catch(() => undefined);
    await this.writerExited;
  }

  private writeEvenIfClosed<R extends WriterRequest>(req: R | (() => R)): Promise<WriterValues[R['op']]> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.enqueue({ kind: 'write', req, resolve: (value) => resolve(value as WriterValues[R['op']]), reject });
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
    while (this.inFlight.length < MAX_IN_FLIGHT && !this.failed) {
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
      const receipts = this.receiptRun();
      if (receipts.length > 1) {
        // Receipts queued back to back share one transaction and one commit.
        this.queue.splice(0, receipts.length);
        req = { op: 'receipts', items: receipts.map((w) => w.req as ReceiptRequest) };
        inFlight = {
          resolve: (value) => {
            this.counts.receiptBatches++;
            this.counts.receipts += receipts.length;
            receipts.forEach((w, i) => w.resolve((value as WriterValues['receipts'])[i]));
          },
          reject: (err) => receipts.forEach((w) => w.reject(err)),
        };
      } else if (head.kind === 'write') {
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
        const sentAt = performance.now();
        inFlight = {
          resolve: (value) => {
            this.hooks.onCommit?.((performance.now() - sentAt) / 1000, batch.length);
            this.settleBatch(batch, value as AppendOutcome[]);
          },
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
    if (this.inFlight.length === 0 && this.queue.length === 0 && !this.isClosed) this.writer.unref();
    this.armMergeTimer();
  }

  /** The receipts at the head of the queue, back to back, at most MAX_BATCH. */
  private receiptRun(): QueuedWrite[] {
    const run: QueuedWrite[] = [];
    for (const item of this.queue) {
      if (run.length >= MAX_BATCH || item.kind !== 'write' || typeof item.req === 'function') break;
      if (item.req.op !== 'received' && item.req.op !== 'seen') break;
      run.push(item);
    }
    return run;
  }

  private mergeDue(): boolean {
    if (this.mergeInFlight || this.isClosed || this.pending.size === 0) return false;
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
  private mergeRequest(): WriterRequest & { op: 'merge' } {
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
    if (this.isClosed || this.failed || this.pending.size === 0) return;
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
    if (reply.merged) {
      if (reply.merged.users.length > 0) this.pending.merged(reply.merged.users, reply.merged.through, performance.now());
      if (reply.merged.dropped) this.pending.dropped(reply.merged.dropped);
    }
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
        // Pending before the caller hears of it, so a read made after `await append()` sees it.
        const dropped = new Set(outcome.dropped);
        this.pending.add(outcome.seq, [...new Set(p.input.userIds)].filter((u) => !dropped.has(u)), performance.now());
        p.resolve({
          status: 'stored',
          notification: storedNotification(p.input, outcome.seq),
          ...(outcome.collapsed ? { collapsed: outcome.collapsed } : {}),
        });
      }
    });
  }

  /** The writer is gone: nothing queued or later may wait for it. */
  private fail(message: string): void {
    this.failed ??= new InboxUnavailableError(message);
    const failure = this.failed;
    const settle = this.inFlight;
    const queued = this.queue;
    this.inFlight = [];
    this.queue = [];
    for (const p of settle) p.reject(failure);
    for (const p of queued) p.reject(failure);
    // After 'error' or 'messageerror' the thread may still be running; it is of no use now.
    this.writer.terminate().catch(() => undefined);
  }
}
