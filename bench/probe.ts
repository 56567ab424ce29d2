import { watchGc } from './lib/gc';
import { serveIpc } from './lib/ipc';

/**
 * Loaded into Herald's process by the harness (`node --expose-gc --import bench/.probe.mjs
 * dist/server.js`, compiled from this file), and nowhere else. It answers the
 * orchestrator over IPC with what /proc cannot tell: V8 heap after a full GC,
 * and the garbage collections so far (Herald's connections come from /readyz). It
 * changes nothing in Herald and exits the process if the orchestrator
 * disappears.
 */

const gc = (globalThis as { gc?: () => void }).gc;
const gcCounts = watchGc();

serveIpc('herald-probe', {
  mem() {
    if (gc) {
      gc();
      gc();
    }
    return { mem: process.memoryUsage(), gc: gc !== undefined };
  },
  gc() {
    return gcCounts();
  },
});
