import type { Adapter } from 'socket.io-adapter';
import type { WireNotification } from '../protocol';

/**
 * The delivery gate: what makes catch-up and live delivery meet with no gap,
 * no duplicate and no reordering.
 *
 * A (re)connecting socket joins its user room at once, so nothing live can slip
 * past it, but while its catch-up query runs, live notifications for it are held
 * here instead of written to the wire. When the replay has been sent, the held
 * ones follow in seq order, minus any the replay already carried; after that, a
 * live notification whose seq the replay covered is dropped (it was stored
 * before the replay read, but fanned out after).
 *
 * socket.io has no per-socket outgoing filter, so the gate wraps the adapter's
 * `apply` (which every broadcast, local or arriving from Redis, goes through)
 * and learns the packet from `_encode`, which broadcast calls just before it.
 * Both are internal to socket.io-adapter; the integration tests pin the
 * behaviour, so an upgrade that changes them fails loudly.
 */

export const NOTIFICATION_EVENT = 'receive_message';

interface GateState {
  /** Live notifications held while the replay is in flight; null once open. */
  held: WireNotification[] | null;
  /** The replay covered every seq up to here; live copies of those are dropped. */
  replayedUpTo: number;
}

type Emitter = { emit(event: string, ...args: unknown[]): boolean };
type GatedSocket = Emitter & object;

const gates = new WeakMap<object, GateState>();

/** Starts holding live notifications for a socket (before it joins its room). */
export function holdDeliveries(socket: GatedSocket): void {
  gates.set(socket, { held: [], replayedUpTo: 0 });
}

/**
 * Opens the gate after the replay: sends what was held, in seq order, skipping
 * what the replay covered. Returns how many held notifications were sent.
 */
export function releaseDeliveries(socket: GatedSocket, replayedUpTo: number): number {
  const state = gates.get(socket);
  if (!state) return 0;
  const held = state.held ?? [];
  state.held = null;
  state.replayedUpTo = replayedUpTo;
  const seen = new Set<string>();
  let sent = 0;
  for (const n of held.sort((a, b) => a.seq - b.seq)) {
    if (n.seq <= replayedUpTo || seen.has(n.id)) continue;
    seen.add(n.id);
    socket.emit(NOTIFICATION_EVENT, n);
    sent++;
  }
  if (replayedUpTo === 0) gates.delete(socket);
  return sent;
}

/** Forgets a socket's gate (identity change or disconnect). */
export function clearGate(socket: GatedSocket): void {
  gates.delete(socket);
}

/** Decides, for one socket, whether a live notification goes to the wire now. */
function admit(socket: object, n: WireNotification): boolean {
  const state = gates.get(socket);
  if (!state) return true;
  if (n.seq <= state.replayedUpTo) return false;
  if (state.held) {
    state.held.push(n);
    return false;
  }
  return true;
}

interface Packet {
  type: number;
  data?: unknown[];
}
interface AdapterInternals {
  _encode(packet: Packet, opts: unknown): unknown;
  apply(opts: unknown, callback: (socket: object) => void): void;
  __heraldGate?: true;
}

function notificationOf(packet: Packet | null): WireNotification | undefined {
  const data = packet?.data;
  if (!Array.isArray(data) || data[0] !== NOTIFICATION_EVENT) return undefined;
  const n = data[1] as WireNotification | undefined;
  return typeof n?.seq === 'number' ? n : undefined;
}

/** Installs the gate on a namespace's adapter (in-memory or Redis: both inherit these). */
export function installDeliveryGate(adapter: Adapter): void {
  const internals = adapter as unknown as AdapterInternals;
  if (internals.__heraldGate) return;
  const encode = internals._encode.bind(adapter);
  const apply = internals.apply.bind(adapter);
  let current: Packet | null = null;
  internals._encode = (packet, opts) => {
    current = packet;
    return encode(packet, opts);
  };
  internals.apply = (opts, callback) => {
    // Read and clear: fetchSockets() and friends call apply() without encoding.
    const n = notificationOf(current);
    current = null;
    if (!n) return apply(opts, callback);
    return apply(opts, (socket) => {
      if (admit(socket, n)) callback(socket);
    });
  };
  internals.__heraldGate = true;
}
