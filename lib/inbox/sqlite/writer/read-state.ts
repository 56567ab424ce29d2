import type Database from 'better-sqlite3';
import type { ReadState } from '../../../contract';
import { UnreadCounter } from '../unread';
import type { Merger } from './merge';
import type { Receipts } from './receipts';

/**
 * The writer's read marks. Each is one transaction that merges the user's pending
 * deliveries first (pending rows are always unread), then updates; the answer is
 * read inside the same transaction, so it matches it. Marking read records the
 * first `readAt` of each row it changed (receipts.ts), with its event.
 */
export class ReadMarks {
  private readonly stmt;
  private readonly unread: UnreadCounter;

  constructor(
    private readonly db: Database.Database,
    private readonly merger: Merger,
    private readonly receipts: Receipts,
  ) {
    this.unread = new UnreadCounter(db);
    this.stmt = {
      unreadByIds: db.prepare(
        `SELECT n.id, n.seq FROM deliveries d JOIN notifications n ON n.seq = d.seq
          WHERE d.user_id = ? AND d.read = 0 AND n.id IN (SELECT value FROM json_each(?))`,
      ),
      markSeqRead: db.prepare('UPDATE deliveries SET read = 1 WHERE user_id = ? AND seq = ?'),
      readByIds: db.prepare(
        `SELECT n.id, n.seq FROM deliveries d JOIN notifications n ON n.seq = d.seq
          WHERE d.user_id = ? AND d.read = 1 AND n.id IN (SELECT value FROM json_each(?))`,
      ),
      markSeqUnread: db.prepare('UPDATE deliveries SET read = 0 WHERE user_id = ? AND seq = ?'),
      probe: db.prepare("INSERT INTO meta (key, value) VALUES ('write_probe', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
      markAllRead: db.prepare('UPDATE deliveries SET read = 1 WHERE user_id = ? AND read = 0'),
      allUnread: db.prepare('SELECT d.seq, n.id FROM deliveries d JOIN notifications n ON n.seq = d.seq WHERE d.user_id = ? AND d.read = 0'),
    };
  }

  markRead(userId: string, ids: string[]): ReadState {
    return this.change(userId, () => {
      const rows = this.stmt.unreadByIds.all(userId, JSON.stringify(ids)) as Array<{ id: string; seq: number }>;
      for (const row of rows) this.stmt.markSeqRead.run(userId, row.seq);
      this.receipts.read(userId, rows, Date.now());
      return { ...this.unread.summary(userId), readIds: rows.map((r) => r.id) };
    });
  }

  markUnread(userId: string, ids: string[]): ReadState {
    return this.change(userId, () => {
      const rows = this.stmt.readByIds.all(userId, JSON.stringify(ids)) as Array<{ id: string; seq: number }>;
      for (const row of rows) this.stmt.markSeqUnread.run(userId, row.seq);
      return { ...this.unread.summary(userId), readIds: [], unreadIds: rows.map((r) => r.id) };
    });
  }

  /** A committed one-row write, for readiness: fails when the disk or file cannot take writes. */
  probe(now: number): null {
    this.stmt.probe.run(now);
    return null;
  }

  markAllRead(userId: string): ReadState {
    return this.change(userId, () => {
      this.receipts.read(userId, this.stmt.allUnread.all(userId) as Array<{ id: string; seq: number }>, Date.now());
      this.stmt.markAllRead.run(userId);
      return { ...this.unread.summary(userId), readIds: [], all: true };
    });
  }

  /** The user's pending deliveries merged first, then `update`; forgotten as pending only once that has committed. */
  private change(userId: string, update: () => ReadState): ReadState {
    let forget = (): void => undefined;
    const state = this.db.transaction(() => {
      forget = this.merger.mergeUser(userId);
      return update();
    })();
    forget();
    return state;
  }
}
