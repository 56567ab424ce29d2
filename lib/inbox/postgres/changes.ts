import 'server-only';
import type pg from 'pg';
import type { ArchiveState, JsonValue, NotificationPatch, Preferences, RemoveReason } from '../../contract';
import { mergeGroup, wireGroup, type StoredGroup } from '../groups';
import type { CollapseInput, CollapseResult, RemoveResult, UpdateResult } from '../types';
import { APPEND_LOCK_CLASS } from './append';
import type { PgDatabase } from './pool';
import { summaryOf } from './reads';

interface NotificationRow {
  seq: number;
  id: string;
  entity_type: string;
  data: JsonValue;
}

/**
 * The PostgreSQL inbox's changes to what users already hold: collapse, update,
 * retract, expiry, archive, preferences. A change that users must learn of in
 * catch-up writes a `changes` row per user, with a seq from `notification_seq`
 * taken under the append lock (append.ts explains why: commit order is seq
 * order, so a reader past a seq never later finds a lower one committed).
 */
export class PostgresChanges {
  constructor(
    private readonly db: PgDatabase,
    private readonly appendLockKey: number,
  ) {}

  async collapse(input: CollapseInput, now: number): Promise<CollapseResult> {
    return this.db.transaction('collapse', async (client) => {
      await this.lock(client);
      const { rows: heads } = await client.query<{ user_id: string; seq: number; actors: JsonValue[]; count: number; pushes: number; id: string; live: boolean }>(
        `SELECT g.user_id, g.seq, g.actors, g.count, g.pushes, n.id,
                EXISTS (SELECT 1 FROM deliveries d WHERE d.user_id = g.user_id AND d.seq = g.seq AND NOT d.read AND NOT d.archived) AS live
           FROM collapse_groups g JOIN notifications n ON n.seq = g.seq
          WHERE g.user_id = ANY($1::text[]) AND g.collapse_key = $2 AND g.seq <> $3::bigint`,
        [input.userIds, input.collapseKey, input.seq],
      );
      const byUser = new Map(heads.map((h) => [h.user_id, h]));
      let seq = 0;
      const result: CollapseResult = { users: [] };
      for (const userId of input.userIds) {
        const head = byUser.get(userId);
        let prev: StoredGroup | null = null;
        const replaces: string[] = [];
        // Only an unread item in the inbox is merged into; after a read one a new group starts.
        if (head?.live) {
          await this.removeDelivery(client, userId, head.seq);
          seq ||= await this.nextSeq(client);
          await this.insertChange(client, [userId], seq, 'remove', head.id, 'collapsed', now);
          replaces.push(head.id);
          prev = { actors: head.actors, count: head.count, pushes: head.pushes };
        }
        const group = mergeGroup(prev, input.actor);
        await client.query(
          `INSERT INTO collapse_groups (user_id, collapse_key, seq, actors, count, pushes) VALUES ($1, $2, $3, $4::json, $5, $6)
           ON CONFLICT (user_id, collapse_key) DO UPDATE SET seq = EXCLUDED.seq, actors = EXCLUDED.actors, count = EXCLUDED.count, pushes = EXCLUDED.pushes`,
          [userId, input.collapseKey, input.seq, JSON.stringify(group.actors), group.count, group.pushes],
        );
        result.users.push({ userId, group: wireGroup(group), replaces });
      }
      return result;
    });
  }

  async update(id: string, patch: NotificationPatch, now: number): Promise<UpdateResult | null> {
    return this.db.transaction('update', async (client) => {
      await this.lock(client);
      const n = await this.byId(client, id);
      if (!n) return null;
      const entityType = patch.entityType ?? n.entity_type;
      const data = patch.data !== undefined ? patch.data : n.data;
      await client.query('UPDATE notifications SET entity_type = $1, data = $2::json WHERE seq = $3', [entityType, JSON.stringify(data), n.seq]);
      const holders = await this.holders(client, n.seq, undefined);
      const seq = holders.length > 0 ? await this.nextSeq(client) : 0;
      await this.insertChange(client, holders, seq, 'update', id, null, now);
      const recounted: UpdateResult['recounted'] = [];
      if (entityType !== n.entity_type && holders.length > 0) {
        // Only a holder who mutes the old type or the new one counts the item differently now.
        const { rows } = await client.query<{ user_id: string }>(
          `SELECT user_id FROM preferences p WHERE user_id = ANY($1::text[])
             AND EXISTS (SELECT 1 FROM json_array_elements_text(p.muted) m WHERE m IN ($2, $3))
           ORDER BY user_id COLLATE "C"`,
          [holders, entityType, n.entity_type],
        );
        for (const { user_id: userId } of rows) recounted.push({ userId, unread: (await summaryOf(client, userId)).unread });
      }
      return { seq, notification: { id, entityType, data }, userIds: holders, recounted };
    });
  }

  async retract(id: string, userId: string | undefined, now: number): Promise<RemoveResult | null> {
    return this.db.transaction('retract', async (client) => {
      await this.lock(client);
      const n = await this.byId(client, id);
      return n ? this.remove(client, n, userId, 'retracted', now) : null;
    });
  }

