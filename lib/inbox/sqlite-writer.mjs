// @ts-check
/**
 * The SQLite inbox's writer thread (see SqliteInbox in sqlite.ts). Every write of
 * the embedded inbox runs here, on a connection of its own, so the INSERTs and the
 * fsync of each commit (synchronous=FULL) cost the main event loop nothing.
 *
 * Plain JavaScript (ESM, no TypeScript syntax) so that it runs unchanged as a
 * Worker under plain node, tsx and Vitest. Its JSDoc types are checked by
 * `npm run typecheck` (tsconfig.workers.json).
 *
 * Requests run in the order they were sent, each to completion (the main thread
 * has at most two in this thread's port). Answers carry only what the main thread
 * lacks (an append's seq, not the notification), and errors cross as plain data
 * ({ kind, message }).
 *
 * The fan-out log. An append stores its notification and one `fanout` row naming
 * its recipients, not one `deliveries` row per recipient: a push to 5,000 users
 * dirtied 5,000 index pages in its commit, and every commit wrote those pages to
 * the WAL again. The per-user rows are merged in later, in bulk (`mergeStep`): all
 * pending deliveries sorted by user, so each user's page is written once for many
 * pushes. Until then `pending` holds them here, and the main thread holds the same
 * in lib/inbox/pending.ts, so that reads include them. Every answer reports what it
 * merged (`merged`), and whether a merge is under way (`mergeActive`).
 *
 * `deliveries` has no index by seq: a merge inserts user after user, so such an
 * index got a page rewritten for nearly every row (a 1,000-row step of 4 users
 * with 250 rows each touched ~250 of its pages). Retention does without it: each
 * notification counts the users still holding it (`holders`), so the cap deletes
 * it with its last delivery, and the age limit walks users along the primary key.
 *
 * Invariants the reads and retention rely on:
 * - for each user, the merged deliveries are a prefix of the user's seqs: a merge
 *   takes all of a user's pending seqs up to its bound at once, so everything
 *   pending above the user's highest merged seq is not merged yet;
 * - a `fanout` row is deleted only once all its recipients are merged, and on
 *   restart every surviving row is merged again with INSERT OR IGNORE;
 * - retention never deletes a delivery at or above the lowest seq still in
 *   `fanout`, nor one the main thread may still hold as pending (`keepFrom`), so a
 *   merge run again can never bring back what retention removed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** @typedef {import('./types').AppendInput} AppendInput */
/** @typedef {import('./types').InboxOptions} InboxOptions */
/** @typedef {import('./types').SweepResult} SweepResult */
/** @typedef {import('../protocol').ReadState} ReadState */
/** @typedef {{ id: string; recipients: number; online: number }} StoredResponse */
/**
 * @typedef {{ status: 'stored'; seq: number }
 *   | { status: 'duplicate'; id: string; recipients: number; response: StoredResponse | null }
 *   | { status: 'conflict'; message: string }} AppendOutcome
 */
/**
 * @typedef {{ op: 'append'; inputs: AppendInput[] }
 *   | { op: 'saveResponse'; key: string; response: StoredResponse }
 *   | { op: 'markRead'; userId: string; ids: string[] }
 *   | { op: 'markAllRead'; userId: string }
 *   | { op: 'sweep'; sweepId: number; now: number; keepFrom: number | null }
 *   | { op: 'sweepNext'; sweepId: number; keepFrom: number | null }
 *   | { op: 'merge'; maxRows: number; maxMs: number }
 *   | { op: 'close' }} WriterRequest
 */
/** @typedef {{ done: false } | { done: true; result: SweepResult }} SweepStep */
/** @typedef {{ users: string[]; through: number }} MergeReport */

/** Rows deleted per retention step. */
const SWEEP_CHUNK = 1000;
/** A retention step that deleted nothing still hands the queue back after this long. */
const SWEEP_SLICE_MS = 5;

if (!parentPort) throw new Error('sqlite-writer must run as a worker thread');
const port = parentPort;
// The idempotency window comes from types.ts, which plain JavaScript cannot import.
const { file, opts, idempotencyWindowMs: IDEMPOTENCY_WINDOW_MS } =
  /** @type {{ file: string; opts: InboxOptions; idempotencyWindowMs: number }} */ (workerData);

