import 'server-only';
import { setTimeout as sleep } from 'node:timers/promises';
import { roomOf } from './rooms';
import { drained } from './backlog';
import { checkOutbound } from './delivery';
import { clearGate, holdDeliveries, isCurrent, isHolding, noteCaughtUp, noteReplayed, releaseDeliveries, takeOutage } from './gate';
import type { NotificationChange, NotificationRemove, NotificationUpdate, WireNotification } from '../contract';
import type { HeraldSocket, RealtimeDeps } from './types';

/** A catch-up writes this many notifications at a time, then waits for the client to read them. */
const CATCHUP_PAGE = 50;
/** The next page is written once at most this much of the last one is still unread. */
const CATCHUP_QUEUE_BYTES = 64 * 1024;
/** A client that reads nothing of a page for this long is cut off; it reconnects and catches up from where it got to. */
const CATCHUP_DRAIN_TIMEOUT_MS = 15_000;

/**
 * Binds a socket to its user and brings it up to date: joins the user room with
 * live delivery held, replays everything after `lastSeq` in order, a page at a
 * time, then opens the gate. Without `lastSeq` (a first visit) nothing is
 * replayed: the client loads the first inbox page instead.
 *
 * The room is joined before the first `await`. After each one the catch-up goes
 * on only while its binding is current: a `user_login` that re-bound the socket
 * meanwhile cleared the gate, and its own catch-up owns the socket now.
 */
export async function bindAndCatchUp(
  socket: HeraldSocket,
  userId: string,
  lastSeq: number | undefined,
  { inbox, config, log, metrics }: RealtimeDeps,
): Promise<void> {
  const binding = holdDeliveries(socket);
  await socket.join(roomOf(userId));
  const current = () => socket.connected && isCurrent(socket, binding);
  let replayedUpTo = 0;
  let replayed = 0;
  /** Where the socket stands after catch-up (see noteCaughtUp); undefined: a first visit, the head. */
  let caughtUpTo: number | undefined;
  try {
    if (lastSeq !== undefined) {
      const since = await inbox.since(userId, lastSeq, config.inbox.maxPerUser);
      if (!current()) return;
      if (since.reset) {
        socket.emit('sync_reset', { headSeq: since.headSeq });
        caughtUpTo = since.headSeq;
      } else {
        if (!(await replayInPages(socket, since.items, current))) return;
        emitChanges(socket, since.changes);
        replayed = since.items.length;
        metrics.deliveries.inc({ path: 'replay' }, replayed);
        replayedUpTo = since.items.at(-1)?.seq ?? lastSeq;
        caughtUpTo = replayedUpTo;
      }
    }
    const [summary, preferences] = await Promise.all([inbox.summary(userId), inbox.preferences(userId)]);
    if (!current()) return;
    socket.emit('notifications:synced', {
      replayed,
      unread: summary.unread,
      headSeq: summary.headSeq,
      serverTime: Date.now(),
      ...(preferences.mutedTypes.length > 0 ? { preferences } : {}),
    });
    // A first visit (and a reset) loads the inbox page for what is at or below the head it
    // was told: live copies of those would arrive twice, so the gate drops them too.
    const standsAt = caughtUpTo ?? summary.headSeq;
    noteCaughtUp(socket, standsAt);
    const released = releaseDeliveries(socket, Math.max(replayedUpTo, standsAt));
    if (released > 0) {
      metrics.deliveries.inc({ path: 'live' }, released);
      checkOutbound(socket);
    }
  } catch (err) {
    log.error('catch-up failed', { userId, err });
    if (!current()) return;
    releaseDeliveries(socket, replayedUpTo);
    // The client reconnects (and catches up) after a server-side disconnect.
    socket.disconnect(true);
  }
}

/**
 * Writes a replay a page at a time, waiting for the client to read each page
 * before the next, so one catch-up never queues more than about a page in this
 * process. False when the binding ended meanwhile (nothing more is written) or
 * the client stopped reading (it is cut off, and catches up when it returns).
 */
async function replayInPages(socket: HeraldSocket, items: WireNotification[], current: () => boolean): Promise<boolean> {
  for (let start = 0; start < items.length; start += CATCHUP_PAGE) {
    if (start > 0 && !(await drained(socket, CATCHUP_QUEUE_BYTES, CATCHUP_DRAIN_TIMEOUT_MS))) {
      if (socket.connected) socket.disconnect(true);
      return false;
    }
    if (!current()) return false;
    for (const n of items.slice(start, start + CATCHUP_PAGE)) {
      socket.emit('receive_message', { ...n, replay: true });
      noteReplayed(socket, n.seq);
    }
  }
  return true;
}

/** Replays stored changes after the notifications, each on its own event. */
function emitChanges(socket: HeraldSocket, changes: NotificationChange[]): void {
  for (const { kind, ...change } of changes) {
    if (kind === 'update') socket.emit('notification:update', change as NotificationUpdate);
    else socket.emit('notification:remove', change as NotificationRemove);
  }
}

/** How long a resync waits for a running catch-up: 50 × 100 ms. */
const RESYNC_WAIT_STEPS = 50;
const RESYNC_WAIT_STEP_MS = 100;

/**
 * After the fan-out link (Redis) was down: replays from the inbox what this
 * socket did not get while it was, without repeating what it did get (its own
 * node's pushes kept flowing). Replayed items carry `replay: true`.
 */
export async function resyncAfterOutage(socket: HeraldSocket, { inbox, config, log }: RealtimeDeps): Promise<void> {
  // A catch-up still running owns the held list: let it finish first (bounded), then resync.
  for (let i = 0; i < RESYNC_WAIT_STEPS && isHolding(socket); i++) await sleep(RESYNC_WAIT_STEP_MS);
  if (isHolding(socket)) {
    log.warn('resync skipped: catch-up still running; the client catches up on its next reconnect', { userId: socket.data.userId });
    return;
  }
  const outage = takeOutage(socket);
  if (!outage || !socket.connected) return;
  const { userId } = socket.data;
  const binding = holdDeliveries(socket);
  let replayedUpTo = 0;
  try {
    const since = await inbox.since(userId, outage.from, config.inbox.maxPerUser);
    if (!socket.connected || !isCurrent(socket, binding)) return;
    if (since.reset) {
      socket.emit('sync_reset', { headSeq: since.headSeq });
    } else {
      for (const n of since.items) {
        if (outage.delivered.has(n.seq)) continue;
        socket.emit('receive_message', { ...n, replay: true });
        noteReplayed(socket, n.seq);
      }
      replayedUpTo = since.items.at(-1)?.seq ?? 0;
      emitChanges(socket, since.changes);
    }
    releaseDeliveries(socket, replayedUpTo);
  } catch (err) {
    log.error('resync failed; the client will catch up on reconnect', { userId, err });
    releaseDeliveries(socket, replayedUpTo);
    socket.disconnect(true);
  }
}

/**
 * Undoes a binding (legacy re-login as another user), synchronously: the gate is
 * cleared, so a catch-up still running for it stops at its next step.
 */
export function unbind(socket: HeraldSocket, userId: string): void {
  clearGate(socket);
  void socket.leave(roomOf(userId));
}
