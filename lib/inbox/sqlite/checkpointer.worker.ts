/**
 * The SQLite inbox's checkpointer thread (started by index.ts). In WAL mode,
 * commits append pages to the -wal file, and a checkpoint copies them back into
 * the database file and fsyncs it. Left to SQLite, the checkpoint runs inside
 * whichever commit crosses `wal_autocheckpoint`, and every append queued behind
 * that commit waits for it.
 *
 * Here, a connection of its own runs a PASSIVE checkpoint every `intervalMs`.
 * PASSIVE takes no lock a writer needs: commits go on appending while it copies,
 * and the writer starts the WAL over at its next transaction once everything in
 * it is copied. The writer keeps a high `wal_autocheckpoint` only as a fallback,
 * should this thread fall behind or die.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { CheckpointerData, CheckpointerRequest, CheckpointStats } from './messages';

if (!parentPort) throw new Error('sqlite-checkpointer must run as a worker thread');
const port = parentPort;
const { file, intervalMs } = workerData as CheckpointerData;

const db = new Database(file);
db.pragma('busy_timeout = 5000');

const stats: CheckpointStats = { checkpoints: 0, frames: 0 };
/** Frames in the WAL, and frames of it copied, after the last tick (both restart with the WAL). */
let last = { log: 0, checkpointed: 0 };

const timer = setInterval(() => {
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>;
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

port.on('message', (msg: CheckpointerRequest) => {
  if (msg.op === 'stats') {
    port.postMessage({ ...stats } satisfies CheckpointStats);
    return;
  }
  clearInterval(timer);
  db.close();
  port.close();
});
