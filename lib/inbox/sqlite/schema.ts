import 'server-only';
import type Database from 'better-sqlite3';

/**
 * The SQLite inbox's schema, created or upgraded in place by the main thread when
 * it opens the file, before the writer starts. Version 3: the fan-out log
 * (`fanout`), each notification's count of holders, no index on deliveries by seq
 * (sqlite/writer/retention.ts says why). Version 4: receipts, each notification's
 * recipients (for its status), the webhook outbox and the escalations due.
 * Version 5: notifications that change (collapse groups, the change log,
 * archive, expiry, priority, preferences).
 */
const SCHEMA_VERSION = 5;

/** Brings the database to SCHEMA_VERSION in one transaction. */
export function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version >= SCHEMA_VERSION) return;
  db.transaction(() => {
    if (version === 0) createSchema(db);
    else if (version < 3) upgradeSchema(db);
    if (version < 4) addReceipts(db);
    addChanges(db);
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

/**
 * Schema 4, on a new file or an old one:
 * - `notifications.recipients`: the JSON array of user ids a push named, so its
 *   status lists them without an index of deliveries by seq (NULL before 4);
 * - `receipts`: one row per (notification, recipient) once a state is reached;
 * - `user_state.delivered_through`: how far the user's cumulative acks reached,
 *   so the next one looks only above it;
 * - `outbox_events` and `outbox_batches`: the webhook outbox (lib/webhooks);
 * - `escalations`: one row per recipient of a push with `escalate`, until due;
 * - a trigger that deletes a notification's receipts and escalations with it.
 */
function addReceipts(db: Database.Database): void {
  db.exec(`
    ALTER TABLE notifications ADD COLUMN recipients TEXT;
    ALTER TABLE user_state ADD COLUMN delivered_through INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE receipts (
      seq INTEGER NOT NULL,
      user_id TEXT NOT NULL,
      delivered_at INTEGER,
      seen_at INTEGER,
      read_at INTEGER,
      PRIMARY KEY (seq, user_id)
    ) WITHOUT ROWID;
    CREATE TABLE outbox_events (id INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT NOT NULL);
    CREATE TABLE outbox_batches (
      id TEXT PRIMARY KEY,
      body TEXT NOT NULL,
      events INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      next_at INTEGER NOT NULL,
      lease_until INTEGER NOT NULL DEFAULT 0,
      state TEXT NOT NULL DEFAULT 'pending',
      last_error TEXT
    );
    CREATE INDEX outbox_batches_due ON outbox_batches (state, next_at);
    CREATE TABLE escalations (
      seq INTEGER NOT NULL,
      user_id TEXT NOT NULL,
      due_at INTEGER NOT NULL,
      unless TEXT NOT NULL,
      PRIMARY KEY (seq, user_id)
    ) WITHOUT ROWID;
    CREATE INDEX escalations_due ON escalations (due_at);
    -- Retention deletes notifications; their receipts and escalations go with them.
    CREATE TRIGGER notifications_gone AFTER DELETE ON notifications BEGIN
      DELETE FROM receipts WHERE seq = OLD.seq;
      DELETE FROM escalations WHERE seq = OLD.seq;
    END;
  `);
}

/**
 * Schema 5:
 * - `notifications.collapse_key`, `expires_at` (ms) and `priority`, with an
 *   index of what expires;
 * - `deliveries.archived`;
 * - `changes`: one row per (user, change) — an update or a removal — with the
 *   change's seq from the notifications' own sequence, replayed in catch-up;
 * - `collapse_groups`: each user's current group per collapse key (its head's
 *   seq and its actors, JSON);
 * - `preferences`: each user's muted entity types (JSON).
 */
function addChanges(db: Database.Database): void {
  db.exec(`
    ALTER TABLE notifications ADD COLUMN collapse_key TEXT;
    ALTER TABLE notifications ADD COLUMN expires_at INTEGER;
    ALTER TABLE notifications ADD COLUMN priority TEXT;
    CREATE INDEX notifications_expiry ON notifications (expires_at) WHERE expires_at IS NOT NULL;
    ALTER TABLE deliveries ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE changes (
      user_id TEXT NOT NULL,
      seq INTEGER NOT NULL,
      kind TEXT NOT NULL,
      target TEXT NOT NULL,
      reason TEXT,
      created_at INTEGER NOT NULL,
      PRIMARY KEY (user_id, seq)
    ) WITHOUT ROWID;
    CREATE INDEX changes_created_at ON changes (created_at);
    CREATE TABLE collapse_groups (
      user_id TEXT NOT NULL,
      collapse_key TEXT NOT NULL,
      seq INTEGER NOT NULL,
      actors TEXT NOT NULL,
      count INTEGER NOT NULL,
      pushes INTEGER NOT NULL,
      PRIMARY KEY (user_id, collapse_key)
    ) WITHOUT ROWID;
    CREATE TABLE preferences (user_id TEXT PRIMARY KEY, muted TEXT NOT NULL) WITHOUT ROWID;
  `);
}
