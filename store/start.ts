import type { Dispatch, UnknownAction } from '@reduxjs/toolkit';
import { createHeraldClient, HeraldRequestError, type HeraldBrowserClient, type HeraldClientOptions } from '@/lib/client/herald';
import { readLastSeq } from '@/lib/client/last-seq';
import type { ErrorCode, InboxView } from '@/lib/contract';
import { selectClockOffset } from './clock/slice';
import { leaderChanged, signedIn, statusChanged } from './connection/slice';
import type { HeraldState } from './herald';
import {
  archiveChanged,
  historyFailed,
  historyLoaded,
  historyRequested,
  newSocketMsg,
  notificationRemoved,
  notificationsExpired,
  notificationUpdated,
  preferencesChanged,
  readStateChanged,
  resumeFrom,
  selectExpiredIds,
  selectHistory,
  selectLastSeq,
  selectNextExpiry,
  syncReset,
  synced,
} from './notifications/slice';
import { fromTab, SHARED_ACTIONS, type TabRelay } from './tabs';
import { toastPresence } from './toasts/slice';
import { markUnreadAnswered } from './ui/slice';

/**
 * Wires a Herald client (lib/client/herald.ts) to a Redux store that holds
 * Herald's slices: every `receive_message` becomes a NEW_SOCKET_MSG, the
 * catch-up, read changes, changes to notifications (update, remove, archive,
 * preferences), status and tab presence become their actions, and the
 * requests the components make (history, read, unread, seen, archive,
 * preferences) dispatch what they answer. Held items also leave when their
 * `expiresAt` passes. The demo's bridge, `<HeraldProvider>` and herald/redux's
 * `startHerald` all run this one function.
 */

/**
 * How long `notifications:unread` may wait: a server without the event never
 * answers it, and the person who clicked is waiting.
 */
const UNREAD_ACK_TIMEOUT_MS = 5_000;
/** Errors that say "try again", not "this server cannot". */
const TRANSIENT_ACK_ERRORS: ReadonlySet<ErrorCode> = new Set(['unavailable', 'rate_limited']);
const PAGE_SIZE = 20;
/** The expiry timer wakes at least this often (setTimeout cannot wait 30 days), and looks again. */
const MAX_EXPIRY_WAIT_MS = 60 * 60_000;

/** What the components ask of the connection. */
export interface HeraldActions {
  /** Loads the next older page of one inbox view's history (default `all`; the first page when nothing is loaded). */
  loadHistory: (opts?: { first?: boolean; view?: InboxView }) => Promise<void>;
  /** Moves items to the Archived view (or, with `archived: false`, back out of it), for every tab of the user. */
  archive: (ids: string[], archived?: boolean) => Promise<void>;
  /** Replaces the user's muted entity types. */
  setMutedTypes: (mutedTypes: string[]) => Promise<void>;
  markRead: (ids: string[]) => Promise<void>;
  /**
   * Marks notifications unread. A server that refuses the event, or does not
   * answer it while connected, turns every "Mark unread" control off.
   */
  markUnread: (ids: string[]) => Promise<void>;
  markAllRead: () => Promise<void>;
  /** These notifications were shown in a visible tab: each id is sent once, batched as `notifications:seen`. */
  markSeen: (ids: string[]) => void;
}

export interface HeraldSession extends HeraldActions {
  /** The client underneath (its own events, `lastSeq`, `isLeader`). */
  client: HeraldBrowserClient;
  /** Closes the connection and removes the listeners. */
  stop(): void;
}

/** The part of a store Herald uses. */
export interface StoreLike<S> {
  getState(): S;
  dispatch: Dispatch<UnknownAction>;
}

export interface StartHeraldOptions<S> extends Omit<HeraldClientOptions, 'getLastSeq' | 'on'> {
  /** Where Herald's slices are in the store's state; `state.herald` when omitted (herald/redux's `heraldReducer`). */
  select?: (state: S) => HeraldState;
  /** The store's tab relay (heraldMiddleware): toasts dismissed here are dismissed in every tab. */
  tabs?: TabRelay;
}

