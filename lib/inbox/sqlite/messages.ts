import type { ArchiveState, NotificationPatch, Preferences, ReadState } from '../../contract';
import type {
  AppendInput,
  BatchOutcome,
  ClaimedBatch,
  CollapseInput,
  CollapseResult,
  InboxOptions,
  ReceiptChange,
  RemoveResult,
  StoredResponse,
  SweepResult,
  UpdateResult,
} from '../types';

/**
 * What the SQLite inbox's main thread (queue.ts, index.ts) and its worker threads
 * (writer.worker.ts, checkpointer.worker.ts) send each other: the one definition
 * both sides import. Messages cross as structured clones, so they hold plain data
 * only, and errors cross as `{ kind, message }`.
 */

/** The writer's `workerData`. */
export interface WriterData {
  file: string;
  opts: InboxOptions;
}

/** One request to the writer; it runs each to completion, in the order sent. */
/** A receipt as its own request makes it: several queued together go in one `receipts` request. */
export type ReceiptRequest = Extract<WriterRequest, { op: 'received' | 'seen' }>;

export type WriterRequest =
  | { op: 'append'; inputs: AppendInput[] }
  | { op: 'saveResponse'; key: string; response: StoredResponse }
  | { op: 'markRead'; userId: string; ids: string[] }
  | { op: 'markAllRead'; userId: string }
  | { op: 'markUnread'; userId: string; ids: string[] }
  | { op: 'received'; userId: string; upTo: number; now: number }
  | { op: 'seen'; userId: string; ids: string[]; now: number }
  | { op: 'receipts'; items: ReceiptRequest[] }
  | { op: 'outboxClaim'; now: number; leaseMs: number; max: number }
  | { op: 'outboxSettle'; id: string; outcome: BatchOutcome }
  | { op: 'outboxRetryFailed'; now: number }
  | { op: 'escalateDue'; now: number; max: number }
  | { op: 'probe'; now: number }
  | { op: 'collapse'; input: CollapseInput; now: number }
  | { op: 'update'; id: string; patch: NotificationPatch; now: number }
  | { op: 'retract'; id: string; userId?: string; now: number }
  | { op: 'expireDue'; now: number; max: number }
  | { op: 'archive'; userId: string; ids: string[]; archived: boolean }
  | { op: 'setPreferences'; userId: string; prefs: Preferences }
  /** `keepFrom`: the lowest seq the main thread holds as pending when it sends the step (null: none). */
  | { op: 'sweep'; sweepId: number; now: number; keepFrom: number | null }
  | { op: 'sweepNext'; sweepId: number; keepFrom: number | null }
  | { op: 'merge'; maxRows: number; maxMs: number }
  | { op: 'close' };

export type WriterOp = WriterRequest['op'];
export type WriterRequestOf<Op extends WriterOp> = Extract<WriterRequest, { op: Op }>;

/** An append's answer: only what the main thread does not already have (the seq, not the notification). */
export type AppendOutcome =
  | {
      status: 'stored';
      seq: number;
      /** With a collapse key: each recipient's group, collapsed in this commit. */
      collapsed?: CollapseResult['users'];
      /** Recipients a later push of the same batch collapsed this one away from: never pending. */
      dropped?: string[];
    }
  | { status: 'duplicate'; id: string; recipients: number; response: StoredResponse | null }
  | { status: 'conflict'; message: string };

/** One step of a sweep: the main thread sends the next until one is done. */
export type SweepStep = { done: false } | { done: true; result: SweepResult };

/** What each request's answer carries when it succeeds. */
export interface WriterValues {
  append: AppendOutcome[];
  saveResponse: null;
  markRead: ReadState;
  markAllRead: ReadState;
  markUnread: ReadState;
  received: ReceiptChange;
  seen: ReceiptChange;
  receipts: ReceiptChange[];
  outboxClaim: ClaimedBatch[];
  outboxSettle: null;
  outboxRetryFailed: number;
  escalateDue: number;
  probe: null;
  collapse: CollapseResult;
  update: UpdateResult | null;
  retract: RemoveResult | null;
  expireDue: RemoveResult[];
  archive: ArchiveState;
  setPreferences: Preferences;
  sweep: SweepStep;
  sweepNext: SweepStep;
  merge: null;
  close: null;
}

/**
 * Pending deliveries a request merged: these users' seqs up to `through`; and
 * single pending deliveries it removed without merging them (`dropped`, user and
 * seq: a collapse took the head of a group before it was ever merged).
 */
export interface MergeReport {
  users: string[];
  through: number;
  dropped?: Array<[string, number]>;
}

/** Every answer says what its request merged, and whether a merge is under way. */
export type WriterReply = { merged: MergeReport | null; mergeActive: boolean } & (
  | { ok: true; value: WriterValues[WriterOp] }
  | { ok: false; error: { kind: 'unavailable'; message: string } }
);

/** The checkpointer's `workerData`. */
export interface CheckpointerData {
  file: string;
  intervalMs: number;
}

export type CheckpointerRequest = { op: 'stats' } | { op: 'close' };

/** The checkpointer's answer to `stats`: checkpoints that copied something, and the WAL frames they copied. */
export interface CheckpointStats {
  checkpoints: number;
  frames: number;
}
