import 'server-only';
import type pg from 'pg';
import { withTransaction } from './pool';

/** Guards migrations, so nodes booting at once against an empty database take turns. */
const MIGRATION_LOCK_KEY = 0x4845_5244; // "HERD"
/** What `schema` may be: it is written into SQL and the connection's search_path. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Schema versions, applied in order inside one transaction under the migration
 * lock. Never edit a released one: add the next.
 */
const MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
      -- CACHE 1 (the default) matters: a per-session cache would hand out seqs out of order.
      CREATE SEQUENCE notification_seq AS BIGINT CACHE 1;
      CREATE TABLE notifications (
        seq BIGINT PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        entity_type TEXT NOT NULL,
        -- json, not jsonb: kept byte for byte (key order, lone surrogates) as the backend sent it.
        data JSON NOT NULL,
        created_at BIGINT NOT NULL
      );
      CREATE INDEX notifications_created_at ON notifications (created_at);
      CREATE TABLE deliveries (
        user_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        read BOOLEAN NOT NULL DEFAULT false,
        PRIMARY KEY (user_id, seq)
      );
      CREATE INDEX deliveries_seq ON deliveries (seq);
      CREATE INDEX deliveries_unread ON deliveries (user_id, seq) WHERE NOT read;
      CREATE TABLE idempotency (
        key TEXT PRIMARY KEY,
        body_hash TEXT NOT NULL,
        notification_id TEXT NOT NULL,
        recipients INTEGER NOT NULL,
        response JSON,
        created_at BIGINT NOT NULL
      );
      CREATE INDEX idempotency_created_at ON idempotency (created_at);
      CREATE TABLE user_state (
        user_id TEXT PRIMARY KEY,
        pruned_through BIGINT NOT NULL DEFAULT 0
      );
      CREATE TABLE meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
    `,
  },
  {
    // Receipts per (notification, recipient), how far each user's cumulative acks
    // reached, the webhook outbox and the escalations due (lib/webhooks).
    version: 2,
    sql: `
      ALTER TABLE user_state ADD COLUMN delivered_through BIGINT NOT NULL DEFAULT 0;
      -- Retention deletes notifications; their receipts and escalations go with them (CASCADE).
      CREATE TABLE receipts (
        seq BIGINT NOT NULL REFERENCES notifications (seq) ON DELETE CASCADE,
        user_id TEXT NOT NULL,
        delivered_at BIGINT,
        seen_at BIGINT,
        read_at BIGINT,
        PRIMARY KEY (seq, user_id)
      );
      CREATE TABLE outbox_events (id BIGSERIAL PRIMARY KEY, event TEXT NOT NULL);
      CREATE TABLE outbox_batches (
        id TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        events INTEGER NOT NULL,
        created_at BIGINT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at BIGINT NOT NULL,
        lease_until BIGINT NOT NULL DEFAULT 0,
        lease_owner TEXT,
        state TEXT NOT NULL DEFAULT 'pending',
        last_error TEXT
      );
      CREATE INDEX outbox_batches_due ON outbox_batches (state, next_at);
      CREATE TABLE escalations (
        seq BIGINT NOT NULL REFERENCES notifications (seq) ON DELETE CASCADE,
        user_id TEXT NOT NULL,
        due_at BIGINT NOT NULL,
        unless TEXT NOT NULL,
        PRIMARY KEY (seq, user_id)
      );
      CREATE INDEX escalations_due ON escalations (due_at);
    `,
  },
  {
    // Notifications that change: collapse groups, the change log (seqs from
    // notification_seq), archive, expiry, priority, preferences (lib/inbox/postgres/changes.ts).
    version: 3,
    sql: `
      ALTER TABLE notifications ADD COLUMN collapse_key TEXT, ADD COLUMN expires_at BIGINT, ADD COLUMN priority TEXT;
      CREATE INDEX notifications_expiry ON notifications (expires_at) WHERE expires_at IS NOT NULL;
      ALTER TABLE deliveries ADD COLUMN archived BOOLEAN NOT NULL DEFAULT false;
      CREATE TABLE changes (
        user_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        reason TEXT,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (user_id, seq)
      );
      CREATE INDEX changes_created_at ON changes (created_at);
      CREATE TABLE collapse_groups (
        user_id TEXT NOT NULL,
        collapse_key TEXT NOT NULL,
        seq BIGINT NOT NULL,
        actors JSON NOT NULL,
        count INTEGER NOT NULL,
        pushes INTEGER NOT NULL,
        PRIMARY KEY (user_id, collapse_key)
      );
      CREATE TABLE preferences (user_id TEXT PRIMARY KEY, muted JSON NOT NULL);
    `,
  },
];

/** Creates `schema` if it is missing and applies the migrations it lacks (safely when several nodes boot at once). */
export async function migrate(pool: pg.Pool, schema: string | undefined): Promise<void> {
  await withTransaction(pool, async (client) => {
    // Nodes booting at once queue here; the first creates everything, the others find it done.
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(
      'CREATE TABLE IF NOT EXISTS herald_schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ v: number }>('SELECT COALESCE(MAX(version), 0) AS v FROM herald_schema_version');
    const current = rows[0]?.v ?? 0;
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO herald_schema_version (version) VALUES ($1)', [m.version]);
    }
  });
}
