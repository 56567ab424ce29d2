import 'server-only';
import { InboxUnavailableError } from '../../errors';
import type { ArchiveState, InboxView, ListPage, NotificationPatch, NotificationStatus, Preferences, ReadState } from '../../contract';
import type {
  AppendInput,
  AppendResult,
  CollapseInput,
  CollapseResult,
  Inbox,
  InboxHooks,
  InboxOptions,
  ReceiptChange,
  RemoveResult,
  SinceResult,
  StoredResponse,
  SweepResult,
  UpdateResult,
  UserReceipts,
} from '../types';
import { lockKeyOf, PostgresAppends } from './append';
import { PostgresChanges } from './changes';
import { createPool, PgDatabase, unavailable } from './pool';
import { PostgresOutbox } from './outbox';
import { PostgresReads } from './reads';
import { PostgresReceipts } from './receipts';
import { PostgresRetention } from './retention';
import { migrate, SCHEMA_NAME } from './schema';

/**
 * The cluster inbox: PostgreSQL shared by every Herald node. Same model and
 * semantics as the SQLite inbox (lib/inbox/sqlite/): one notification row per
 * push with a seq from one sequence shared by all users, one delivery row per
 * recipient with its read flag, group commit of appends, idempotency decided
 * inside the write transaction, retention watermarks for `since`. Its parts:
 * - pool.ts: the connection pool, transactions, and errors as InboxUnavailableError;
 * - schema.ts: the migrations;
 * - append.ts: appends, and how seqs stay in commit order across nodes;
 * - reads.ts: reads, read marks and a notification's status;
 * - receipts.ts: delivered/seen/read times and their webhook events;
 * - changes.ts: collapse, update, retract, expiry, archive, preferences;
 * - outbox.ts: the webhook outbox's batches and leases, and escalations;
 * - retention.ts: the sweep.
 */

/**
 * Connects, migrates (safely when several nodes boot at once) and returns the
 * inbox. `schema` puts every table in that schema (created if missing); tests
 * use a fresh one each.
 */
export async function openPostgresInbox(
  databaseUrl: string,
  opts: InboxOptions & { schema?: string },
  hooks: InboxHooks = {},
): Promise<PostgresInbox> {
  const { schema, ...inboxOpts } = opts;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid schema name "${schema}": use lower-case letters, digits and _`);
  }
  const pool = createPool(databaseUrl, schema);
  try {
    await migrate(pool, schema);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw unavailable('migration', err);
  }
  return new PostgresInbox(new PgDatabase(pool), inboxOpts, lockKeyOf(schema ?? ''), hooks);
}

export class PostgresInbox implements Inbox {
  readonly kind = 'postgres' as const;
  private readonly appends: PostgresAppends;
  private readonly reads: PostgresReads;
  private readonly retention: PostgresRetention;
  private readonly receipts: PostgresReceipts;
  readonly outbox: PostgresOutbox;
  private readonly changes: PostgresChanges;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly db: PgDatabase,
    opts: InboxOptions,
    appendLockKey: number,
    hooks: InboxHooks = {},
  ) {
    this.retention = new PostgresRetention(db, opts);
    this.receipts = new PostgresReceipts(db, opts.webhookEvents ?? []);
    this.appends = new PostgresAppends(db, appendLockKey, (userIds) => this.retention.touch(userIds), this.receipts.escalating, hooks);
    this.reads = new PostgresReads(db, this.receipts);
    this.outbox = new PostgresOutbox(db, this.receipts);
    this.changes = new PostgresChanges(db, appendLockKey);
  }

  collapse(input: CollapseInput): Promise<CollapseResult> {
    return this.changes.collapse(input, Date.now());
  }

  update(id: string, patch: NotificationPatch): Promise<UpdateResult | null> {
    return this.changes.update(id, patch, Date.now());
  }

  retract(id: string, userId?: string): Promise<RemoveResult | null> {
    return this.changes.retract(id, userId, Date.now());
  }

  expireDue(now: number, max: number): Promise<RemoveResult[]> {
    return this.changes.expireDue(now, max);
  }

  archive(userId: string, ids: string[], archived: boolean): Promise<ArchiveState> {
    return this.changes.archive(userId, ids, archived);
  }

  preferences(userId: string): Promise<Preferences> {
    return this.changes.preferences(userId);
  }

  setPreferences(userId: string, prefs: Preferences): Promise<Preferences> {
    return this.changes.setPreferences(userId, prefs);
  }

  append(input: AppendInput): Promise<AppendResult> {
    if (this.db.closed) return Promise.reject(new InboxUnavailableError('inbox is closed'));
    return this.appends.append(input);
  }

  saveResponse(key: string, response: StoredResponse): Promise<void> {
    return this.appends.saveResponse(key, response);
  }

  since(userId: string, afterSeq: number, limit: number): Promise<SinceResult> {
    return this.reads.since(userId, afterSeq, limit);
  }

  list(userId: string, opts: { before?: number; limit: number; view?: InboxView }): Promise<ListPage> {
    return this.reads.list(userId, opts);
  }

  summary(userId: string): Promise<{ unread: number; headSeq: number }> {
    return this.reads.summary(userId);
  }

  markRead(userId: string, ids: string[]): Promise<ReadState> {
    return this.reads.markRead(userId, ids);
  }

  markUnread(userId: string, ids: string[]): Promise<ReadState> {
    return this.reads.markUnread(userId, ids);
  }

  markReceived(userId: string, upTo: number, now: number = Date.now()): Promise<ReceiptChange> {
    return this.receipts.received(userId, upTo, now);
  }

  markSeen(userId: string, ids: string[], now: number = Date.now()): Promise<ReceiptChange> {
    return this.receipts.seen(userId, ids, now);
  }

  status(id: string, opts: { after?: string; limit: number }): Promise<NotificationStatus | null> {
    return this.reads.status(id, opts);
  }

  receiptsOf(userId: string, seqs: number[]): Promise<Map<number, UserReceipts>> {
    return this.reads.receiptsOf(userId, seqs);
  }

  probeWrite(): Promise<void> {
    return this.reads.probeWrite();
  }

  markAllRead(userId: string): Promise<ReadState> {
    return this.reads.markAllRead(userId);
  }

  sweep(now: number = Date.now()): Promise<SweepResult> {
    return this.retention.sweep(now);
  }

  async ping(): Promise<void> {
    await this.db.query('ping', 'SELECT 1');
  }

  /** Commits what is already queued (it may be promised to a caller), then closes the pool. */
  close(): Promise<void> {
    this.db.closed = true;
    this.closing ??= (async () => {
      await this.appends.drain();
      await this.db.pool.end().catch(() => undefined);
    })();
    return this.closing;
  }
}
