'use client';

import type { UnknownAction } from '@reduxjs/toolkit';
import { createContext, useContext, useEffect, useMemo, useRef, type ReactNode } from 'react';
import { connectHerald, type HeraldConnection } from '@/lib/client/connection';
import type { ReadChange } from '@/lib/client/socket';
import {
  MAX_SEEN_IDS,
  type Ack,
  type ArchiveState,
  type ErrorCode,
  type InboxView,
  type ListPage,
  type Preferences,
  type ReplayedNotification,
  type ServerToClientEvents,
  type SyncDone,
  type WireNotification,
} from '@/lib/contract';
import { selectClockOffset } from '@/store/clock/slice';
import { leaderChanged, statusChanged } from '@/store/connection/slice';
import { useAppDispatch, useAppSelector, useAppStore } from '@/store/hooks';
import { fromTab, SHARED_ACTIONS } from '@/store/tabs';
import { toastPresence } from '@/store/toasts/slice';
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
} from '@/store/notifications/slice';
import { markUnreadAnswered } from '@/store/ui/slice';

/** How long a socket request may wait for its ack. */
const ACK_TIMEOUT_MS = 10_000;
/**
 * How long `notifications:unread` may wait: a server without the event never
 * answers it, and the person who clicked is waiting.
 */
const UNREAD_ACK_TIMEOUT_MS = 5_000;
/** Errors that say "try again", not "this server cannot". */
const TRANSIENT_ACK_ERRORS: ReadonlySet<ErrorCode> = new Set(['unavailable', 'rate_limited']);
const PAGE_SIZE = 20;

/** A request the server answered with an error (not a timeout, not a lost connection). */
export class RefusedRequestError extends Error {
  constructor(readonly code: ErrorCode) {
    super(code);
  }
}

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
  /**
   * These notifications were shown in a visible tab (a toast, an item in the open
   * inbox): sent once each, batched every SEEN_BATCH_MS as `notifications:seen`.
   */
  markSeen: (ids: string[]) => void;
}

/** Ids shown are collected this long, then sent in one `notifications:seen`. */
const SEEN_BATCH_MS = 250;
/** Server events that become one action each, with the payload as it came. */
const EVENT_ACTIONS: { [E in keyof ServerToClientEvents]?: (payload: Parameters<ServerToClientEvents[E]>[0]) => UnknownAction } = {
  'notifications:state': readStateChanged,
  'notification:update': notificationUpdated,
  'notification:remove': notificationRemoved,
  'notifications:archived': archiveChanged,
  'notifications:preferences': preferencesChanged,
};

/** The expiry timer wakes at least this often (setTimeout cannot wait 30 days), and looks again. */
const MAX_EXPIRY_WAIT_MS = 60 * 60_000;

/**
 * Removes held items once their `expiresAt` passes on the server's clock (the
 * store's clock offset corrects this browser's), without waiting for the
 * server's `notification:remove`, which may come late or, offline, not at all.
 */
function useExpiry(): void {
  const dispatch = useAppDispatch();
  const store = useAppStore();
  const next = useAppSelector(selectNextExpiry);
  const offset = useAppSelector(selectClockOffset);
  useEffect(() => {
    if (next === null) return;
    const expire = () => {
      const ids = selectExpiredIds(store.getState(), Date.now() + offset);
      if (ids.length > 0) dispatch(notificationsExpired(ids));
    };
    const wait = next - (Date.now() + offset);
    if (wait <= 0) {
      expire();
      return;
    }
    const timer = setTimeout(expire, Math.min(wait, MAX_EXPIRY_WAIT_MS));
    return () => clearTimeout(timer);
  }, [next, offset, dispatch, store]);
}

const HeraldContext = createContext<HeraldActions | null>(null);

export function useHerald(): HeraldActions {
  const ctx = useContext(HeraldContext);
  if (!ctx) throw new Error('useHerald must be used inside <HeraldSocketBridge>');
  return ctx;
}

const lastSeqKey = (userId: string) => `herald:lastSeq:${userId}`;

function readPersistedSeq(userId: string): number | null {
  try {
    const v = Number(window.localStorage.getItem(lastSeqKey(userId)));
    return Number.isSafeInteger(v) && v > 0 ? v : null;
  } catch {
    return null;
  }
}

interface Props {
  userId: string;
  socketPath: string;
  getToken: (opts: { refresh: boolean }) => Promise<string>;
  /** With every tab hidden this long, the connection closes until one is visible (0: never; default 5 min). */
  idleDisconnectMs?: number;
  children: ReactNode;
}

/**
 * Connects this tab to Herald for one signed-in user and bridges the
 * connection to Redux: every `receive_message` becomes a NEW_SOCKET_MSG, and
 * each change (update, remove, archived, preferences) an action of its own. The
 * tabs of one user share one connection (lib/client/connection.ts): whichever
 * tab holds it, every tab's store gets the same actions, and requests from the
 * others go through it.
 */
