import 'server-only';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes } from '../contract';
import type { Logger } from '../log';
import type { HeraldServer, HeraldSocket } from './types';
import { terminate } from './wire';

/**
 * Bytes written to sockets that their clients have not read, and the caps on
 * them. A client that stops reading (a phone in a tunnel, a frozen laptop)
 * would otherwise have everything pushed to it buffered in this process until
 * socket.io's ping timeout cut it, tens of seconds later. Past
 * `perSocket` bytes a socket is cut off (`slow_consumer`); past `perProcess`
 * bytes across all sockets, the largest queues are cut first. Cutting loses
 * nothing: the client reconnects with its `lastSeq` and catches up from the inbox.
 */

interface EngineInternals {
  writeBuffer?: Array<{ data?: unknown }>;
  transport?: { name?: string; socket?: { bufferedAmount?: number } };
}

/**
 * What this process holds for a socket: packets in Engine.IO's write buffer
 * (all a polling client's pending data sits there until its next GET) plus, on
 * WebSocket, what `ws` and the TCP socket still hold (`bufferedAmount`, ws's
 * public count).
 */
export function queuedBytes(socket: HeraldSocket): number {
  const conn = socket.conn as unknown as EngineInternals;
  let bytes = 0;
  const buffer = conn.writeBuffer;
  if (buffer) for (let i = 0; i < buffer.length; i++) bytes += sizeOf(buffer[i]?.data);
  const ws = conn.transport?.name === 'websocket' ? conn.transport.socket : undefined;
  return bytes + (ws?.bufferedAmount ?? 0);
}

function sizeOf(data: unknown): number {
  if (typeof data === 'string') return data.length;
  if (data instanceof Uint8Array) return data.byteLength;
  return 0;
}

/** How often a waiting writer looks again. */
const DRAIN_POLL_MS = 10;

/**
 * Resolves true once at most `belowBytes` are queued for the socket, false if
 * it disconnects or `timeoutMs` passes first.
 */
export async function drained(socket: HeraldSocket, belowBytes: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (socket.connected && queuedBytes(socket) > belowBytes) {
    if (performance.now() >= deadline) return false;
    await sleep(DRAIN_POLL_MS);
  }
  return socket.connected;
}

/** How often the process-wide total is summed. */
const SWEEP_MS = 250;
/** A cut socket's close handshake gets this long before its connection is destroyed (and its buffers freed). */
const CLOSE_GRACE_MS = 2_000;

export interface OutboundStats {
  /** Sockets cut for their own queue. */
  slowConsumers: number;
  /** Sockets cut because the process-wide total was over its cap. */
  processCapCuts: number;
  /** The total queued at the last sweep. */
  queuedBytes: number;
}

export class OutboundLimits {
  readonly stats: OutboundStats = { slowConsumers: 0, processCapCuts: 0, queuedBytes: 0 };
  private timer: ReturnType<typeof setInterval> | undefined;
  private io: HeraldServer | undefined;
  /** Bytes written since the last sweep: the total may have grown by this much. */
  private sinceSweep = 0;

  constructor(
    readonly perSocket: number,
    readonly perProcess: number,
    private readonly log: Logger,
    /** Told of every cut: for the socket's own cap, or the process's. */
    private readonly onCut: (cap: 'socket' | 'process') => void = () => undefined,
  ) {}

  /**
   * True while `socket` may be written to: false once it is over its cap (it is
   * then cut off). `queued` is what the socket holds, when the caller knows it
   * already (delivery's direct path reads it off the TCP socket).
   */
  admit(socket: HeraldSocket, adding = 0, queued = queuedBytes(socket)): boolean {
    if (!socket.connected) return false;
    if (queued + adding <= this.perSocket) return true;
    this.stats.slowConsumers++;
    this.onCut('socket');
    this.cut(socket, queued, `more than ${this.perSocket} bytes unread`);
    return false;
  }

  /**
   * Counts bytes just written to a socket. Once the total at the last sweep plus
   * what was written since could pass the process cap, the sweep runs at once,
   * so a burst between two timed sweeps cannot carry the total far past it.
   */
  noteWritten(bytes: number): void {
    this.sinceSweep += bytes;
    if (this.io && this.stats.queuedBytes + this.sinceSweep > this.perProcess) this.sweep(this.io);
  }

  /** Sums what every socket holds, and cuts the largest queues while the total is over the process cap. */
  sweep(io: HeraldServer): void {
    this.sinceSweep = 0;
    let total = 0;
    const queues: Array<[HeraldSocket, number]> = [];
    for (const socket of io.of('/').sockets.values()) {
      const queued = queuedBytes(socket);
      if (queued === 0) continue;
      total += queued;
      queues.push([socket, queued]);
    }
    if (total > this.perProcess) {
      queues.sort((a, b) => b[1] - a[1]);
      for (const [socket, queued] of queues) {
        if (total <= this.perProcess) break;
        this.stats.processCapCuts++;
        this.onCut('process');
        // Memory is what this cap protects: the connection goes at once, with what it held.
        this.cut(socket, queued, `the process holds more than ${this.perProcess} bytes unread across sockets`, 0);
        total -= queued;
      }
    }
    // What stays queued: a cut socket's bytes go with its connection.
    this.stats.queuedBytes = total;
  }

  start(io: HeraldServer): void {
    this.io = io;
    this.timer ??= setInterval(() => this.sweep(io), SWEEP_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Tells the client why (it reads that if it resumes within the grace), closes
   * the socket, and destroys the connection after `graceMs` whatever the client
   * does, freeing what was queued for it.
   */
  private cut(socket: HeraldSocket, queued: number, why: string, graceMs = CLOSE_GRACE_MS): void {
    this.log.warn('slow consumer cut off', { userId: socket.data.userId, sid: socket.id, queuedBytes: queued, why });
    socket.emit('herald:error', { code: ErrorCodes.slowConsumer, message: `${why}: reconnect to catch up` });
    socket.disconnect(true);
    if (graceMs === 0) terminate(socket);
    else setTimeout(terminate, graceMs, socket).unref();
  }
}
