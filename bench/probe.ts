import { watchGc } from './lib/gc';
import { serveIpc } from './lib/ipc';

/**
 * Loaded into Herald's process by the harness (`node --expose-gc --import tsx
 * --import ./bench/probe.ts server.ts`), and nowhere else. It answers the
 * orchestrator over IPC with what /proc cannot tell: V8 heap after a full GC,
 * Herald's live connection count, and the garbage collections so far. It
 * changes nothing in Herald and exits the process if the orchestrator
 * disappears.
 */

interface RuntimeLike {
  realtime?: { connections(): number };
}

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
  count() {
    const runtime = (globalThis as Record<symbol, RuntimeLike | undefined>)[Symbol.for('herald.runtime')];
    return { connections: runtime?.realtime?.connections() ?? -1 };
  },
});
