import type Database from 'better-sqlite3';
import type { ArchiveState, JsonValue, NotificationPatch, Preferences, RemoveReason } from '../../../contract';
import { mergeGroup, wireGroup, type StoredGroup } from '../../groups';
import type { CollapseInput, CollapseResult, RemoveResult, UpdateResult } from '../../types';
import { UnreadCounter } from '../unread';
import type { Merger } from './merge';

interface NotificationRow {
  seq: number;
  id: string;
  entity_type: string;
  data: string;
  recipients: string | null;
}

interface GroupRow {
  seq: number;
  actors: string;
  count: number;
  pushes: number;
}

/**
 * The writer's changes to what users already hold: collapse, update, retract,
 * expiry, archive, and preferences. Each runs in one transaction. All but a
 * collapse first merge the affected users' pending deliveries (so the rows they
 * delete or update are in `deliveries`); a collapse touches only the group's
 * head, pending or merged. Each records, per user, a `changes` row whose
 * seq comes from the notifications' own sequence: catch-up replays it, so a tab
 * that slept through a change learns of it in order.
 */
export class Changes {
  private readonly stmt;
  private readonly unread: UnreadCounter;
  /** What the current transaction merged: the merger forgets it once committed. */
  private forgets: Array<() => void> = [];

  constructor(
    private readonly db: Database.Database,
    private readonly merger: Merger,
  ) {
    this.unread = new UnreadCounter(db);
    this.stmt = {
      // The notifications' AUTOINCREMENT counter hands out the change's seq, so changes
      // and notifications share one sequence (and its commit order).
      nextSeq: db.prepare("UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'notifications' RETURNING seq"),
      firstSeq: db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('notifications', 1) RETURNING seq"),
      insertChange: db.prepare('INSERT INTO changes (user_id, seq, kind, target, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      byId: db.prepare('SELECT seq, id, entity_type, data, recipients FROM notifications WHERE id = ?'),
      idOfSeq: db.prepare('SELECT id FROM notifications WHERE seq = ?'),
      holdersOfLegacy: db.prepare('SELECT user_id FROM deliveries WHERE seq = ?'),
      delivery: db.prepare('SELECT read, archived FROM deliveries WHERE user_id = ? AND seq = ?'),
      deleteDelivery: db.prepare('DELETE FROM deliveries WHERE user_id = ? AND seq = ?'),
      leaveFanout: db.prepare(
        `UPDATE fanout SET recipients = (SELECT json_group_array(value) FROM json_each(recipients) WHERE value <> ?) WHERE seq = ?
         RETURNING json_array_length(recipients) AS left`,
      ),
      releaseHolder: db.prepare('UPDATE notifications SET holders = holders - 1 WHERE seq = ?'),
      deleteEscalation: db.prepare('DELETE FROM escalations WHERE seq = ? AND user_id = ?'),
      group: db.prepare('SELECT seq, actors, count, pushes FROM collapse_groups WHERE user_id = ? AND collapse_key = ?'),
      upsertGroup: db.prepare(
        `INSERT INTO collapse_groups (user_id, collapse_key, seq, actors, count, pushes) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (user_id, collapse_key) DO UPDATE SET seq = excluded.seq, actors = excluded.actors, count = excluded.count, pushes = excluded.pushes`,
      ),
      deleteGroupHeadedBy: db.prepare('DELETE FROM collapse_groups WHERE user_id = ? AND seq = ?'),
      updateContent: db.prepare('UPDATE notifications SET entity_type = ?, data = ? WHERE seq = ?'),
      expired: db.prepare('SELECT id FROM notifications WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at LIMIT ?'),
      clearExpiry: db.prepare('UPDATE notifications SET expires_at = NULL WHERE seq = ?'),
      archivable: db.prepare(
        `SELECT n.id, n.seq FROM deliveries d JOIN notifications n ON n.seq = d.seq
          WHERE d.user_id = ? AND d.archived != ? AND n.id IN (SELECT value FROM json_each(?))`,
      ),
      setArchived: db.prepare('UPDATE deliveries SET archived = ? WHERE user_id = ? AND seq = ?'),
      // Of `userIds` (JSON), those who mute either of two types.
      mutingEither: db.prepare(
        `SELECT user_id FROM preferences p WHERE user_id IN (SELECT value FROM json_each(?))
           AND EXISTS (SELECT 1 FROM json_each(p.muted) m WHERE m.value IN (?, ?))`,
      ),
      setPreferences: db.prepare(
        'INSERT INTO preferences (user_id, muted) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET muted = excluded.muted',
      ),
    };
  }

  /** The `collapse` request, for a push already committed: its own transaction. */
  collapse(input: CollapseInput, now: number): CollapseResult {
    return { users: this.inTransaction(() => this.collapseWithin(input, now)) };
  }

  /**
   * Collapses a push inside the transaction that stores it (append.ts), so a
   * collapse costs no commit of its own. For each recipient, the head of their
   * group with this key, if unread and in the inbox, is removed (a `collapsed`
   * change), and the push becomes the head. `takeFresh(seq, userId)` removes a
   * head stored earlier in the same transaction (not pending yet, so in no
   * table but the fan-out log) and says whether it did. The caller runs
   * `committed()` after the commit, or `rolledBack()`.
   */
  collapseWithin(input: CollapseInput, now: number, takeFresh: (seq: number, userId: string) => boolean = () => false): CollapseResult['users'] {
    const users: CollapseResult['users'] = [];
    let seq = 0;
    for (const userId of input.userIds) {
      const head = this.stmt.group.get(userId, input.collapseKey) as GroupRow | undefined;
      let prev: StoredGroup | null = null;
      const replaces: string[] = [];
      if (head && head.seq !== input.seq) {
        // A head not merged yet is unread and in the inbox (read marks and archiving
        // merge first): it leaves the pending deliveries, and the user's other pending
        // rows stay as they are. Only a merged head needs its delivery row read.
        let removed = takeFresh(head.seq, userId);
        if (!removed && this.merger.isPending(userId, head.seq)) {
          this.forgets.push(this.merger.dropPending(userId, head.seq));
          removed = true;
        }
        if (removed) {
          this.letGo(userId, head.seq);
        } else {
          const d = this.stmt.delivery.get(userId, head.seq) as { read: number; archived: number } | undefined;
          // Only an unread item in the inbox is merged into; after a read one a new group starts.
          removed = d !== undefined && d.read === 0 && d.archived === 0;
          if (removed) this.removeDelivery(userId, head.seq);
        }
        if (removed) {
          const old = this.stmt.idOfSeq.get(head.seq) as { id: string };
          seq ||= this.nextSeq();
          this.stmt.insertChange.run(userId, seq, 'remove', old.id, 'collapsed', now);
          replaces.push(old.id);
          prev = { actors: JSON.parse(head.actors) as JsonValue[], count: head.count, pushes: head.pushes };
        }
      }
      const group = mergeGroup(prev, input.actor);
      this.stmt.upsertGroup.run(userId, input.collapseKey, input.seq, JSON.stringify(group.actors), group.count, group.pushes);
      users.push({ userId, group: wireGroup(group), replaces });
    }
    return users;
  }

  /** The transaction that called collapseWithin committed: the merger forgets what it merged. */
  committed(): void {
    for (const forget of this.forgets) forget();
    this.forgets = [];
  }

  /** It rolled back: nothing it merged is forgotten. */
  rolledBack(): void {
    this.forgets = [];
  }

  update(id: string, patch: NotificationPatch, now: number): UpdateResult | null {
    return this.inTransaction(() => {
      const n = this.stmt.byId.get(id) as NotificationRow | undefined;
      if (!n) return null;
      const entityType = patch.entityType ?? n.entity_type;
      const data = patch.data !== undefined ? patch.data : (JSON.parse(n.data) as JsonValue);
      this.stmt.updateContent.run(entityType, JSON.stringify(data), n.seq);
      const holders = this.holders(n, this.recipientsOf(n));
      const seq = holders.length > 0 ? this.nextSeq() : 0;
      for (const userId of holders) this.stmt.insertChange.run(userId, seq, 'update', id, null, now);
      // Only a holder who mutes the old type or the new one counts the item differently now.
      const muting =
        entityType === n.entity_type || holders.length === 0
          ? []
          : (this.stmt.mutingEither.all(JSON.stringify(holders), entityType, n.entity_type) as Array<{ user_id: string }>);
      const recounted = muting.map(({ user_id: userId }) => ({ userId, unread: this.unread.count(userId) }));
      return { seq, notification: { id, entityType, data }, userIds: holders, recounted };
    });
  }

  retract(id: string, userId: string | undefined, now: number): RemoveResult | null {
    return this.inTransaction(() => {
      const n = this.stmt.byId.get(id) as NotificationRow | undefined;
      return n ? this.remove(n, userId !== undefined ? [userId] : this.recipientsOf(n), 'retracted', now) : null;
    });
  }

  expireDue(now: number, max: number): RemoveResult[] {
    return this.inTransaction(() => {
      const results: RemoveResult[] = [];
      for (const { id } of this.stmt.expired.all(now, max) as Array<{ id: string }>) {
        const n = this.stmt.byId.get(id) as NotificationRow;
        this.stmt.clearExpiry.run(n.seq);
        const removed = this.remove(n, this.recipientsOf(n), 'expired', now);
        if (removed.users.length > 0) results.push(removed);
      }
      return results;
    });
  }

  archive(userId: string, ids: string[], archived: boolean): ArchiveState {
    return this.inTransaction(() => {
      this.mergeFirst([userId]);
      const flag = archived ? 1 : 0;
      const rows = this.stmt.archivable.all(userId, flag, JSON.stringify(ids)) as Array<{ id: string; seq: number }>;
      for (const row of rows) this.stmt.setArchived.run(flag, userId, row.seq);
      return { ids: rows.map((r) => r.id), archived, ...this.unread.summary(userId) };
    });
  }

  setPreferences(userId: string, prefs: Preferences): Preferences {
    this.stmt.setPreferences.run(userId, JSON.stringify(prefs.mutedTypes));
    return prefs;
  }

  /** Removes `n` from each of `userIds` that holds it, with one change seq for all. */
  private remove(n: NotificationRow, userIds: string[], reason: RemoveReason, now: number): RemoveResult {
    const holders = this.holders(n, userIds);
    const seq = holders.length > 0 ? this.nextSeq() : 0;
    const users = holders.map((userId) => {
      this.removeDelivery(userId, n.seq);
      this.stmt.deleteGroupHeadedBy.run(userId, n.seq);
      this.stmt.insertChange.run(userId, seq, 'remove', n.id, reason, now);
      return { userId, unread: this.unread.count(userId) };
    });
    return { id: n.id, seq, users };
  }

  /** Those of `userIds` whose inbox holds `n`, their pending rows merged first. */
  private holders(n: NotificationRow, userIds: string[]): string[] {
    this.mergeFirst(userIds);
    return userIds.filter((userId) => this.stmt.delivery.get(userId, n.seq) !== undefined);
  }

  /** The push's recipients; a row from before schema 4 has none kept, so those who hold it. */
  private recipientsOf(n: NotificationRow): string[] {
    if (n.recipients !== null) return JSON.parse(n.recipients) as string[];
    return (this.stmt.holdersOfLegacy.all(n.seq) as Array<{ user_id: string }>).map((r) => r.user_id);
  }

  /**
   * Deletes a merged delivery. While its fan-out log row lives, the user leaves
   * that row too: a restart merges the log again (merge.ts), and would bring the
   * delivery back.
   */
  private removeDelivery(userId: string, seq: number): void {
    if (this.stmt.deleteDelivery.run(userId, seq).changes === 0) return;
    this.letGo(userId, seq);
  }

  /**
   * `userId` lets go of notification `seq`: out of its fan-out log row, one
   * holder less, no escalation. A log row names everyone the push was for until
   * each lets go (merges leave it as it is), so a row left empty means no one
   * holds the notification any more: the per-user cap, the only reader of
   * `holders`, can never reach it, and the age limit deletes it. Its count is
   * then left as it is, which spares a write to its page: for a single-recipient
   * push collapsed before it was merged, that is the common case.
   */
  private letGo(userId: string, seq: number): void {
    const row = this.stmt.leaveFanout.get(userId, seq) as { left: number } | undefined;
    if (row?.left !== 0) this.stmt.releaseHolder.run(seq);
    this.stmt.deleteEscalation.run(seq, userId);
  }

  private nextSeq(): number {
    const row = (this.stmt.nextSeq.get() ?? this.stmt.firstSeq.get()) as { seq: number };
    return row.seq;
  }

  /** Merges these users' pending deliveries inside the current transaction; forgotten as pending once it commits. */
  private mergeFirst(userIds: readonly string[]): void {
    this.forgets.push(this.merger.mergeUsers(userIds));
  }

  /** `fn` in one transaction, then the merger forgets what it merged (mergeFirst). */
  private inTransaction<T>(fn: () => T): T {
    this.forgets = [];
    let value: T;
    try {
      value = this.db.transaction(fn)();
    } catch (err) {
      this.rolledBack();
      throw err;
    }
    this.committed();
    return value;
  }
}