  async expireDue(now: number, max: number): Promise<RemoveResult[]> {
    // Every node asks every second: without anything due, no transaction and no append lock.
    const { rows: due } = await this.db.query('expireDue', 'SELECT 1 FROM notifications WHERE expires_at IS NOT NULL AND expires_at <= $1 LIMIT 1', [now]);
    if (due.length === 0) return [];
    return this.db.transaction('expireDue', async (client) => {
      await this.lock(client);
      // Clearing expires_at takes each one off the list, so two nodes never expire one twice.
      const { rows } = await client.query<NotificationRow>(
        `UPDATE notifications SET expires_at = NULL WHERE seq IN (
           SELECT seq FROM notifications WHERE expires_at IS NOT NULL AND expires_at <= $1 ORDER BY expires_at LIMIT $2::int)
         RETURNING seq, id, entity_type, data`,
        [now, max],
      );
      const results: RemoveResult[] = [];
      for (const n of rows) {
        const removed = await this.remove(client, n, undefined, 'expired', now);
        if (removed.users.length > 0) results.push(removed);
      }
      return results;
    });
  }

  async archive(userId: string, ids: string[], archived: boolean): Promise<ArchiveState> {
    return this.db.transaction('archive', async (client) => {
      const { rows } = await client.query<{ id: string }>(
        `UPDATE deliveries d SET archived = $3 FROM notifications n
          WHERE n.seq = d.seq AND d.user_id = $1 AND d.archived <> $3 AND n.id = ANY($2::text[]) RETURNING n.id`,
        [userId, ids, archived],
      );
      const summary = await summaryOf(client, userId);
      return { ids: rows.map((r) => r.id), archived, ...summary };
    });
  }

  async preferences(userId: string): Promise<Preferences> {
    const { rows } = await this.db.query<{ muted: string[] }>('preferences', 'SELECT muted FROM preferences WHERE user_id = $1', [userId]);
    return { mutedTypes: rows[0]?.muted ?? [] };
  }

  async setPreferences(userId: string, prefs: Preferences): Promise<Preferences> {
    await this.db.query(
      'setPreferences',
      'INSERT INTO preferences (user_id, muted) VALUES ($1, $2::json) ON CONFLICT (user_id) DO UPDATE SET muted = EXCLUDED.muted',
      [userId, JSON.stringify(prefs.mutedTypes)],
    );
    return prefs;
  }

  /** Removes `n` from `userId` (every holder when undefined), with one change seq for all. */
  private async remove(client: pg.PoolClient, n: NotificationRow, userId: string | undefined, reason: RemoveReason, now: number): Promise<RemoveResult> {
    const holders = await this.holders(client, n.seq, userId);
    if (holders.length === 0) return { id: n.id, seq: 0, users: [] };
    const seq = await this.nextSeq(client);
    await client.query('DELETE FROM deliveries WHERE seq = $1 AND user_id = ANY($2::text[])', [n.seq, holders]);
    await client.query('DELETE FROM escalations WHERE seq = $1 AND user_id = ANY($2::text[])', [n.seq, holders]);
    await client.query('DELETE FROM collapse_groups WHERE seq = $1 AND user_id = ANY($2::text[])', [n.seq, holders]);
    await this.insertChange(client, holders, seq, 'remove', n.id, reason, now);
    const users = [];
    for (const u of holders) users.push({ userId: u, unread: (await summaryOf(client, u)).unread });
    return { id: n.id, seq, users };
  }

  private async removeDelivery(client: pg.PoolClient, userId: string, seq: number): Promise<void> {
    await client.query('DELETE FROM deliveries WHERE user_id = $1 AND seq = $2', [userId, seq]);
    await client.query('DELETE FROM escalations WHERE user_id = $1 AND seq = $2', [userId, seq]);
  }

  /** Who holds the notification of `seq` (only `userId`, when given), in byte order, locked. */
  private async holders(client: pg.PoolClient, seq: number, userId: string | undefined): Promise<string[]> {
    const { rows } = await client.query<{ user_id: string }>(
      `SELECT user_id FROM deliveries WHERE seq = $1 AND ($2::text IS NULL OR user_id = $2) ORDER BY user_id COLLATE "C" FOR UPDATE`,
      [seq, userId ?? null],
    );
    return rows.map((r) => r.user_id);
  }

  private async insertChange(
    client: pg.PoolClient,
    userIds: string[],
    seq: number,
    kind: 'update' | 'remove',
    target: string,
    reason: RemoveReason | null,
    now: number,
  ): Promise<void> {
    if (userIds.length === 0) return;
    await client.query(
      'INSERT INTO changes (user_id, seq, kind, target, reason, created_at) SELECT u, $2, $3, $4, $5, $6 FROM unnest($1::text[]) AS u',
      [userIds, seq, kind, target, reason, now],
    );
  }

  private async byId(client: pg.PoolClient, id: string): Promise<NotificationRow | undefined> {
    const { rows } = await client.query<NotificationRow>('SELECT seq, id, entity_type, data FROM notifications WHERE id = $1 FOR UPDATE', [id]);
    return rows[0];
  }

  private async nextSeq(client: pg.PoolClient): Promise<number> {
    const { rows } = await client.query<{ seq: string }>("SELECT nextval('notification_seq') AS seq");
    return Number(rows[0]?.seq);
  }

  private async lock(client: pg.PoolClient): Promise<void> {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [APPEND_LOCK_CLASS, this.appendLockKey]);
  }
}