// The main thread created the file, set WAL and migrated the schema before starting us.
const db = new Database(file);
db.pragma('journal_mode = WAL');
// FULL: a commit is on disk before /api/push answers 202, even across power loss.
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 5000');
// The checkpointer thread (sqlite-checkpointer.mjs) copies the WAL every 100 ms,
// so a commit here checkpoints only if the WAL reaches ~40 MB anyway (that thread
// fell behind or died). SQLite's default, ~4 MB, would run inside commits.
db.pragma('wal_autocheckpoint = 10000');

const stmt = {
  insertNotification: db.prepare('INSERT INTO notifications (id, entity_type, data, created_at, holders) VALUES (?, ?, ?, ?, ?)'),
  releaseHolder: db.prepare('UPDATE notifications SET holders = holders - 1 WHERE seq = ?'),
  deleteUnheld: db.prepare('DELETE FROM notifications WHERE seq = ? AND holders <= 0'),
  insertFanout: db.prepare('INSERT INTO fanout (seq, recipients) VALUES (?, ?)'),
  mergeDelivery: db.prepare('INSERT OR IGNORE INTO deliveries (user_id, seq, read) VALUES (?, ?, 0)'),
  deleteFanout: db.prepare('DELETE FROM fanout WHERE seq <= ?'),
  minFanout: db.prepare('SELECT MIN(seq) AS s FROM fanout'),
  notificationExists: db.prepare('SELECT 1 FROM notifications WHERE id = ?'),
  idemGet: db.prepare('SELECT body_hash, notification_id, recipients, response, created_at FROM idempotency WHERE key = ?'),
  idemDelete: db.prepare('DELETE FROM idempotency WHERE key = ?'),
  idemInsert: db.prepare(
    'INSERT INTO idempotency (key, body_hash, notification_id, recipients, response, created_at) VALUES (?, ?, ?, ?, NULL, ?)',
  ),
  idemSaveResponse: db.prepare('UPDATE idempotency SET response = ? WHERE key = ? AND response IS NULL'),
  headSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) AS head FROM deliveries WHERE user_id = ?'),
  unread: db.prepare('SELECT COUNT(*) AS n FROM deliveries WHERE user_id = ? AND read = 0'),
  unreadByIds: db.prepare(
    `SELECT n.id, n.seq FROM deliveries d JOIN notifications n ON n.seq = d.seq
      WHERE d.user_id = ? AND d.read = 0 AND n.id IN (SELECT value FROM json_each(?))`,
  ),
  markSeqRead: db.prepare('UPDATE deliveries SET read = 1 WHERE user_id = ? AND seq = ?'),
  markAllRead: db.prepare('UPDATE deliveries SET read = 1 WHERE user_id = ? AND read = 0'),
  setPrunedThrough: db.prepare(
    `INSERT INTO user_state (user_id, pruned_through) VALUES (?, ?)
     ON CONFLICT (user_id) DO UPDATE SET pruned_through = MAX(pruned_through, excluded.pruned_through)`,
  ),
  metaGet: db.prepare('SELECT value FROM meta WHERE key = ?'),
  metaSet: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
};

// ---------------------------------------------------------------------------
// Pending deliveries (the fan-out log, see the top of this file)
// ---------------------------------------------------------------------------

/** Stored in `fanout`, not yet in `deliveries`: user -> seqs, ascending. */
/** @type {Map<string, number[]>} */
const pending = new Map();
/** The highest seq ever added to `pending`. */
let pendingHead = 0;
/** The merge under way: every user with deliveries up to `through`, sorted, and how far it got. */
/** @type {{ through: number; users: string[]; pos: number } | null} */
let snapshot = null;
/** What the current request merged, for its answer. */
/** @type {MergeReport | null} */
let report = null;

/** Rows one multi-row merge statement inserts at most. */
const MERGE_CHUNK = 32;
/** @type {Map<number, import('better-sqlite3').Statement>} multi-row merge statements by row count, prepared on first use */
const mergeRowsStatements = new Map();

/**
 * One user's first `k` pending seqs into `deliveries`, up to MERGE_CHUNK rows
 * per statement: one statement per row cost about 35 % more per row than
 * `INSERT … SELECT` from a VALUES list of the seqs, at 4 to 32 rows per user
 * (docs/benchmarks.md, change 17). A single row takes the one-row statement.
 * @param {string} userId
 * @param {number[]} seqs ascending
 * @param {number} k
 */
