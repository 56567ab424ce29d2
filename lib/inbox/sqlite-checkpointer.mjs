// @ts-check
/**
 * The SQLite inbox's checkpointer thread (see SqliteInbox in sqlite.ts). In WAL
 * mode, commits append pages to the -wal file, and a checkpoint copies them back
 * into the database file and fsyncs it. Left to SQLite, the checkpoint runs inside
 * whichever commit crosses `wal_autocheckpoint`, and every append queued behind
 * that commit waits for it: tens of ms, the largest stalls in push latency.
 *
 * Here, a connection of its own runs a PASSIVE checkpoint every `intervalMs`.
 * PASSIVE takes no lock a writer needs: commits go on appending while it copies,
 * and the writer starts the WAL over at its next transaction once everything in
 * it is copied. The writer keeps a high `wal_autocheckpoint` only as a fallback,
 * should this thread fall behind or die.
 *
 * Plain JavaScript (ESM) like sqlite-writer.mjs, type-checked through JSDoc.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

if (!parentPort) throw new Error('sqlite-checkpointer must run as a worker thread');
const port = parentPort;
const { file, intervalMs } = /** @type {{ file: string; intervalMs: number }} */ (workerData);

const db = new Database(file);
db.pragma('busy_timeout = 5000');

/** Checkpoints that copied something, and the WAL frames they copied. */
const stats = { checkpoints: 0, frames: 0 };
/** Frames in the WAL, and frames of it copied, after the last tick (both restart with the WAL). */
let last = { log: 0, checkpointed: 0 };

const timer = setInterval(() => {
  try {
    const [row] = /** @type {Array<{ busy: number; log: number; checkpointed: number }>} */ (db.pragma('wal_checkpoint(PASSIVE)'));
    if (!row) return;
    // A smaller WAL than last time: the writer started it over, and all of it is new.
    const copied = row.log < last.log ? row.checkpointed : row.checkpointed - last.checkpointed;
    if (copied > 0) {
      stats.checkpoints++;
      stats.frames += copied;
    }
    last = { log: row.log, checkpointed: row.checkpointed };
  } catch {
    // A failed checkpoint loses nothing (the pages stay in the WAL); the next tick tries again.
  }
}, intervalMs);

port.on('message', (/** @type {{ op: 'stats' } | { op: 'close' }} */ msg) => {
  if (msg.op === 'stats') {
    port.postMessage({ ...stats });
    return;
  }
  clearInterval(timer);
  db.close();
  port.close();
});
