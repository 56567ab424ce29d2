import { setImmediate as yieldToLoop } from 'node:timers/promises';
import pg from 'pg';
import { IdempotencyConflictError, InboxUnavailableError } from '../errors';
import type { JsonValue, ListPage, ReadState, WireNotification } from '../contract';
import {
  IDEMPOTENCY_WINDOW_MS,
  type AppendInput,
  type AppendResult,
  type Inbox,
  type InboxOptions,
  type SinceResult,
  type SweepResult,
} from './types';

/**
 * The cluster inbox: PostgreSQL shared by every Herald node. Same model and
 * semantics as the SQLite inbox (lib/inbox/sqlite.ts): one notification row
 * per push with a seq from one sequence shared by all users, one delivery row
 * per recipient with its read flag, group commit of appends, idempotency
 * decided inside the write transaction, retention watermarks for `since`.
 *
 * Ordering across nodes. Seqs come from a sequence, and a sequence hands out
 * numbers in call order, not commit order: without more care, node A could take
 * seq 10, node B seq 11, B commit first, and a reader see 11, move its cursor
 * past 10, and never see 10 when A commits. Each append batch therefore takes a
 * transaction-scoped advisory lock before it allocates seqs, and holds it to
 * COMMIT; PostgreSQL makes a commit visible before it releases the
 * transaction's locks, so the next batch (from any node) allocates higher seqs
 * only after every lower one is visible. Commit order equals seq order, and a
 * reader who has seen seq N never later finds a committed seq below N.
 *
 * The cost: appends are serialized cluster-wide, one batch transaction at a
 * time (about five round trips and one WAL flush each). Group commit is what
 * makes this affordable: each node puts everything queued in one event-loop
 * turn, or while its previous batch was in flight, into one transaction with
 * multi-row INSERTs, so under load a batch carries hundreds of appends and the
 * lock is taken once per batch, not per push. Readers never take the lock and
 * are never blocked by it. The alternative (let writers race and make readers
 * stop below the oldest seq still in flight) costs every read instead, and is
 * far harder to get right. The same lock also makes idempotency checks exact
 * across nodes: two nodes cannot both decide a key is new.
 */

/** Most appends committed in one transaction. */
const MAX_BATCH = 512;
/** Most delivery rows written in one transaction (a push has up to 1000 recipients). */
const MAX_BATCH_DELIVERIES = 20_000;
/** Rows deleted per retention step before yielding to the event loop. */
const SWEEP_CHUNK = 1000;
/** Connections per node. Appends use one at a time; the rest serve reads. */
const POOL_SIZE = 10;
/** An unreachable database must fail a request fast (503), never hang it. */
const CONNECT_TIMEOUT_MS = 2000;
/** Server-side cap on one statement, including the wait for the append lock. */
const STATEMENT_TIMEOUT_MS = 5000;
/**
 * Client-side cap on one query: catches a server (or network) that stopped answering
 * on an open connection. A little above the server's cap, so a slow statement is
 * cancelled cleanly by the server first.
 */
const QUERY_TIMEOUT_MS = 5500;
/** A node that dies inside a transaction must not hold the append lock for long. */
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000;
/** Guards migrations, so nodes booting at once against an empty database take turns. */
const MIGRATION_LOCK_KEY = 0x4845_5244; // "HERD"
/** First half of the append lock; the second half is derived from the schema. */
const APPEND_LOCK_CLASS = 0x4845_5241; // "HERA"
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const PG_INT8_OID = 20;

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
];

interface Row {
  seq: number;
  id: string;
  entity_type: string;
  data: JsonValue;
  created_at: number;
  read: boolean;
}

interface Pending {
  input: AppendInput;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

interface IdemRow {
  body_hash: string;
  notification_id: string;
  recipients: number;
  response: { id: string; recipients: number; online: number } | null;
  created_at: number;
}

const ROW_COLUMNS = 'n.seq, n.id, n.entity_type, n.data, n.created_at, d.read';

const toWire = (row: Row): WireNotification => ({
  id: row.id,
  seq: row.seq,
  entityType: row.entity_type,
  data: row.data,
  createdAt: new Date(row.created_at).toISOString(),
  read: row.read,
});

/** BIGINT as a JS number: seqs, counts and milliseconds all stay far below 2^53. */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`BIGINT ${text} does not fit a JS number`);
  return n;
}