function insertDeliveries(userId, seqs, k) {
  let i = 0;
  while (k - i >= 2) {
    const n = Math.min(MERGE_CHUNK, k - i);
    let rows = mergeRowsStatements.get(n);
    if (!rows) {
      // The seqs' placeholders come first in the text, the user's last.
      const values = Array.from({ length: n }, () => '(?)').join(', ');
      rows = db.prepare(`WITH v(seq) AS (VALUES ${values}) INSERT OR IGNORE INTO deliveries (user_id, seq, read) SELECT ?, seq, 0 FROM v`);
      mergeRowsStatements.set(n, rows);
    }
    /** @type {Array<number | string>} */
    const args = seqs.slice(i, i + n);
    args.push(userId);
    rows.run(...args);
    i += n;
  }
  if (i < k) stmt.mergeDelivery.run(userId, seqs[i]);
}

/**
 * @param {string} userId
 * @param {number} seq
 */
function addPending(userId, seq) {
  const seqs = pending.get(userId);
  if (seqs) seqs.push(seq);
  else pending.set(userId, [seq]);
  if (seq > pendingHead) pendingHead = seq;
}

// After a restart, everything still in the log is pending again; what was merged
// before the restart is merged again, and INSERT OR IGNORE keeps the rows as they are.
for (const row of /** @type {Iterable<{ seq: number; recipients: string }>} */ (
  db.prepare('SELECT seq, recipients FROM fanout ORDER BY seq').iterate()
)) {
  for (const userId of /** @type {string[]} */ (JSON.parse(row.recipients))) addPending(userId, row.seq);
}

/**
 * Merges the next users of the merge under way (starting one over everything
 * pending when none is), about `maxRows` rows, whole users only, in one
 * transaction, and stops early (after at least one user) once it has taken
 * `maxMs`: appends queued meanwhile wait for the step, so its length, not its
 * row count, is what they feel. Rows are inserted sorted by user, so each
 * user's page is written once. Not fsynced (synchronous=NORMAL): the log row it
 * comes from already is, and the next FULL commit syncs the WAL up to here.
 * @param {number} maxRows
 * @param {number} maxMs
 */
function mergeStep(maxRows, maxMs) {
  if (!snapshot) {
    if (pending.size === 0) {
      // Read marks merged every user of what is left in the log: its rows can go.
      if (/** @type {{ s: number | null }} */ (stmt.minFanout.get()).s !== null) stmt.deleteFanout.run(pendingHead);
      return;
    }
    snapshot = { through: pendingHead, users: [...pending.keys()].sort(), pos: 0 };
  }
  const s = snapshot;
  const from = s.pos;
  /** @type {Array<[string, number]>} users merged, and how many of their seqs */
  const merged = [];
  let pos = from;
  db.pragma('synchronous = NORMAL');
  const deadline = performance.now() + maxMs;
  try {
    db.transaction(() => {
      let rows = 0;
      while (pos < s.users.length && rows < maxRows && (rows === 0 || performance.now() < deadline)) {
        const userId = /** @type {string} */ (s.users[pos++]);
        const seqs = pending.get(userId);
        if (!seqs) continue;
        let k = 0;
        while (k < seqs.length && /** @type {number} */ (seqs[k]) <= s.through) k++;
        if (k === 0) continue;
        insertDeliveries(userId, seqs, k);
        merged.push([userId, k]);
        rows += k;
      }
      if (pos >= s.users.length) stmt.deleteFanout.run(s.through);
    })();
  } finally {
    db.pragma('synchronous = FULL');
  }
  // Committed: only now does this thread forget them.
  s.pos = pos;
  for (const [userId, k] of merged) {
    const seqs = /** @type {number[]} */ (pending.get(userId));
    if (k === seqs.length) pending.delete(userId);
    else pending.set(userId, seqs.slice(k));
    touched.add(userId);
  }
  if (pos >= s.users.length) snapshot = null;
  report = { users: merged.map(([userId]) => userId), through: s.through };
}

/**
 * Inside a read-state transaction: the user's pending deliveries go in first, so
 * the update and the counts cover them. Returns what to forget once committed.
 * @param {string} userId
 * @returns {() => void}
 */
function mergeUser(userId) {
  const seqs = pending.get(userId);
  if (!seqs) return () => undefined;
  insertDeliveries(userId, seqs, seqs.length);
  return () => {
    pending.delete(userId);
    touched.add(userId);
    report = { users: [userId], through: /** @type {number} */ (seqs[seqs.length - 1]) };
  };
}

