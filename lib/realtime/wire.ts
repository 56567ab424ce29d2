import type { Socket as NetSocket } from 'node:net';

/**
 * Writing a notification's WebSocket frame straight to each recipient's TCP
 * socket, and coalescing the frames one socket gets in one turn of the event
 * loop into one write.
 *
 * socket.io's broadcast already encodes the packet and frames it once
 * (`wsPreEncodedFrame`, computed by the adapter's `_encode`), but then hands
 * that frame to each socket through Engine.IO: a packet object, two events, a
 * write buffer, a flush, a write callback and the events it fires. A push
 * service's deliveries come in bursts (one commit settles several pushes, and
 * their deliveries run back to back), so the same socket often gets several
 * frames in a row, each its own `write` system call, and on loopback each call
 * can wake the reader. Here:
 *
 * - the frame is joined into one Buffer once per broadcast, and written with
 *   `socket.write` when the Engine.IO socket is open on the WebSocket transport
 *   with nothing queued inside Engine.IO or `ws` (so nothing written before it
 *   can be overtaken); otherwise the caller takes socket.io's own path;
 * - the first frame a socket gets in a turn goes out at once (no added delay);
 *   if the same socket gets more in that turn, it is corked from the second on,
 *   and uncorked when the turn's synchronous work and microtasks are done
 *   (`process.nextTick` after the first write), so its frames leave in one
 *   `writev`.
 *
 * The bytes on the wire are exactly those socket.io would have sent, in the
 * same order. Engine.IO and `ws` keep no count of outgoing messages that this
 * bypasses (Herald listens to none of the events skipped). Like the delivery
 * gate, this reads internals (`ws._socket`, `ws._sender`, Engine.IO's
 * `writeBuffer`): `tcpOf()` checks their shape before every write, so a version
 * that changes them makes every socket take socket.io's path, and the tests
 * count the frames that took this one (`wireStats`, also in `GET /readyz`).
 */

interface SenderInternals {
  _state?: unknown;
  _queue?: unknown[];
}
interface WsInternals {
  readyState: number;
  _socket?: NetSocket | null;
  _sender?: SenderInternals | null;
  _extensions?: Record<string, unknown>;
}
interface EngineSocketInternals {
  readyState: string;
  writeBuffer?: unknown[];
  transport?: { name?: string; perMessageDeflate?: unknown; socket?: WsInternals };
}
/** What the delivery gate hands over: a socket.io socket. */
export interface WireSocket {
  conn: unknown;
}

const WS_OPEN = 1;
/** `ws` Sender's state when it is not waiting on a deflate or a Blob. */
const SENDER_IDLE = 0;

/** A frame ready to write: header and payload in one Buffer. */
export type Frame = Buffer;

/** Joins the adapter's pre-encoded frame (`[header, payload]` from `ws.Sender.frame`). */
export function frameOf(packetOpts: unknown): Frame | undefined {
  const opts = packetOpts as { wsPreEncodedFrame?: unknown; volatile?: unknown } | null;
  if (!opts || opts.volatile) return undefined;
  const parts = opts.wsPreEncodedFrame;
  if (!Array.isArray(parts) || parts.length === 0 || !parts.every((p) => Buffer.isBuffer(p))) return undefined;
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts as Buffer[]);
}

/** The TCP socket under a socket.io socket, when a frame may be written to it now. */
function tcpOf(socket: WireSocket): NetSocket | undefined {
  const conn = socket.conn as EngineSocketInternals;
  if (conn.readyState !== 'open' || conn.writeBuffer?.length !== 0) return undefined;
  const transport = conn.transport;
  if (transport?.name !== 'websocket' || transport.perMessageDeflate) return undefined;
  const ws = transport.socket;
  if (!ws || ws.readyState !== WS_OPEN || ws._extensions?.['permessage-deflate'] !== undefined) return undefined;
  const sender = ws._sender;
  if (!sender || sender._state !== SENDER_IDLE || !Array.isArray(sender._queue) || sender._queue.length !== 0) return undefined;
  const tcp = ws._socket;
  if (!tcp || tcp.destroyed || !tcp.writable || typeof tcp.cork !== 'function') return undefined;
  return tcp;
}

const stats = { direct: 0, coalesced: 0 };

/** Frames written by this path, and how many of them were held for a shared write. */
export function wireStats(): Readonly<typeof stats> {
  return { ...stats };
}

/** TCP sockets written this turn, and those corked because they got a second frame. */
const writtenThisTurn = new Set<NetSocket>();
const corked: NetSocket[] = [];

function endTurn(): void {
  for (const tcp of corked) if (!tcp.destroyed) tcp.uncork();
  corked.length = 0;
  writtenThisTurn.clear();
}

/**
 * Writes `frame` to the socket's TCP connection if it may; false means "take
 * socket.io's path" (and nothing was written).
 */
export function writeFrame(socket: WireSocket, frame: Frame): boolean {
  const tcp = tcpOf(socket);
  if (!tcp) return false;
  if (writtenThisTurn.size === 0) process.nextTick(endTurn);
  if (writtenThisTurn.has(tcp)) {
    if (tcp.writableCorked === 0) {
      tcp.cork();
      corked.push(tcp);
    }
    stats.coalesced++;
  } else {
    writtenThisTurn.add(tcp);
  }
  tcp.write(frame);
  stats.direct++;
  return true;
}