const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === PG_INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** FNV-1a, as a signed 32-bit integer: the schema's half of the append lock key. */
function lockKeyOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity): the rows, not the database, are at fault. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

function unavailable(what: string, err: unknown): InboxUnavailableError {
  if (err instanceof InboxUnavailableError) return err;
  return new InboxUnavailableError(`inbox ${what} failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/**
 * Connects, migrates (safely when several nodes boot at once) and returns the
 * inbox. `schema` puts every table in that schema (created if missing); tests
 * use a fresh one each.
 */
export async function openPostgresInbox(
  databaseUrl: string,
  opts: InboxOptions & { schema?: string },
): Promise<PostgresInbox> {
  const { schema, ...inboxOpts } = opts;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid schema name "${schema}": use lower-case letters, digits and _`);
  }
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
    keepAlive: true,
    // Names the schema too, so an operator (or a test) can tell the pools apart in pg_stat_activity.
    application_name: schema !== undefined ? `herald/${schema}` : 'herald',
    types,
    // Startup parameters, so they hold on every connection of the pool: a 202 means the
    // push is on disk even if the server's default says otherwise, and tables resolve in `schema`.
    options: ['-c synchronous_commit=on', ...(schema !== undefined ? [`-c search_path=${schema}`] : [])].join(' '),
  });
  // An idle connection that breaks (database restart, network cut) is dropped by
  // the pool and replaced on next use; without a listener it would crash the process.
  pool.on('error', () => undefined);
  try {
    await migrate(pool, schema);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw unavailable('migration', err);
  }
  return new PostgresInbox(pool, inboxOpts, lockKeyOf(schema ?? ''));
}

async function migrate(pool: pg.Pool, schema: string | undefined): Promise<void> {
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

/** Runs `fn` in a transaction on one pooled connection; a connection that failed is discarded, not reused. */
async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A checked-out connection has no pool listener: an error between queries must not crash the process.
  const onError = () => undefined;
  client.on('error', onError);
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    if (err instanceof pg.DatabaseError) {
      // The server refused a statement; the connection is fine once rolled back.
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
    } else {
      // Timeout or network failure: the connection cannot be trusted (nor waited on for a
      // ROLLBACK). Destroying it makes the server abort the transaction and free its locks.
      broken = true;
    }
    throw err;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}