/** Users who received something since the last sweep: only they can be over the cap. */
let touched = new Set();
let firstSweep = true;
/** Sweeps in progress, by the id the main thread gave them; each is resumed one step per request. */
/** @type {Map<number, Generator<void, SweepResult, void>>} */
const sweeps = new Map();
/** When the current sweep step began (see SWEEP_SLICE_MS). */
let stepStarted = 0;

// ---------------------------------------------------------------------------
// Appends (group commit: the main thread sends everything queued as one batch)
// ---------------------------------------------------------------------------

/**
 * One transaction, one fsync, for the whole batch. A conflict is an outcome, not
 * a throw, so it rolls back nothing else; a throw (disk full, I/O error) fails the batch.
 * @param {AppendInput[]} inputs
 * @returns {AppendOutcome[]}
 */
function appendBatch(inputs) {
  /** @type {AppendOutcome[]} */
  const outcomes = [];
  /** @type {Array<[number, string[]]>} */
  const stored = [];
  db.transaction(() => {
    for (const input of inputs) outcomes.push(appendOne(input, stored));
  })();
  // Committed: now they are pending.
  for (const [seq, userIds] of stored) for (const userId of userIds) addPending(userId, seq);
  return outcomes;
}

/**
 * @param {AppendInput} input
 * @param {Array<[number, string[]]>} stored what this transaction stores, by seq
 * @returns {AppendOutcome}
 */
function appendOne(input, stored) {
  const { idempotency } = input;
  if (idempotency) {
    const prior =
      /** @type {{ body_hash: string; notification_id: string; recipients: number; response: string | null; created_at: number } | undefined} */ (
        stmt.idemGet.get(idempotency.key)
      );
    if (prior && prior.created_at > input.createdAt - IDEMPOTENCY_WINDOW_MS) {
      if (prior.body_hash !== idempotency.bodyHash) {
        return { status: 'conflict', message: 'this idempotency key was used with a different body' };
      }
      return {
        status: 'duplicate',
        id: prior.notification_id,
        recipients: prior.recipients,
        response: prior.response ? /** @type {StoredResponse} */ (JSON.parse(prior.response)) : null,
      };
    }
    if (prior) stmt.idemDelete.run(idempotency.key);
  }
  if (stmt.notificationExists.get(input.id)) {
    return { status: 'conflict', message: `notification id "${input.id}" is already in use` };
  }
  const dataJson = JSON.stringify(input.data);
  // Named twice, a user gets it once (the main thread dedupes the same way).
  const userIds = [...new Set(input.userIds)];
  const seq = Number(
    stmt.insertNotification.run(input.id, input.entityType, dataJson, input.createdAt, userIds.length).lastInsertRowid,
  );
  stmt.insertFanout.run(seq, JSON.stringify(userIds));
  stored.push([seq, userIds]);
  if (idempotency) {
    stmt.idemInsert.run(idempotency.key, idempotency.bodyHash, input.id, userIds.length, input.createdAt);
  }
  return { status: 'stored', seq };
}

// ---------------------------------------------------------------------------
// Read state: the answer is read inside the write transaction, so it matches it.
// ---------------------------------------------------------------------------

/** @param {string} userId */
function summaryNow(userId) {
  return {
    unread: /** @type {{ n: number }} */ (stmt.unread.get(userId)).n,
    headSeq: /** @type {{ head: number }} */ (stmt.headSeq.get(userId)).head,
  };
}

/**
 * One read-state transaction: the user's pending deliveries merged first, then
 * `update`; this thread forgets them as pending only once that has committed.
 * @param {string} userId
 * @param {() => ReadState} update
 * @returns {ReadState}
 */
function readStateChange(userId, update) {
  /** @type {() => void} */
  let forget = () => undefined;
  const state = db.transaction(() => {
    forget = mergeUser(userId);
    return update();
  })();
  forget();
  return state;
}

/**
 * @param {string} userId
 * @param {string[]} ids
 * @returns {ReadState}
 */
function markRead(userId, ids) {
  return readStateChange(userId, () => {
    const rows = /** @type {Array<{ id: string; seq: number }>} */ (stmt.unreadByIds.all(userId, JSON.stringify(ids)));
    for (const row of rows) stmt.markSeqRead.run(userId, row.seq);
    return { ...summaryNow(userId), readIds: rows.map((r) => r.id) };
  });
}

/**
 * @param {string} userId
 * @returns {ReadState}
 */
