import 'server-only';
import type Database from 'better-sqlite3';

/**
 * The SQLite inbox's schema, created or upgraded in place by the main thread when
 * it opens the file, before the writer starts. Version 3: the fan-out log
 * (`fanout`), each notification's count of holders, no index on deliveries by seq
 * (sqlite/writer/retention.ts says why).
 */
const SCHEMA_VERSION = 3;

/** Brings the database to SCHEMA_VERSION in one transaction. */
export function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version >= SCHEMA_VERSION) return;
  db.transaction(() => {
    if (version === 0) createSchema(db);
    else upgradeSchema(db);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}

function createSchema(db: Database.Database): void {
  db.exec(`
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
function upgradeSchema(db: Database.Database): void {
  db.exec(`
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
