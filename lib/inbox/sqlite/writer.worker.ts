/**
 * The SQLite inbox's writer thread (started by queue.ts). Every write of the
 * embedded inbox runs here, on a connection of its own, so the INSERTs and the
 * fsync of each commit (synchronous=FULL) cost the main event loop nothing.
 *
 * Requests (messages.ts) run in the order they were sent, each to completion (the
 * main thread has at most two in this thread's port). Answers carry only what the
 * main thread lacks (an append's seq, not the notification), what the request
 * merged, and whether a merge is under way; errors cross as plain data.
 *
 * The steps: appends (writer/append.ts), merges of the fan-out log into
 * `deliveries` (writer/merge.ts, which states the invariants), read marks
 * (writer/read-state.ts), changes to what users hold (writer/changes.ts),
 * receipts (writer/receipts.ts), the webhook outbox
 * and escalations (writer/outbox.ts), and retention (writer/retention.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { WriterData, WriterReply, WriterRequest, WriterValues } from './messages';
import { Appender } from './writer/append';
import { Changes } from './writer/changes';
import { Merger } from './writer/merge';
import { ReadMarks } from './writer/read-state';
import { Outbox } from './writer/outbox';
import { Receipts } from './writer/receipts';
import { Retention } from './writer/retention';

if (!parentPort) throw new Error('sqlite-writer must run as a worker thread');
const port = parentPort;
const { file, opts } = workerData as WriterData;

// The main thread created the file, set WAL and migrated the schema before starting this thread.
const db = new Database(file);
db.pragma('journal_mode = WAL');
// FULL: a commit is on disk before /api/push answers 202, even across power loss.
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 5000');
// The checkpointer thread copies the WAL every 100 ms, so a commit here checkpoints
// only if the WAL reaches ~40 MB anyway (that thread fell behind or died). SQLite's
// default, ~4 MB, would run inside commits.
db.pragma('wal_autocheckpoint = 10000');

const merger = new Merger(db);
const receipts = new Receipts(db, merger, opts.webhookEvents ?? []);
const changes = new Changes(db, merger);
const appender = new Appender(db, merger, receipts, changes);
const readMarks = new ReadMarks(db, merger, receipts);
const outbox = new Outbox(db, receipts);
const retention = new Retention(db, merger, opts);

function run(req: WriterRequest): WriterValues[WriterRequest['op']] {
  switch (req.op) {
    case 'append':
      return appender.appendBatch(req.inputs);
    case 'saveResponse':
      appender.saveResponse(req.key, req.response);
      return null;
    case 'markRead':
      return readMarks.markRead(req.userId, req.ids);
    case 'markAllRead':
      return readMarks.markAllRead(req.userId);
    case 'markUnread':
      return readMarks.markUnread(req.userId, req.ids);
    case 'received':
      return receipts.received(req.userId, req.upTo, req.now);
    case 'seen':
      return receipts.seen(req.userId, req.ids, req.now);
    case 'receipts':
      return receipts.batch(req.items);
    case 'outboxClaim':
      return outbox.claim(req.now, req.leaseMs, req.max);
    case 'outboxSettle':
      return outbox.settle(req.id, req.outcome);
    case 'outboxRetryFailed':
      return outbox.retryFailed(req.now);
    case 'escalateDue':
      return outbox.escalateDue(req.now, req.max);
    case 'probe':
      return readMarks.probe(req.now);
    case 'collapse':
      return changes.collapse(req.input, req.now);
    case 'update':
      return changes.update(req.id, req.patch, req.now);
    case 'retract':
      return changes.retract(req.id, req.userId, req.now);
    case 'expireDue':
      return changes.expireDue(req.now, req.max);
    case 'archive':
      return changes.archive(req.userId, req.ids, req.archived);
    case 'setPreferences':
      return changes.setPreferences(req.userId, req.prefs);
    case 'sweep':
      return retention.start(req.sweepId, req.now, req.keepFrom);
    case 'sweepNext':
      return retention.next(req.sweepId, req.keepFrom);
    case 'merge':
      merger.step(req.maxRows, req.maxMs);
      return null;
    case 'close':
      db.close();
      return null;
  }
}

port.on('message', (req: WriterRequest) => {
  let reply: WriterReply;
  try {
    const value = run(req);
    reply = { ok: true, value, merged: merger.takeReport(), mergeActive: merger.active };
  } catch (err) {
    reply = {
      ok: false,
      error: { kind: 'unavailable', message: `inbox write failed: ${(err as Error).message}` },
      merged: merger.takeReport(),
      mergeActive: merger.active,
    };
  }
  port.postMessage(reply);
  // With the connection closed, let the thread end: the main thread waits for its 'exit'.
  if (req.op === 'close') port.close();
});