function markAllRead(userId) {
  return readStateChange(userId, () => {
    stmt.markAllRead.run(userId);
    return { ...summaryNow(userId), readIds: [], all: true };
  });
}

// ---------------------------------------------------------------------------
// Retention, in steps: each `yield` hands the queue back to the main thread, so
// appends that arrived meanwhile commit before the sweep goes on.
// ---------------------------------------------------------------------------

/** The main thread's lowest pending seq, as of the current sweep step's request. */
let keepFrom = Number.MAX_SAFE_INTEGER;

/**
 * The highest seq retention may delete now: below everything still in the log
 * (it may be merged again after a restart) and below anything the main thread
 * may still list as pending.
 */
function deletableThrough() {
  const oldest = /** @type {{ s: number | null }} */ (stmt.minFanout.get()).s ?? Number.MAX_SAFE_INTEGER;
  return Math.min(oldest, keepFrom) - 1;
}

/**
 * @param {number} now
 * @returns {Generator<void, SweepResult, void>}
 */
function* sweep(now) {
  /** @type {SweepResult} */
  const result = { deliveriesDeleted: 0, notificationsDeleted: 0, idempotencyDeleted: 0 };
  const overSlice = () => performance.now() - stepStarted >= SWEEP_SLICE_MS;

  // 0. Merge what is pending now, so that the cap counts it. Appends that arrive
  //    between the steps stay pending: they are newer than anything deleted below.
  const target = pendingHead;
  for (;;) {
    const oldest = /** @type {{ s: number | null }} */ (stmt.minFanout.get()).s;
    if (!snapshot && (oldest === null || oldest > target)) break;
    mergeStep(SWEEP_CHUNK, SWEEP_SLICE_MS);
    yield;
  }

  // 1. Per-user cap: only users who received something can have grown past it.
  /** @type {string[]} */
  let users;
  if (firstSweep) {
    users = /** @type {Array<{ user_id: string }>} */ (
      db.prepare('SELECT user_id FROM deliveries GROUP BY user_id HAVING COUNT(*) > ?').all(opts.maxPerUser)
    ).map((r) => r.user_id);
    firstSweep = false;
  } else {
    users = [...touched];
  }
  touched = new Set();
  const cutoffOf = db.prepare('SELECT seq FROM deliveries WHERE user_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?');
  const deleteUpTo = db.prepare(
    'DELETE FROM deliveries WHERE user_id = ? AND seq IN (SELECT seq FROM deliveries WHERE user_id = ? AND seq <= ? LIMIT ?) RETURNING seq',
  );
  for (const userId of users) {
    // The newest `maxPerUser` stay; `cutoff` is the newest one that goes.
    const newestGoing = /** @type {{ seq: number } | undefined} */ (cutoffOf.get(userId, opts.maxPerUser))?.seq;
    const cutoff = newestGoing === undefined ? undefined : Math.min(newestGoing, deletableThrough());
    if (cutoff === undefined || cutoff <= 0) {
      // Most touched users are under the cap: hand the queue back only now and then.
      if (overSlice()) yield;
      continue;
    }
    for (;;) {
      const n = db.transaction(() => {
        const gone = /** @type {Array<{ seq: number }>} */ (deleteUpTo.all(userId, userId, cutoff, SWEEP_CHUNK));
        // A notification nobody holds any more goes with its last delivery.
        for (const { seq } of gone) {
          stmt.releaseHolder.run(seq);
          result.notificationsDeleted += stmt.deleteUnheld.run(seq).changes;
        }
        stmt.setPrunedThrough.run(userId, cutoff);
        return gone.length;
      })();
      result.deliveriesDeleted += n;
      yield;
      if (n < SWEEP_CHUNK) break;
    }
  }

  // 2. Age: everything created before the cutoff goes, for every user. Without an
  //    index by seq (merges would rewrite it all over, see the top of this file),
  //    the deliveries are found user by user along the primary key.
  const ttlCutoff = now - opts.ttlDays * 24 * 60 * 60 * 1000;
  const oldSeq = /** @type {{ s: number | null }} */ (
    db.prepare('SELECT MAX(seq) AS s FROM notifications WHERE created_at < ?').get(ttlCutoff)
  ).s;
  const ttlSeq = oldSeq === null ? null : Math.min(oldSeq, deletableThrough());
  // Only when something crossed the age limit since the last walk that finished
  // (a stop in the middle of one leaves this behind, and the next sweep goes again).
  const done = /** @type {{ value: number } | undefined} */ (stmt.metaGet.get('ttl_swept_through'))?.value ?? 0;
  if (ttlSeq !== null && ttlSeq > done) {
    // Watermark first: while the chunks below run, a client behind it already gets
    // sync_reset rather than a replay with a hole in it.
    const prior = /** @type {{ value: number } | undefined} */ (stmt.metaGet.get('ttl_pruned_through'))?.value ?? 0;
    if (ttlSeq > prior) stmt.metaSet.run('ttl_pruned_through', ttlSeq);
    const nextUser = db.prepare('SELECT user_id FROM deliveries WHERE user_id > ? ORDER BY user_id LIMIT 1');
    const deleteOld = db.prepare(
      'DELETE FROM deliveries WHERE user_id = ? AND seq IN (SELECT seq FROM deliveries WHERE user_id = ? AND seq <= ? LIMIT ?)',
    );
    let after = '';
    for (;;) {
      const next = /** @type {{ user_id: string } | undefined} */ (nextUser.get(after));
      if (!next) break;
      after = next.user_id;
      for (;;) {
        const n = deleteOld.run(after, after, ttlSeq, SWEEP_CHUNK).changes;
        result.deliveriesDeleted += n;
        if (n < SWEEP_CHUNK) break;
        yield;
      }
      if (overSlice()) yield;
    }
    // No delivery of these is left: the notifications go too.
    const deleteOldNotifications = db.prepare(
      'DELETE FROM notifications WHERE seq IN (SELECT seq FROM notifications WHERE seq <= ? LIMIT ?)',
    );
    for (;;) {
      const n = deleteOldNotifications.run(ttlSeq, SWEEP_CHUNK).changes;
      result.notificationsDeleted += n;
      if (n < SWEEP_CHUNK) break;
      yield;
    }
    stmt.metaSet.run('ttl_swept_through', ttlSeq);
  }

  // 3. Idempotency keys past their window.
  result.idempotencyDeleted = db.prepare('DELETE FROM idempotency WHERE created_at <= ?').run(now - IDEMPOTENCY_WINDOW_MS).changes;
  return result;
}

