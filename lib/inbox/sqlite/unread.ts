import type Database from 'better-sqlite3';

/**
 * The unread count as the badge shows it, on either of the SQLite inbox's
 * connections: merged deliveries not read, not archived, and not of a type the
 * user muted. Without mutes it never touches `notifications`.
 */
export class UnreadCounter {
  private readonly stmt;

  constructor(db: Database.Database) {
    this.stmt = {
      muted: db.prepare('SELECT muted FROM preferences WHERE user_id = ?'),
      headSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) AS head FROM deliveries WHERE user_id = ?'),
      plain: db.prepare('SELECT COUNT(*) AS n FROM deliveries WHERE user_id = ? AND read = 0 AND archived = 0'),
      unmuted: db.prepare(
        `SELECT COUNT(*) AS n FROM deliveries d JOIN notifications n ON n.seq = d.seq
          WHERE d.user_id = ? AND d.read = 0 AND d.archived = 0 AND n.entity_type NOT IN (SELECT value FROM json_each(?))`,
      ),
    };
  }

  /** The user's muted entity types. */
  muted(userId: string): string[] {
    const row = this.stmt.muted.get(userId) as { muted: string } | undefined;
    return row ? (JSON.parse(row.muted) as string[]) : [];
  }

  /** The unread count and the user's highest seq, of merged rows: the writer's answers, read inside its transactions after merging the user. */
  summary(userId: string): { unread: number; headSeq: number } {
    return { unread: this.count(userId), headSeq: (this.stmt.headSeq.get(userId) as { head: number }).head };
  }

  /** Merged rows only: the caller adds what is pending (always unread, never archived). */
  count(userId: string, muted: readonly string[] = this.muted(userId)): number {
    const row = (muted.length === 0 ? this.stmt.plain.get(userId) : this.stmt.unmuted.get(userId, JSON.stringify(muted))) as { n: number };
    return row.n;
  }
}