export class PostgresInbox implements Inbox {
  readonly kind = 'postgres' as const;
  private queue: Pending[] = [];
  /** Set while a flush is scheduled or running; resolves when the queue is drained. */
  private flushing: Promise<void> | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;
  /** Users who received something on this node since its last sweep: only they can be over the cap. */
  private touched = new Set<string>();
  private firstSweep = true;
  /** The sweep in progress on this instance, if any: the next one waits for it. */
  private sweeping: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly pool: pg.Pool,
    private readonly opts: InboxOptions,
    private readonly appendLockKey: number,
  ) {}

  // -------------------------------------------------------------------------
  // Appends (group commit)
  // -------------------------------------------------------------------------
  append(input: AppendInput): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new InboxUnavailableError('inbox is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.scheduleFlush();
    });
  }

  /** One flusher at a time: what arrives while a batch is in flight waits and goes in the next one. */
  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = new Promise<void>((done) => {
      // setImmediate, not a timer: the first batch is whatever arrived in this turn of the loop.
      setImmediate(() => {
        void this.flushAll().finally(() => {
          this.flushing = null;
          done();
          // An append made between the last batch and this point must not be stranded.
          if (this.queue.length > 0) this.scheduleFlush();
        });
      });
    });
  }

  private async flushAll(): Promise<void> {
    while (this.queue.length > 0) {
      let take = 0;
      let deliveries = 0;
      for (const p of this.queue) {
        if (take >= MAX_BATCH || (take > 0 && deliveries + p.input.userIds.length > MAX_BATCH_DELIVERIES)) break;
        take++;
        deliveries += p.input.userIds.length;
      }
      await this.commit(this.queue.splice(0, take));
    }
  }

  /** Commits one batch and settles its promises. A bad row is retried alone so it fails only its own append. */
  private async commit(batch: Pending[]): Promise<void> {
    let outcomes: Array<AppendResult | Error>;
    const started = Date.now();
    try {
      outcomes = await withTransaction(this.pool, (client) => this.appendBatch(client, batch));
    } catch (err) {
      if (batch.length > 1 && isDataError(err)) {
        for (const p of batch) await this.commit([p]);
        return;
      }
      const failure = unavailable('write', err);
      for (const p of batch) p.reject(failure);
      // A batch that failed by timing out (no connection in CONNECT_TIMEOUT_MS, or a
      // connection that went silent until QUERY_TIMEOUT_MS) means the database is
      // unreachable. What queued behind it has already waited that long and would
      // wait as long again on the next (equally dead) pooled connection: up to twice
      // the timeout before its 503 (cluster test: postgres-outage, silent network).
      // None of it was written, so it fails now.
      if (!(err instanceof pg.DatabaseError) && Date.now() - started >= CONNECT_TIMEOUT_MS) {
        for (const p of this.queue.splice(0)) p.reject(failure);
      }
      return;
    }
    batch.forEach((p, i) => {
      const outcome = outcomes[i];
      if (outcome instanceof Error) p.reject(outcome);
      else if (outcome) p.resolve(outcome);
    });
    for (const p of batch) for (const u of p.input.userIds) this.touched.add(u);
  }

  /**
   * Runs inside the batch transaction. Decides each append in queue order, as the
   * SQLite inbox does one by one, then writes all stored ones with one statement.
   * Conflicts are returned, not thrown, so they roll back nothing else.
   */
  private async appendBatch(client: pg.PoolClient, batch: Pending[]): Promise<Array<AppendResult | Error>> {
    // Taken before anything is read: from here to COMMIT this batch is alone (see the top of the file).
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [APPEND_LOCK_CLASS, this.appendLockKey]);

    const keys = [...new Set(batch.flatMap((p) => (p.input.idempotency ? [p.input.idempotency.key] : [])))];
    const ids = [...new Set(batch.map((p) => p.input.id))];
    const { rows: found } = await client.query<IdemRow & { kind: 'id' | 'key'; key: string }>(
      `SELECT 'id' AS kind, id AS key, NULL AS body_hash, NULL AS notification_id, NULL::int AS recipients,
              NULL::json AS response, NULL::bigint AS created_at
         FROM notifications WHERE id = ANY($1::text[])
       UNION ALL
       SELECT 'key', key, body_hash, notification_id, recipients, response, created_at
         FROM idempotency WHERE key = ANY($2::text[])`,
      [ids, keys],
    );
    const idsInUse = new Set(found.filter((r) => r.kind === 'id').map((r) => r.key));
    const priorByKey = new Map<string, IdemRow>(found.filter((r) => r.kind === 'key').map((r) => [r.key, r]));

    const outcomes: Array<AppendResult | Error | { toStore: AppendInput; userIds: string[] }> = batch.map(({ input }) => {
      const { idempotency } = input;
      if (idempotency) {
        const prior = priorByKey.get(idempotency.key);
        if (prior && prior.created_at > input.createdAt - IDEMPOTENCY_WINDOW_MS) {
          if (prior.body_hash !== idempotency.bodyHash) {
            return new IdempotencyConflictError('this idempotency key was used with a different body');
          }
          return { status: 'duplicate', id: prior.notification_id, recipients: prior.recipients, response: prior.response };
        }
        // An expired key is overwritten by the upsert below if this append is stored.
      }
      if (idsInUse.has(input.id)) return new IdempotencyConflictError(`notification id "${input.id}" is already in use`);
      // A user named twice gets one delivery.
      const userIds = [...new Set(input.userIds)];
      idsInUse.add(input.id);
      if (idempotency) {
        priorByKey.set(idempotency.key, {
          body_hash: idempotency.bodyHash,
          notification_id: input.id,
          recipients: userIds.length,
          response: null,
          created_at: input.createdAt,
        });
      }
      return { toStore: input, userIds };
    });

    const toStore = outcomes.flatMap((o, i) => ('toStore' in o ? [{ i, ...o }] : []));
    if (toStore.length === 0) return outcomes as Array<AppendResult | Error>;

    // nextval hands out ascending numbers; sorting them gives queue order to seq order.
    const { rows: seqRows } = await client.query<{ seq: number }>(
      "SELECT nextval('notification_seq') AS seq FROM generate_series(1, $1::int)",
      [toStore.length],
    );
    const seqs = seqRows.map((r) => r.seq).sort((a, b) => a - b);

    const n = { seq: [] as number[], id: [] as string[], type: [] as string[], data: [] as string[], at: [] as number[] };
    const d = { user: [] as string[], seq: [] as number[] };
    const k = { key: [] as string[], hash: [] as string[], id: [] as string[], recipients: [] as number[], at: [] as number[] };
    toStore.forEach(({ i, toStore: input, userIds }, j) => {
      const seq = seqs[j] as number;
      n.seq.push(seq);
      n.id.push(input.id);
      n.type.push(input.entityType);
      n.data.push(JSON.stringify(input.data));
      n.at.push(input.createdAt);
      for (const u of userIds) {
        d.user.push(u);
        d.seq.push(seq);
      }
      if (input.idempotency) {
        k.key.push(input.idempotency.key);
        k.hash.push(input.idempotency.bodyHash);
        k.id.push(input.id);
        k.recipients.push(userIds.length);
        k.at.push(input.createdAt);
      }
      outcomes[i] = {
        status: 'stored',
        notification: {
          id: input.id,
          seq,
          entityType: input.entityType,
          data: input.data,
          createdAt: new Date(input.createdAt).toISOString(),
          read: false,
        },
      };
    });

    await client.query(
      `WITH n AS (
         INSERT INTO notifications (seq, id, entity_type, data, created_at)
         SELECT s, i, t, j::json, a FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[]) AS x(s, i, t, j, a)
       ), d AS (
         INSERT INTO deliveries (user_id, seq) SELECT * FROM unnest($6::text[], $7::bigint[])
       )
       INSERT INTO idempotency (key, body_hash, notification_id, recipients, response, created_at)
       SELECT k, h, i, r, NULL, a FROM unnest($8::text[], $9::text[], $10::text[], $11::int[], $12::bigint[]) AS y(k, h, i, r, a)
       ON CONFLICT (key) DO UPDATE SET body_hash = EXCLUDED.body_hash, notification_id = EXCLUDED.notification_id,
         recipients = EXCLUDED.recipients, response = NULL, created_at = EXCLUDED.created_at`,
      [n.seq, n.id, n.type, n.data, n.at, d.user, d.seq, k.key, k.hash, k.id, k.recipients, k.at],
    );
    return outcomes as Array<AppendResult | Error>;
  }

  async saveResponse(key: string, response: { id: string; recipients: number; online: number }): Promise<void> {
    await this.query('saveResponse', 'UPDATE idempotency SET response = $1::json WHERE key = $2 AND response IS NULL', [
      JSON.stringify(response),
      key,
    ]);
  }

  // -------------------------------------------------------------------------
  // Reads
  // -------------------------------------------------------------------------
  async since(userId: string, afterSeq: number, limit: number): Promise<SinceResult> {
    // One statement, so the head, the watermarks and the rows come from one snapshot:
    // a sweep between them cannot turn a reset into a silent gap. The rows are not
    // even read when the client's position is below what retention removed.
    const { rows } = await this.query<Partial<Row> & { head: number; pruned: number }>(
      'since',
      `WITH w AS (
         SELECT (SELECT COALESCE(MAX(seq), 0) FROM deliveries WHERE user_id = $1) AS head,
                GREATEST(COALESCE((SELECT pruned_through FROM user_state WHERE user_id = $1), 0),
                         COALESCE((SELECT value FROM meta WHERE key = 'ttl_pruned_through'), 0)) AS pruned
       )
       SELECT w.head, w.pruned, r.* FROM w LEFT JOIN LATERAL (
         SELECT ${ROW_COLUMNS} FROM deliveries d JOIN notifications n ON n.seq = d.seq
          WHERE d.user_id = $1 AND d.seq > $2::bigint AND $2::bigint >= w.pruned
          ORDER BY d.seq ASC LIMIT $3::int
       ) r ON true
       ORDER BY r.seq ASC`,
      [userId, afterSeq, limit + 1],
    );
    const first = rows[0];
    const headSeq = first?.head ?? 0;
    if (!first || afterSeq < first.pruned) return { items: [], reset: true, headSeq };
    const items = rows.filter((r) => r.seq !== null && r.seq !== undefined) as Row[];
    if (items.length > limit) return { items: [], reset: true, headSeq };
    return { items: items.map(toWire), reset: false, headSeq };
  }

  async list(userId: string, opts: { before?: number; limit: number }): Promise<ListPage> {
    const before = opts.before ?? Number.MAX_SAFE_INTEGER;
    const { rows } = await this.query<Row>(
      'list',
      `SELECT ${ROW_COLUMNS} FROM deliveries d JOIN notifications n ON n.seq = d.seq
        WHERE d.user_id = $1 AND d.seq < $2::bigint ORDER BY d.seq DESC LIMIT $3::int`,
      [userId, before, opts.limit + 1],
    );
    const more = rows.length > opts.limit;
    const items = rows.slice(0, opts.limit).map(toWire);
    return { items, nextCursor: more ? (items[items.length - 1]?.seq ?? null) : null };
  }

  async summary(userId: string): Promise<{ unread: number; headSeq: number }> {
    const { rows } = await this.query<{ unread: number; head: number }>('summary', SUMMARY_SQL, [userId]);
    return { unread: rows[0]?.unread ?? 0, headSeq: rows[0]?.head ?? 0 };
  }

  // -------------------------------------------------------------------------
  // Read state
  // -------------------------------------------------------------------------
  async markRead(userId: string, ids: string[]): Promise<ReadState> {
    return this.transaction('markRead', async (client) => {
      // Rows are locked in seq order, as markAllRead does, so two tabs marking at once cannot deadlock.
      const { rows } = await client.query<{ id: string }>(
        `WITH target AS (
           SELECT d.seq, n.id FROM deliveries d JOIN notifications n ON n.seq = d.seq
            WHERE d.user_id = $1 AND NOT d.read AND n.id = ANY($2::text[])
            ORDER BY d.seq FOR UPDATE OF d
         )
         UPDATE deliveries d SET read = true FROM target t
          WHERE d.user_id = $1 AND d.seq = t.seq RETURNING t.id`,
        [userId, ids],
      );
      const summary = await summaryOf(client, userId);
      return { ...summary, readIds: rows.map((r) => r.id) };
    });
  }

  async markAllRead(userId: string): Promise<ReadState> {
    return this.transaction('markAllRead', async (client) => {
      await client.query(
        `WITH target AS (SELECT seq FROM deliveries WHERE user_id = $1 AND NOT read ORDER BY seq FOR UPDATE)
         UPDATE deliveries d SET read = true FROM target t WHERE d.user_id = $1 AND d.seq = t.seq`,
        [userId],
      );
      return { ...(await summaryOf(client, userId)), readIds: [], all: true };
    });
  }

  // -------------------------------------------------------------------------
  // Retention
  // -------------------------------------------------------------------------
  /**
   * Enforces retention in small steps: every statement touches at most
   * SWEEP_CHUNK rows (or users), each step is its own short transaction, and the
   * loop yields between steps, so neither delivery nor the statement timeout is
   * ever hit by a large table. Several nodes may sweep at once: deletions skip
   * rows another transaction holds (SKIP LOCKED), so sweepers never wait on each
   * other or on a read-state change, and watermarks only ever rise (GREATEST).
   * Calls on one instance run one after another.
   */
  sweep(now: number = Date.now()): Promise<SweepResult> {
    if (this.closed) return Promise.reject(new InboxUnavailableError('inbox is closed'));
    const run = this.sweeping.catch(() => undefined).then(() => this.sweepOnce(now));
    this.sweeping = run;
    return run;
  }

  private async sweepOnce(now: number): Promise<SweepResult> {
    this.guard();
    const result: SweepResult = { deliveriesDeleted: 0, notificationsDeleted: 0, idempotencyDeleted: 0 };

    // 1. Per-user cap: only users who received something can have grown past it
    //    (after a restart, any user can: the first sweep looks at all of them).
    const touched = this.touched;
    this.touched = new Set();
    let users: string[];
    try {
      users = this.firstSweep ? [...new Set([...(await this.usersOverCap()), ...touched])] : [...touched];
    } catch (err) {
      for (const u of touched) this.touched.add(u);
      throw err;
    }
    this.firstSweep = false;
    for (const [i, userId] of users.entries()) {
      try {
        await this.capUser(userId, result);
      } catch (err) {
        // Not lost: the users not yet done are looked at again next time.
        for (const u of users.slice(i)) this.touched.add(u);
        throw err;
      }
      await yieldToLoop();
    }

    // 2. Age: everything up to the newest seq created before the cutoff goes, for every user.
    const ttlCutoff = now - this.opts.ttlDays * 24 * 60 * 60 * 1000;
    const { rows: ttlRows } = await this.query<{ s: number | null }>(
      'sweep',
      'SELECT MAX(seq) AS s FROM notifications WHERE created_at < $1',
      [ttlCutoff],
    );
    const ttlSeq = ttlRows[0]?.s ?? null;
    if (ttlSeq !== null) {
      // Watermark first: while the chunks below are deleted, a client behind it is told to reset, never shown a gap.
      await this.query(
        'sweep',
        `INSERT INTO meta (key, value) VALUES ('ttl_pruned_through', $1)
         ON CONFLICT (key) DO UPDATE SET value = GREATEST(meta.value, EXCLUDED.value)`,
        [ttlSeq],
      );
      result.deliveriesDeleted += await this.deleteInChunks(
        `DELETE FROM deliveries WHERE (user_id, seq) IN (
           SELECT user_id, seq FROM deliveries WHERE seq <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
        [ttlSeq],
      );
      // Every notification up to the watermark has lost its deliveries now, save rows
      // skipped above (they go next time); this also catches any the cap step left behind.
      result.notificationsDeleted += await this.deleteInChunks(
        `DELETE FROM notifications WHERE seq IN (
           SELECT n.seq FROM notifications n
            WHERE n.seq <= $1 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.seq = n.seq)
            LIMIT $2 FOR UPDATE SKIP LOCKED)`,
        [ttlSeq],
      );
    }

    // 3. Idempotency keys past their window.
    result.idempotencyDeleted = await this.deleteInChunks(
      `DELETE FROM idempotency WHERE key IN (
         SELECT key FROM idempotency WHERE created_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [now - IDEMPOTENCY_WINDOW_MS],
    );
    return result;
  }

  /** Every user holding more than the cap, found a page of users at a time along the primary key. */
  private async usersOverCap(): Promise<string[]> {
    const over: string[] = [];
    let after: string | undefined;
    for (;;) {
      const { rows } = await this.query<{ user_id: string; n: number }>(
        'sweep',
        `SELECT user_id, COUNT(*) AS n FROM deliveries ${after === undefined ? 'WHERE $1::text IS NULL' : 'WHERE user_id > $1'}
          GROUP BY user_id ORDER BY user_id LIMIT $2`,
        [after ?? null, SWEEP_CHUNK],
      );
      for (const r of rows) if (r.n > this.opts.maxPerUser) over.push(r.user_id);
      if (rows.length < SWEEP_CHUNK) return over;
      after = rows[rows.length - 1]?.user_id;
      await yieldToLoop();
    }
  }

  /** Deletes all but the newest `maxPerUser` of one user's deliveries, and the notifications nobody holds any more. */
  private async capUser(userId: string, result: SweepResult): Promise<void> {
    // `cutoff` is the newest one that goes.
    const { rows } = await this.query<{ seq: number }>(
      'sweep',
      'SELECT seq FROM deliveries WHERE user_id = $1 ORDER BY seq DESC LIMIT 1 OFFSET $2',
      [userId, this.opts.maxPerUser],
    );
    const cutoff = rows[0]?.seq;
    if (cutoff === undefined) return;
    for (;;) {
      const { deliveries, notifications } = await this.transaction('sweep', async (client) => {
        const del = await client.query<{ seq: number }>(
          `DELETE FROM deliveries WHERE user_id = $1 AND seq IN (
             SELECT seq FROM deliveries WHERE user_id = $1 AND seq <= $2 LIMIT $3 FOR UPDATE SKIP LOCKED)
           RETURNING seq`,
          [userId, cutoff, SWEEP_CHUNK],
        );
        // The watermark commits with the deletion, so `since` never sees one without the other.
        await client.query(
          `INSERT INTO user_state (user_id, pruned_through) VALUES ($1, $2)
           ON CONFLICT (user_id) DO UPDATE SET pruned_through = GREATEST(user_state.pruned_through, EXCLUDED.pruned_through)`,
          [userId, cutoff],
        );
        // Only the notifications this step touched can have become orphans: no table scan.
        // (One that another sweeper is releasing at the same moment may survive; the age step takes it.)
        const orphans = await client.query(
          `DELETE FROM notifications n WHERE n.seq = ANY($1::bigint[])
              AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.seq = n.seq)`,
          [del.rows.map((r) => r.seq)],
        );
        return { deliveries: del.rowCount ?? 0, notifications: orphans.rowCount ?? 0 };
      });
      result.deliveriesDeleted += deliveries;
      result.notificationsDeleted += notifications;
      if (deliveries < SWEEP_CHUNK) return;
      await yieldToLoop();
    }
  }

  /** Runs a chunked DELETE (its last parameter is the chunk size) until a chunk comes back short. */
  private async deleteInChunks(sql: string, params: unknown[]): Promise<number> {
    let total = 0;
    for (;;) {
      const { rowCount } = await this.query('sweep', sql, [...params, SWEEP_CHUNK]);
      total += rowCount ?? 0;
      if ((rowCount ?? 0) < SWEEP_CHUNK) return total;
      await yieldToLoop();
    }
  }

  async ping(): Promise<void> {
    await this.query('ping', 'SELECT 1');
  }

  /** Commits what is already queued (it may be promised to a caller), then closes the pool. */
  close(): Promise<void> {
    this.closed = true;
    this.closing ??= (async () => {
      while (this.flushing) await this.flushing;
      await this.pool.end().catch(() => undefined);
    })();
    return this.closing;
  }

  // -------------------------------------------------------------------------
  // Plumbing: every database failure becomes InboxUnavailableError
  // -------------------------------------------------------------------------
  private guard(): void {
    if (this.closed) throw new InboxUnavailableError('inbox is closed');
  }

  private async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    what: string,
    sql: string,
    params: unknown[] = [],
  ): Promise<pg.QueryResult<R>> {
    this.guard();
    try {
      return await this.pool.query<R>(sql, params);
    } catch (err) {
      throw unavailable(what, err);
    }
  }

  private async transaction<T>(what: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    this.guard();
    try {
      return await withTransaction(this.pool, fn);
    } catch (err) {
      throw unavailable(what, err);
    }
  }
}

/** Both numbers in one statement, so from one snapshot. */
const SUMMARY_SQL = `SELECT (SELECT COUNT(*) FROM deliveries WHERE user_id = $1 AND NOT read) AS unread,
                            (SELECT COALESCE(MAX(seq), 0) FROM deliveries WHERE user_id = $1) AS head`;

async function summaryOf(client: pg.PoolClient, userId: string): Promise<{ unread: number; headSeq: number }> {
  const { rows } = await client.query<{ unread: number; head: number }>(SUMMARY_SQL, [userId]);
  return { unread: rows[0]?.unread ?? 0, headSeq: rows[0]?.head ?? 0 };
}