/**
 * Runs one step of a sweep; forgets it once it is done or failed.
 * @param {number} sweepId
 * @param {Generator<void, SweepResult, void> | undefined} gen
 * @param {number | null} keep the lowest seq the main thread still holds as pending (null: none)
 * @returns {SweepStep}
 */
function stepSweep(sweepId, gen, keep) {
  if (!gen) throw new Error(`no sweep ${sweepId} in progress`);
  keepFrom = keep ?? Number.MAX_SAFE_INTEGER;
  stepStarted = performance.now();
  try {
    const step = gen.next();
    if (!step.done) return { done: false };
    sweeps.delete(sweepId);
    return { done: true, result: step.value };
  } catch (err) {
    sweeps.delete(sweepId);
    throw err;
  }
}

// ---------------------------------------------------------------------------
// Dispatch
// ---------------------------------------------------------------------------

/**
 * @param {WriterRequest} req
 * @returns {unknown}
 */
function run(req) {
  switch (req.op) {
    case 'append':
      return appendBatch(req.inputs);
    case 'saveResponse':
      stmt.idemSaveResponse.run(JSON.stringify(req.response), req.key);
      return null;
    case 'markRead':
      return markRead(req.userId, req.ids);
    case 'markAllRead':
      return markAllRead(req.userId);
    case 'sweep': {
      const gen = sweep(req.now);
      sweeps.set(req.sweepId, gen);
      return stepSweep(req.sweepId, gen, req.keepFrom);
    }
    case 'sweepNext':
      return stepSweep(req.sweepId, sweeps.get(req.sweepId), req.keepFrom);
    case 'merge':
      mergeStep(req.maxRows, req.maxMs);
      return null;
    case 'close':
      db.close();
      return null;
  }
}

port.on('message', (/** @type {WriterRequest} */ req) => {
  report = null;
  try {
    const value = run(req);
    port.postMessage({ ok: true, value, merged: report, mergeActive: snapshot !== null });
  } catch (err) {
    port.postMessage({
      ok: false,
      error: { kind: 'unavailable', message: `inbox write failed: ${/** @type {Error} */ (err).message}` },
      merged: report,
      mergeActive: snapshot !== null,
    });
  }
  // With the connection closed, let the thread end: the main thread waits for its 'exit'.
  if (req.op === 'close') port.close();
});
