import 'server-only';
import { NOTIFICATION_EVENT, type ChangeEvent, type WireNotification } from '../contract';

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
 * delivery.ts asks `admit` for every live notification and socket, from the
 * adapters' `broadcast` (local pushes, and those arriving from other nodes).
 */


interface GateState {
  /** Live notifications held while a replay is in flight; null when open. */
  held: WireNotification[] | null;
  /** Live changes (`notification:update`, `notification:remove`) held with them, in arrival order. */
  heldChanges: Array<[ChangeEvent, unknown]>;
  /** The replay covered every seq up to here; live copies of those are dropped. */
  replayedUpTo: number;
  /** Highest seq written to this socket (live or replayed). */
  lastDelivered: number;
  /** During a fan-out outage: where the socket stood when it began, and what it got since. */
  outage: { from: number; delivered: Set<number> } | null;
}

type Emitter = { emit(event: string, ...args: unknown[]): boolean };
type GatedSocket = Emitter & object;

const gates = new WeakMap<object, GateState>();

function stateOf(socket: object): GateState {
  let state = gates.get(socket);
  if (!state) {
    state = { held: null, heldChanges: [], replayedUpTo: 0, lastDelivered: 0, outage: null };
    gates.set(socket, state);
  }
  return state;
}

function delivered(state: GateState, seq: number): void {
  if (seq > state.lastDelivered) state.lastDelivered = seq;
  state.outage?.delivered.add(seq);
}

/** What holdDeliveries returns: the binding it began, to tell later whether it is still the socket's. */
export type Binding = object;

/**
 * Starts holding live notifications for a socket (before it joins its room, or
 * before a resync). Returns the binding, which stays current until the gate is
 * cleared (a re-bind to another user, or a disconnect).
 */
export function holdDeliveries(socket: GatedSocket): Binding {
  const state = stateOf(socket);
  state.held = [];
  return state;
}

/** True while `binding` is still the socket's: no re-bind or disconnect cleared its gate since. */
export function isCurrent(socket: GatedSocket, binding: Binding): boolean {
  return gates.get(socket) === binding;
}

/** True while a catch-up or resync holds this socket's live deliveries. */
export function isHolding(socket: GatedSocket): boolean {
  return gates.get(socket)?.held != null;
}

/** Records that a replayed notification was written to the socket. */
export function noteReplayed(socket: GatedSocket, seq: number): void {
  delivered(stateOf(socket), seq);
}

/**
 * Records where a (re)connecting socket stands once its catch-up is read: it has
 * (or, after a reset or on a first visit, will load from the inbox page) every
 * notification up to `seq`. Without this, a socket that got nothing live before
 * a Redis outage would be resynced from seq 0 when the link returned: its whole
 * history replayed again (cluster test: redis-outage).
 */
export function noteCaughtUp(socket: GatedSocket, seq: number): void {
  const state = stateOf(socket);
  if (seq > state.lastDelivered) state.lastDelivered = seq;
  // A socket that connected during the outage started it at 0: it stands here now.
  if (state.outage && seq > state.outage.from) state.outage.from = seq;
}

/**
 * Opens the gate after the replay: sends what was held, in seq order, skipping
 * what the replay covered. Returns how many held notifications were sent.
 */
export function releaseDeliveries(socket: GatedSocket, replayedUpTo: number): number {
  const state = stateOf(socket);
  const held = state.held ?? [];
  state.held = null;
  state.replayedUpTo = Math.max(state.replayedUpTo, replayedUpTo);
  const seen = new Set<string>();
  let sent = 0;
  for (const n of held.sort((a, b) => a.seq - b.seq)) {
    if (n.seq <= state.replayedUpTo || seen.has(n.id)) continue;
    seen.add(n.id);
    socket.emit(NOTIFICATION_EVENT, n);
    delivered(state, n.seq);
    sent++;
  }
  // After the replay and the notifications it held: a change then always follows what it changes.
  const changes = state.heldChanges;
  state.heldChanges = [];
  for (const [event, payload] of changes) socket.emit(event, payload);
  return sent;
}

/** Highest seq written to this socket, live or replayed (the admin view's user lookup); undefined before its catch-up. */
export function lastDeliveredOf(socket: object): number | undefined {
  return gates.get(socket)?.lastDelivered;
}

/** Forgets a socket's gate (identity change or disconnect). */
export function clearGate(socket: GatedSocket): void {
  gates.delete(socket);
}

/** The fan-out link went down: remember where each socket stood, and what it gets from now on. */
export function beginOutage(socket: GatedSocket): void {
  const state = stateOf(socket);
  state.outage ??= { from: state.lastDelivered, delivered: new Set() };
}

/** The link is back: what the resync needs to know, and the end of the bookkeeping. */
export function takeOutage(socket: GatedSocket): { from: number; delivered: Set<number> } | null {
  const state = gates.get(socket);
  const outage = state?.outage ?? null;
  if (state) state.outage = null;
  return outage;
}

/**
 * Decides, for one socket, whether a live change goes to the wire now: during a
 * catch-up it is held, and sent after the replay (which may carry the very item
 * it removes or updates). Changes are idempotent, so one the replay also
 * carried is sent again, never dropped.
 */
export function admitChange(socket: object, event: ChangeEvent, payload: unknown): boolean {
  const state = gates.get(socket);
  if (!state?.held) return true;
  state.heldChanges.push([event, payload]);
  return false;
}

/** Decides, for one socket, whether a live notification goes to the wire now. */
export function admit(socket: object, n: WireNotification): boolean {
  const state = gates.get(socket);
  if (!state) return true;
  if (n.seq <= state.replayedUpTo) return false;
  if (state.held) {
    state.held.push(n);
    return false;
  }
  delivered(state, n.seq);
  return true;
}
