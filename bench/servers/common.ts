import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { watchGc } from '../lib/gc';
import { emitEvent, serveIpc, type IpcMessage } from '../lib/ipc';
import { pickDistinct, referenceNotification } from '../lib/payload';
import { nowMs } from '../lib/proc';

/**
 * The control side shared by the two reference servers. The orchestrator drives
 * them over IPC, never over HTTP: they stand for "socket.io / ws with nothing on
 * top", so they get no HTTP parsing and no storage.
 *
 * - `emit`  (fire and forget): one message to every connected socket (a fan-out round);
 * - `burst`: a stream of messages to 1..k random users, generated in-process at a
 *   given rate or as fast as possible, each stamped when emitted;
 * - `mem`:   memoryUsage() after a full GC (the process runs with --expose-gc);
 * - `count`: live connections;
 * - `gc`:    garbage collections so far (bench/lib/gc.ts).
 */

export interface Broadcaster {
  /** Sends to every socket; returns how many sockets it was written to. */
  all(notification: Record<string, unknown>): number;
  /** Sends to every socket of these users; returns how many sockets. */
  to(userIds: string[], notification: Record<string, unknown>): number;
  connections(): number;
}

/** Messages emitted per macrotask when bursting at full speed. */
const BURST_BATCH = 64;

export function serveReference(name: string, http: HttpServer, b: Broadcaster): void {
  let seq = 0;
  const gc = (globalThis as { gc?: () => void }).gc;
  const gcCounts = watchGc();

  serveIpc(name, {
    emit(msg: IpcMessage) {
      b.all(referenceNotification(++seq, Number(msg.r), Number(msg.t)));
      return undefined;
    },
    burst(msg: IpcMessage) {
      const count = Number(msg.count);
      const durationMs = Number(msg.durationMs);
      const rate = Number(msg.rate);
      const rmin = Number(msg.rmin);
      const rmax = Number(msg.rmax);
      const users = Number(msg.users);
      return new Promise((resolve) => {
        const start = nowMs();
        let sent = 0;
        let deliveries = 0;
        let recipients = 0;
        const tick = () => {
          const elapsed = nowMs() - start;
          if (sent >= count || elapsed > durationMs) {
            resolve({ sent, deliveries, recipients, elapsedMs: nowMs() - start });
            return;
          }
          const due = rate > 0 ? Math.min(count, Math.floor((elapsed * rate) / 1000) + 1) : Math.min(count, sent + BURST_BATCH);
          while (sent < due) {
            const k = rmin + Math.floor(Math.random() * (rmax - rmin + 1));
            const chosen = pickDistinct(k, users);
            recipients += chosen.length;
            deliveries += b.to(chosen, referenceNotification(++seq, -1, nowMs()));
            sent++;
          }
          if (rate > 0) setTimeout(tick, 1);
          else setImmediate(tick);
        };
        tick();
      });
    },
    mem() {
      if (gc) {
        gc();
        gc();
      }
      return { mem: process.memoryUsage(), gc: gc !== undefined };
    },
    count() {
      return { connections: b.connections() };
    },
    gc() {
      return gcCounts();
    },
  });

  http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
    emitEvent({ type: 'ready', port: (http.address() as AddressInfo).port });
  });
  const stop = () => {
    http.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
