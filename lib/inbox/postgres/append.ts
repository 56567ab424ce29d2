import 'server-only';
import pg from 'pg';
import { IdempotencyConflictError } from '../../errors';
import { idInUse, KEY_REUSED, replayOf } from '../idempotency';
import { storedNotification } from '../rows';
import type { AppendInput, AppendResult, InboxHooks, StoredResponse } from '../types';
import { CONNECT_TIMEOUT_MS, isDataError, unavailable, withTransaction, type PgDatabase } from './pool';

/** Most appends committed in one transaction. */
const MAX_BATCH = 512;
/** Most delivery rows written in one transaction (a push has up to 1000 recipients). */
const MAX_BATCH_DELIVERIES = 20_000;
/** First half of the append lock; the second half is derived from the schema. */
export const APPEND_LOCK_CLASS = 0x4845_5241; // "HERA"

interface Queued {
  input: AppendInput;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

interface KeyRow {
  body_hash: string;
  notification_id: string;
  recipients: number;
  response: StoredResponse | null;
  created_at: number;
}

/** FNV-1a, as a signed 32-bit integer: the schema's half of the append lock key. */
export function lockKeyOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/**
 * The PostgreSQL inbox's appends, with group commit: each node puts everything
 * queued in one event-loop turn, or while its previous batch was in flight, into
 * one transaction with multi-row INSERTs, so under load a batch carries hundreds
 * of appends. Idempotency is decided inside that transaction.
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
 * time (about five round trips and one WAL flush each), and the lock is taken
 * once per batch, not per push. Readers never take the lock and are never
 * blocked by it; the alternative (let writers race and make readers stop below
 * the oldest seq still in flight) would cost every read instead, and is far
 * harder to get right. The same lock also makes idempotency checks exact across
 * nodes: two nodes cannot both decide a key is new.
 */
export class PostgresAppends {
  private queue: Queued[] = [];
  /** Set while a flush is scheduled or running; resolves when the queue is drained. */
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly db: PgDatabase,
    private readonly appendLockKey: number,
    /** Told the recipients of every stored append (retention's cap looks at them). */
    private readonly onStored: (userIds: readonly string[]) => void,
    /** Store an escalation row per recipient of a push with `escalate`. */
    private readonly escalating: boolean,
    private readonly hooks: InboxHooks = {},
  ) {}

