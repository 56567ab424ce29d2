import 'server-only';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HeraldSocket } from './types';

/**
 * Bytes written to a socket that its client has not read yet, as far as this
 * process can see: packets waiting in Engine.IO's write buffer (all a polling
 * client's pending data sits there until its next GET) plus, on WebSocket,
 * what `ws` and the TCP socket still hold (`bufferedAmount`, ws's public count).
 */

interface EngineInternals {
  writeBuffer?: Array<{ data?: unknown }>;
  transport?: { name?: string; socket?: { bufferedAmount?: number } };
}

export function queuedBytes(socket: HeraldSocket): number {
  const conn = socket.conn as unknown as EngineInternals;
  let bytes = 0;
  for (const packet of conn.writeBuffer ?? []) bytes += sizeOf(packet.data);
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