export function HeraldSocketBridge({ userId, socketPath, getToken, idleDisconnectMs, children }: Props) {
  const dispatch = useAppDispatch();
  const store = useAppStore();
  const connectionRef = useRef<HeraldConnection | null>(null);
  const getTokenRef = useRef(getToken);
  getTokenRef.current = getToken;

  useEffect(() => {
    const persisted = readPersistedSeq(userId);
    dispatch(resumeFrom(persisted));

    const persistSeq = () => {
      const seq = selectLastSeq(store.getState());
      if (seq === null) return;
      try {
        window.localStorage.setItem(lastSeqKey(userId), String(seq));
      } catch {
        // Private mode or quota: catch-up then starts from the inbox's first page.
      }
    };

    const connection = connectHerald({
      userId,
      path: socketPath,
      getToken: (o) => getTokenRef.current(o),
      getLastSeq: () => selectLastSeq(store.getState()),
      idleDisconnectMs,
      on: {
        event(event, payload) {
          switch (event) {
            case 'receive_message':
              dispatch(newSocketMsg(payload as WireNotification | ReplayedNotification));
              persistSeq();
              return;
            case 'notifications:synced': {
              const { firstVisit, ...sync } = payload as SyncDone & { firstVisit: boolean };
              dispatch(synced({ ...sync, firstVisit }));
              if (firstVisit) void actions.loadHistory({ first: true });
              return;
            }
            case 'sync_reset':
              dispatch(syncReset());
              void actions.loadHistory({ first: true });
              return;
            default: {
              const toAction = EVENT_ACTIONS[event] as ((p: unknown) => UnknownAction) | undefined;
              if (toAction) dispatch(toAction(payload));
            }
          }
        },
        status(status, error) {
          dispatch(statusChanged({ status, error }));
        },
        presence(p) {
          dispatch(toastPresence(p));
        },
        leader(isLeader) {
          dispatch(leaderChanged(isLeader));
        },
        shared(action) {
          if (SHARED_ACTIONS(action)) dispatch(fromTab(action));
        },
      },
    });
    connectionRef.current = connection;
    store.tabs.relay = (action) => connection.share(action);

    function onOnline() {
      dispatch(statusChanged({ status: 'reconnecting' }));
    }
    function onOffline() {
      dispatch(statusChanged({ status: 'offline' }));
    }
    window.addEventListener('offline', onOffline);
    window.addEventListener('online', onOnline);

    return () => {
      window.removeEventListener('offline', onOffline);
      window.removeEventListener('online', onOnline);
      store.tabs.relay = null;
      connection.close();
      connectionRef.current = null;
    };
    // `actions` is stable for a given store; listing it would reconnect for nothing.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [userId, socketPath, idleDisconnectMs, dispatch, store]);

  const actions = useMemo<HeraldActions>(() => {
    const request = async <T extends object>(event: Parameters<HeraldConnection['request']>[0], payload: unknown, timeoutMs = ACK_TIMEOUT_MS): Promise<T> => {
      const connection = connectionRef.current;
      if (!connection) throw new Error('not connected');
      const res = (await connection.request(event, payload, timeoutMs)) as Ack<T>;
      if (!res.ok) throw new RefusedRequestError(res.error);
      return res;
    };
    // Ids sent (or waiting to be) as seen: each goes once; one the server did not take is sent again next time it is shown.
    const seenSent = new Set<string>();
    const seenQueue: string[] = [];
    let seenTimer: ReturnType<typeof setTimeout> | undefined;
    const flushSeen = () => {
      seenTimer = undefined;
      const batch = seenQueue.splice(0, MAX_SEEN_IDS);
      if (seenQueue.length > 0) seenTimer = setTimeout(flushSeen, SEEN_BATCH_MS);
      if (batch.length === 0) return;
      request('notifications:seen', { ids: batch }).catch(() => batch.forEach((id) => seenSent.delete(id)));
    };
    return {
      markSeen(ids) {
        for (const id of ids) {
          if (seenSent.has(id)) continue;
          seenSent.add(id);
          seenQueue.push(id);
        }
        if (seenQueue.length > 0) seenTimer ??= setTimeout(flushSeen, SEEN_BATCH_MS);
      },
      async loadHistory({ first = false, view = 'all' } = {}) {
        const history = selectHistory(store.getState(), view);
        if (!first && (history.status === 'loading' || history.complete)) return;
        dispatch(historyRequested(view));
        try {
          const before = first ? undefined : (history.nextCursor ?? undefined);
          // The All view is the server's default: its request stays as an older server knows it.
          const page = await request<ListPage>('notifications:list', {
            ...(before === undefined ? {} : { before }),
            limit: PAGE_SIZE,
            ...(view === 'all' ? {} : { view }),
          });
          dispatch(historyLoaded({ items: page.items, nextCursor: page.nextCursor, first: before === undefined, view }));
        } catch {
          dispatch(historyFailed(view));
        }
      },
      async archive(ids, archived = true) {
        if (ids.length === 0) return;
        dispatch(archiveChanged(await request<ArchiveState>('notifications:archive', { ids, archived })));
      },
      async setMutedTypes(mutedTypes) {
        dispatch(preferencesChanged(await request<Preferences>('notifications:preferences', { mutedTypes })));
      },
      async markRead(ids) {
        if (ids.length === 0) return;
        dispatch(readStateChanged(await request<ReadChange>('notifications:read', { ids })));
      },
      async markUnread(ids) {
        if (ids.length === 0) return;
        let res: ReadChange;
        try {
          res = await request<ReadChange>('notifications:unread', { ids }, UNREAD_ACK_TIMEOUT_MS);
        } catch (err) {
          // An error answer other than "try again", or no answer at all while connected: a server without the event.
          const refused = err instanceof RefusedRequestError;
          if ((refused && !TRANSIENT_ACK_ERRORS.has(err.code)) || (!refused && store.getState().connection.status === 'live')) {
            dispatch(markUnreadAnswered(false));
          }
          throw err;
        }
        dispatch(markUnreadAnswered(true));
        dispatch(readStateChanged({ ...res, unreadIds: res.unreadIds ?? ids }));
      },
      async markAllRead() {
        dispatch(readStateChanged(await request<ReadChange>('notifications:read-all', undefined)));
      },
    };
  }, [dispatch, store]);

  useExpiry();

  return <HeraldContext.Provider value={actions}>{children}</HeraldContext.Provider>;
}