  append(input: AppendInput): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.scheduleFlush();
    });
  }

  async saveResponse(key: string, response: StoredResponse): Promise<void> {
    await this.db.query('saveResponse', 'UPDATE idempotency SET response = $1::json WHERE key = $2 AND response IS NULL', [
      JSON.stringify(response),
      key,
    ]);
  }

  /** Resolves once everything queued so far is committed or failed. */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
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
  private async commit(batch: Queued[]): Promise<void> {
    let outcomes: Array<AppendResult | Error>;
    const started = Date.now();
    try {
      const sentAt = performance.now();
      outcomes = await withTransaction(this.db.pool, (client) => this.appendBatch(client, batch));
      this.hooks.onCommit?.((performance.now() - sentAt) / 1000, batch.length);
    } catch (err) {
      if (batch.length > 1 && isDataError(err)) {
        for (const p of batch) await this.commit([p]);
        return;
      }
      const failure = unavailable('write', err);
      for (const p of batch) p.reject(failure);
      // A batch that failed by timing out (no connection in CONNECT_TIMEOUT_MS, or a
      // connection that went silent until the query timeout) means the database is
      // unreachable. What queued behind it has already waited that long and would
      // wait as long again on the next (equally dead) pooled connection: up to twice
      // the timeout before its 503 (tests/cluster/postgres-outage.test.ts, silent
      // network). None of it was written, so it fails now.
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
    for (const p of batch) this.onStored(p.input.userIds);
  }

  /**
   * Runs inside the batch transaction. Decides each append in queue order, as the
   * SQLite writer does one by one, then writes all stored ones with one statement.
   * Conflicts are returned, not thrown, so they roll back nothing else.
   */
  private async appendBatch(client: pg.PoolClient, batch: Queued[]): Promise<Array<AppendResult | Error>> {
    // Taken before anything is read: from here to COMMIT this batch is alone (see the class comment).
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [APPEND_LOCK_CLASS, this.appendLockKey]);

    const keys = [...new Set(batch.flatMap((p) => (p.input.idempotency ? [p.input.idempotency.key] : [])))];
    const ids = [...new Set(batch.map((p) => p.input.id))];
    const { rows: found } = await client.query<KeyRow & { kind: 'id' | 'key'; key: string }>(
      `SELECT 'id' AS kind, id AS key, NULL AS body_hash, NULL AS notification_id, NULL::int AS recipients,
              NULL::json AS response, NULL::bigint AS created_at
         FROM notifications WHERE id = ANY($1::text[])
       UNION ALL
       SELECT 'key', key, body_hash, notification_id, recipients, response, created_at
         FROM idempotency WHERE key = ANY($2::text[])`,
      [ids, keys],
    );
    const idsInUse = new Set(found.filter((r) => r.kind === 'id').map((r) => r.key));
    const priorByKey = new Map<string, KeyRow>(found.filter((r) => r.kind === 'key').map((r) => [r.key, r]));

    const outcomes: Array<AppendResult | Error | { toStore: AppendInput; userIds: string[] }> = batch.map(({ input }) => {
      const { idempotency } = input;
      if (idempotency) {
        const prior = priorByKey.get(idempotency.key);
        const replay = replayOf(prior, idempotency.bodyHash, input.createdAt);
        if (replay === 'conflict') return new IdempotencyConflictError(KEY_REUSED);
        if (replay === 'duplicate' && prior) {
          return { status: 'duplicate', id: prior.notification_id, recipients: prior.recipients, response: prior.response };
        }
        // An expired key is overwritten by the upsert below if this append is stored.
      }
      if (idsInUse.has(input.id)) return new IdempotencyConflictError(idInUse(input.id));
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

    const n = {
      seq: [] as number[],
      id: [] as string[],
      type: [] as string[],
      data: [] as string[],
      at: [] as number[],
      collapse: [] as Array<string | null>,
      expires: [] as Array<number | null>,
      priority: [] as Array<string | null>,
    };
    const d = { user: [] as string[], seq: [] as number[] };
    const e = { user: [] as string[], seq: [] as number[], due: [] as number[], unless: [] as string[] };
    const k = { key: [] as string[], hash: [] as string[], id: [] as string[], recipients: [] as number[], at: [] as number[] };
    toStore.forEach(({ i, toStore: input, userIds }, j) => {
      const seq = seqs[j] as number;
      n.seq.push(seq);
      n.id.push(input.id);
      n.type.push(input.entityType);
      n.data.push(JSON.stringify(input.data));
      n.at.push(input.createdAt);
      n.collapse.push(input.collapseKey ?? null);
      n.expires.push(input.expiresAt ?? null);
      n.priority.push(input.priority ?? null);
      for (const u of userIds) {
        d.user.push(u);
        d.seq.push(seq);
      }
      if (input.escalate && this.escalating) {
        for (const u of userIds) {
          e.user.push(u);
          e.seq.push(seq);
          e.due.push(input.createdAt + input.escalate.afterMs);
          e.unless.push(input.escalate.unless);
        }
      }
      if (input.idempotency) {
        k.key.push(input.idempotency.key);
        k.hash.push(input.idempotency.bodyHash);
        k.id.push(input.id);
        k.recipients.push(userIds.length);
        k.at.push(input.createdAt);
      }
      outcomes[i] = { status: 'stored', notification: storedNotification(input, seq) };
    });

    await client.query(
      `WITH n AS (
         INSERT INTO notifications (seq, id, entity_type, data, created_at, collapse_key, expires_at, priority)
         SELECT s, i, t, j::json, a, c, ex, p
           FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $17::text[], $18::bigint[], $19::text[]) AS x(s, i, t, j, a, c, ex, p)
       ), d AS (
         INSERT INTO deliveries (user_id, seq) SELECT * FROM unnest($6::text[], $7::bigint[])
       ), e AS (
         INSERT INTO escalations (seq, user_id, due_at, unless)
         SELECT * FROM unnest($13::bigint[], $14::text[], $15::bigint[], $16::text[]) ON CONFLICT DO NOTHING
       )
       INSERT INTO idempotency (key, body_hash, notification_id, recipients, response, created_at)
       SELECT k, h, i, r, NULL, a FROM unnest($8::text[], $9::text[], $10::text[], $11::int[], $12::bigint[]) AS y(k, h, i, r, a)
       ON CONFLICT (key) DO UPDATE SET body_hash = EXCLUDED.body_hash, notification_id = EXCLUDED.notification_id,
         recipients = EXCLUDED.recipients, response = NULL, created_at = EXCLUDED.created_at`,
      [n.seq, n.id, n.type, n.data, n.at, d.user, d.seq, k.key, k.hash, k.id, k.recipients, k.at, e.seq, e.user, e.due, e.unless, n.collapse, n.expires, n.priority],
    );
    return outcomes as Array<AppendResult | Error>;
  }
}
