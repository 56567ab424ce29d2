import 'server-only';
import { Adapter, type BroadcastOptions } from 'socket.io-adapter';
import { PacketType, type Encoder } from 'socket.io-parser';
import { CHANGE_EVENTS, NOTIFICATION_EVENT, type ChangeEvent, type WireNotification } from '../contract';
import type { OutboundLimits } from './backlog';
import { admit, admitChange } from './gate';
import type { HeraldSocket } from './types';
import { directTcp, frameOf, writeCoalesced, type Frame } from './wire';

/**
 * Delivery of notifications to this node's sockets, on socket.io's documented
 * extension point: an adapter subclass that overrides `broadcast`. A
 * notification (`io.to(rooms).emit(NOTIFICATION_EVENT, n)`) is encoded once,
 * framed once, and offered to each recipient socket's delivery gate (gate.ts),
 * which holds it during that socket's catch-up or drops it when the catch-up
 * already carried it. What the gate admits is written by wire.ts where it can
 * be, else through Engine.IO's `write` with the frame already built, which is
 * what socket.io's own broadcast does for each socket. Every other broadcast
 * is socket.io's.
 *
 * `DeliveryAdapter` is the in-memory adapter (one node). In a cluster,
 * cluster.ts extends the Redis adapter the same way and carries notifications
 * between nodes on a channel of its own, since the Redis adapter hands packets
 * from other nodes to the base class's `broadcast`, which no subclass sees.
 */

interface Packet {
  type: number;
  nsp?: string;
  id?: number;
  data?: unknown[];
}

/** What passes the delivery gate: a notification, or a change to one, each with a seq. */
export type Gated = { event: typeof NOTIFICATION_EVENT; payload: WireNotification } | { event: ChangeEvent; payload: { seq: number } };

const GATED_EVENTS = new Set<string>([NOTIFICATION_EVENT, ...CHANGE_EVENTS]);

/** The gated event a broadcast carries, when it is one (no ack, not volatile). */
export function gatedOf(packet: Packet, opts: BroadcastOptions): Gated | undefined {
  if ((packet.type as PacketType) !== PacketType.EVENT || packet.id !== undefined || opts.flags?.volatile) return undefined;
  const data = packet.data;
  if (!Array.isArray(data) || data.length !== 2 || typeof data[0] !== 'string' || !GATED_EVENTS.has(data[0])) return undefined;
  const payload = data[1] as { seq?: unknown } | null | undefined;
  return typeof payload?.seq === 'number' ? ({ event: data[0], payload } as Gated) : undefined;
}

/** What delivery reads of a namespace: its sockets and the server's encoder (both public in socket.io). */
interface DeliveryNamespace {
  name: string;
  sockets: Map<string, HeraldSocket>;
  server: { encoder: Encoder };
}

/**
 * Engine.IO's `write` with the option socket.io's own broadcast passes: a
 * WebSocket transport sends the frame as built (one frame per fan-out, not one
 * per socket); a polling transport ignores it.
 */
type EngineWrite = (data: string, options: { wsPreEncodedFrame: Buffer[] }) => unknown;

/** What delivery on one server does besides writing: its outbound caps, and what it reports. */
export interface DeliverySettings {
  limits: OutboundLimits;
  /** Called once per fan-out that wrote to at least one socket: how many, and the notification's age in ms. */
  delivered?(sockets: number, lagMs: number): void;
}

/** Each server's settings (attachRealtime sets them): adapters are made by socket.io, not by Herald. */
const settingsOf = new WeakMap<object, DeliverySettings>();

export function setDeliverySettings(server: object, settings: DeliverySettings): void {
  settingsOf.set(server, settings);
}

/** Applies the socket's outbound cap after something was written to it outside deliverHere (a release of held notifications). */
export function checkOutbound(socket: HeraldSocket): void {
  settingsOf.get(socket.nsp.server)?.limits.admit(socket);
}

/** Offers a notification or a change to the gate of every socket of this node that `opts` selects. */
export function deliverHere(adapter: Adapter, g: Gated, opts: BroadcastOptions): void {
  const nsp = adapter.nsp as DeliveryNamespace;
  const encoded = nsp.server.encoder.encode({ type: PacketType.EVENT, nsp: nsp.name, data: [g.event, g.payload] }) as unknown[];
  // A notification is JSON: socket.io encodes it as one string, never with binary attachments.
  const text = encoded[0] as string;
  const settings = settingsOf.get(nsp.server);
  const limits = settings?.limits;
  let frame: Frame | undefined;
  let written = 0;
  const n = g.event === NOTIFICATION_EVENT ? g.payload : undefined;
  forEachRecipient(adapter, opts, (socket) => {
    if (n ? !admit(socket, n) : !admitChange(socket, g.event as ChangeEvent, g.payload)) return;
    frame ??= frameOf(text);
    const tcp = directTcp(socket);
    // A socket over its cap is cut off here and gets nothing more: it catches up when it reconnects.
    // On the direct path the TCP socket's queue is all the socket holds, so the check reads only that.
    if (limits && !limits.admit(socket, frame.length, tcp?.writableLength)) return;
    if (tcp) writeCoalesced(tcp, frame);
    else (socket.conn.write as EngineWrite).call(socket.conn, text, { wsPreEncodedFrame: [frame] });
    limits?.noteWritten(frame.length);
    written++;
  });
  if (n && written > 0) settings?.delivered?.(written, Date.now() - Date.parse(n.createdAt));
}

/** Calls `fn` once for each socket in any of `opts.rooms` (every socket when none) and in none of `opts.except`. */
function forEachRecipient(adapter: Adapter, opts: BroadcastOptions, fn: (socket: HeraldSocket) => void): void {
  const sockets = (adapter.nsp as DeliveryNamespace).sockets;
  let except: Set<string> | undefined;
  for (const room of opts.except ?? []) {
    for (const id of adapter.rooms.get(room) ?? []) (except ??= new Set()).add(id);
  }
  const visit = (id: string, seen: Set<string> | undefined): void => {
    if (except?.has(id) || seen?.has(id)) return;
    seen?.add(id);
    const socket = sockets.get(id);
    if (socket) fn(socket);
  };
  if (opts.rooms.size === 0) {
    for (const id of adapter.sids.keys()) visit(id, undefined);
    return;
  }
  // A socket in several of the rooms gets the notification once.
  const seen = opts.rooms.size > 1 ? new Set<string>() : undefined;
  for (const room of opts.rooms) {
    const ids = adapter.rooms.get(room);
    if (ids) for (const id of ids) visit(id, seen);
  }
}

/** The in-memory adapter, with notifications delivered through the gate. */
export class DeliveryAdapter extends Adapter {
  override broadcast(packet: Packet, opts: BroadcastOptions): void {
    const g = gatedOf(packet, opts);
    if (g) deliverHere(this, g, opts);
    else super.broadcast(packet, opts);
  }
}
