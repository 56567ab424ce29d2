import 'server-only';
import type { Socket as NetSocket } from 'node:net';
import type { Logger } from '../log';

/**
 * Writing a notification's WebSocket frame straight to each recipient's TCP
 * socket, and coalescing the frames one socket gets in one turn of the event
 * loop into one write. The only module that reads Engine.IO's and ws's
 * internals; docs/benchmarks.md gives what it saves per delivery.
 *
 * socket.io hands a broadcast to each socket through Engine.IO: a packet object,
 * two events, a write buffer, a flush, a write callback and the events it fires.
 * A push service's deliveries come in bursts (one commit settles several pushes,
 * and their deliveries run back to back), so the same socket often gets several
 * frames in a row, each its own `write` system call. Here:
 *
 * - the frame is built once per broadcast (`frameOf`), and written with
 *   `socket.write` when the Engine.IO socket is open on the WebSocket transport
 *   with nothing queued inside Engine.IO or `ws` (so nothing written before it
 *   can be overtaken); otherwise the caller takes Engine.IO's public path;
 * - the first frame a socket gets in a turn goes out at once; if the same
 *   socket gets more in that turn, it is corked from the second on and uncorked
 *   when the turn's synchronous work and microtasks are done, so its frames
 *   leave in one `writev`.
 *
 * The bytes on the wire are exactly those Engine.IO would have sent, in the same
 * order. The internals' shape is checked on the first WebSocket connection
 * (`checkShape`): when a version of engine.io or ws changes it, this path turns
 * itself off for the life of the process, with an error in the log, and every
 * frame takes Engine.IO's path. lib/realtime/seams.test.ts fails on such a version.
 */

interface SenderInternals {
  _state?: unknown;
  _queue?: unknown;
}
interface WsInternals {
  readyState?: unknown;
  _socket?: NetSocket | null;
  _sender?: SenderInternals | null;
  _extensions?: Record<string, unknown>;
}
interface EngineSocketInternals {
  readyState?: unknown;
  writeBuffer?: unknown;
  transport?: { name?: unknown; perMessageDeflate?: unknown; socket?: WsInternals };
}
/** What delivery hands over: a socket.io socket. */
export interface WireSocket {
  conn: unknown;
}

const WS_OPEN = 1;
/** `ws` Sender's state when it is not waiting on a deflate or a Blob. */
const SENDER_IDLE = 0;
/** A WebSocket frame's first byte for an unfragmented text message (FIN, opcode 1). */
const TEXT_FRAME = 0x81;

/** A frame ready to write: header and payload in one Buffer. */
export type Frame = Buffer;

/**
 * The WebSocket frame (RFC 6455 §5.2; a server's frames are unmasked) of the
 * Engine.IO message packet carrying `encoded`, one packet as socket.io's
 * encoder wrote it: "4" (message) + the socket.io packet.
 */
export function frameOf(encoded: string): Frame {
  const payload = Buffer.from(`4${encoded}`);
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = TEXT_FRAME;
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  payload.copy(frame, headerLength);
  return frame;
}

type Shape = 'unchecked' | 'ok' | 'changed';
let shape: Shape = 'unchecked';
let log: Logger | undefined;

/** Where the direct path logs a changed shape. */
export function setWireLogger(logger: Logger): void {
  log = logger;
}

/**
 * Checks, once, that a WebSocket connection's internals have the shape this
 * module reads. Returns the verdict, and logs an error the first time it is no.
 */
export function checkShape(conn: unknown): boolean {
  if (shape !== 'unchecked') return shape === 'ok';
  const engine = conn as EngineSocketInternals;
  const ws = engine.transport?.socket;
  const problems: string[] = [];
  if (typeof engine.readyState !== 'string') problems.push('engine.io socket.readyState');
  if (!Array.isArray(engine.writeBuffer)) problems.push('engine.io socket.writeBuffer');
  if (engine.transport?.name !== 'websocket') problems.push('engine.io transport.name');
  if (typeof ws?.readyState !== 'number') problems.push('ws readyState');
  if (typeof ws?._socket?.write !== 'function' || typeof ws._socket.cork !== 'function') problems.push('ws _socket');
  if (typeof ws?._sender?._state !== 'number' || !Array.isArray(ws._sender._queue)) problems.push('ws _sender');
  if (ws?._extensions === null || typeof ws?._extensions !== 'object') problems.push('ws _extensions');
  shape = problems.length === 0 ? 'ok' : 'changed';
  if (shape === 'changed') {
    log?.error('direct frame writes are off: engine.io or ws internals changed shape; every frame takes engine.io’s path', { problems });
  }
  return shape === 'ok';
}

/** The shape verdict so far (tests, /readyz). */
export function wireShape(): Shape {
  return shape;
}

/**
 * The TCP socket under a socket.io socket, when a frame may be written to it
 * now. Nothing then waits in Engine.IO's or ws's queues, so the TCP socket's
 * `writableLength` is all this process holds for the client.
 */
export function directTcp(socket: WireSocket): NetSocket | undefined {
  const conn = socket.conn as EngineSocketInternals;
  const transport = conn.transport;
  if (transport?.name !== 'websocket') return undefined;
  if (shape !== 'ok' && !checkShape(conn)) return undefined;
  if (conn.readyState !== 'open' || (conn.writeBuffer as unknown[]).length !== 0 || transport.perMessageDeflate) return undefined;
  const ws = transport.socket as WsInternals;
  if (ws.readyState !== WS_OPEN || ws._extensions?.['permessage-deflate'] !== undefined) return undefined;
  const sender = ws._sender as SenderInternals;
  if (sender._state !== SENDER_IDLE || (sender._queue as unknown[]).length !== 0) return undefined;
  const tcp = ws._socket;
  if (!tcp || tcp.destroyed || !tcp.writable) return undefined;
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
 * Writes a complete WebSocket frame to a TCP socket, sharing one write with the
 * socket's other frames of this turn. Exported for the benchmark's coalescing
 * raw `ws` reference (bench/servers/raw-ws.ts), which writes the same way.
 */
export function writeCoalesced(tcp: NetSocket, frame: Frame): void {
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
}

/**
 * Destroys a socket's connection now, dropping whatever is still queued for it
 * (ws's `terminate`); a polling connection is closed. For a client cut off for
 * not reading, whose close handshake would otherwise wait on that queue.
 */
export function terminate(socket: WireSocket): void {
  const conn = socket.conn as EngineSocketInternals & { close?(): void };
  const ws = conn.transport?.socket as { terminate?: () => void } | undefined;
  if (typeof ws?.terminate === 'function') ws.terminate();
  else conn.close?.();
}