export function startHerald<S>(store: StoreLike<S>, options: StartHeraldOptions<S>): HeraldSession {
  const { select = (s: S) => (s as unknown as { herald: HeraldState }).herald, tabs, ...clientOptions } = options;
  const { dispatch } = store;
  const state = () => select(store.getState());

  dispatch(signedIn(options.userId));
  // Before the first handshake, which sends the store's lastSeq.
  dispatch(resumeFrom(readLastSeq(options.userId)));

  /**
   * Removes held items once their `expiresAt` passes on the server's clock (the
   * clock slice's offset corrects this browser's), without waiting for the
   * server's `notification:remove`, which may come late or, offline, not at all.
   * Re-armed whenever items arrive.
   */
  let expiryTimer: ReturnType<typeof setTimeout> | undefined;
  const armExpiry = () => {
    clearTimeout(expiryTimer);
    const next = selectNextExpiry(state());
    if (next === null) return;
    const serverNow = () => Date.now() + selectClockOffset(state());
    expiryTimer = setTimeout(
      () => {
        const ids = selectExpiredIds(state(), serverNow());
        if (ids.length > 0) dispatch(notificationsExpired(ids));
        armExpiry();
      },
      Math.min(Math.max(0, next - serverNow()), MAX_EXPIRY_WAIT_MS),
    );
  };

  // Its listeners call `actions` (below) only once the socket has answered.
  const client = createHeraldClient({
    ...clientOptions,
    getLastSeq: () => selectLastSeq(state()),
    on: {
      notification(n) {
        dispatch(newSocketMsg(n));
        if (n.expiresAt !== undefined) armExpiry();
      },
      synced(s) {
        dispatch(synced(s));
        armExpiry();
        if (s.firstVisit) void actions.loadHistory({ first: true });
      },
      reset() {
        dispatch(syncReset());
        void actions.loadHistory({ first: true });
      },
      state: (s) => dispatch(readStateChanged(s)),
      update: (u) => dispatch(notificationUpdated(u)),
      remove: (r) => dispatch(notificationRemoved(r)),
      archived: (s) => dispatch(archiveChanged(s)),
      preferences: (p) => dispatch(preferencesChanged(p)),
      status: ({ status, error }) => dispatch(statusChanged({ status, error })),
      presence: (p) => dispatch(toastPresence(p)),
      leader: (isLeader) => dispatch(leaderChanged(isLeader)),
      shared(action) {
        if (SHARED_ACTIONS(action)) dispatch(fromTab(action));
      },
    },
  });

  const actions: HeraldActions = {
    markSeen: (ids) => client.markSeen(ids),
    async loadHistory({ first = false, view = 'all' } = {}) {
      const history = selectHistory(state(), view);
      if (!first && (history.status === 'loading' || history.complete)) return;
      dispatch(historyRequested(view));
      try {
        const before = first ? undefined : (history.nextCursor ?? undefined);
        // The All view is the server's default: its request stays as an older server knows it.
        const page = await client.list({ ...(before === undefined ? {} : { before }), limit: PAGE_SIZE, ...(view === 'all' ? {} : { view }) });
        dispatch(historyLoaded({ items: page.items, nextCursor: page.nextCursor, first: before === undefined, view }));
        armExpiry();
      } catch {
        dispatch(historyFailed(view));
      }
    },
    async archive(ids, archived = true) {
      if (ids.length === 0) return;
      dispatch(archiveChanged(await client.archive(ids, archived)));
    },
    async setMutedTypes(mutedTypes) {
      dispatch(preferencesChanged(await client.preferences({ mutedTypes })));
    },
    async markRead(ids) {
      if (ids.length === 0) return;
      dispatch(readStateChanged(await client.markRead(ids)));
    },
    async markUnread(ids) {
      if (ids.length === 0) return;
      let res;
      try {
        res = await client.markUnread(ids, UNREAD_ACK_TIMEOUT_MS);
      } catch (err) {
        // An error answer other than "try again", or no answer at all while connected: a server without the event.
        const refused = err instanceof HeraldRequestError;
        if ((refused && !TRANSIENT_ACK_ERRORS.has(err.code)) || (!refused && state().connection.status === 'live')) {
          dispatch(markUnreadAnswered(false));
        }
        throw err;
      }
      dispatch(markUnreadAnswered(true));
      dispatch(readStateChanged({ ...res, unreadIds: res.unreadIds ?? ids }));
    },
    async markAllRead() {
      dispatch(readStateChanged(await client.markAllRead()));
    },
  };

  if (tabs) tabs.relay = (action) => client.share(action);

  const onOnline = () => dispatch(statusChanged({ status: 'reconnecting' }));
  const onOffline = () => dispatch(statusChanged({ status: 'offline' }));
  window.addEventListener('offline', onOffline);
  window.addEventListener('online', onOnline);

  return {
    ...actions,
    client,
    stop() {
      window.removeEventListener('offline', onOffline);
      window.removeEventListener('online', onOnline);
      if (tabs) tabs.relay = null;
      clearTimeout(expiryTimer);
      client.close();
    },
  };
}
