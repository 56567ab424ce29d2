'use client';

import { createContext, useContext, useEffect, useMemo, useRef, type ReactNode } from 'react';
import { createHeraldSocket, type HeraldClientSocket, type ReadChange, type Refusal } from '@/lib/client/socket';
import type { Ack, ErrorCode, ListPage, ReplayedNotification, SyncDone, WireNotification } from '@/lib/contract';
import { statusChanged } from '@/store/connection/slice';
import { useAppDispatch, useAppStore } from '@/store/hooks';
import {
  historyFailed,
  historyLoaded,
  historyRequested,
  newSocketMsg,
  readStateChanged,
  resumeFrom,
  selectHistory,
  selectLastSeq,
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
  /** Loads the next older page of history (the first page when nothing is loaded). */
  loadHistory: (opts?: { first?: boolean }) => Promise<void>;
  markRead: (ids: string[]) => Promise<void>;
  /**
   * Marks notifications unread. A server that refuses the event, or does not
   * answer it while connected, turns every "Mark unread" control off.
   */
  markUnread: (ids: string[]) => Promise<void>;
  markAllRead: () => Promise<void>;
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
  children: ReactNode;
}

/**
 * Owns the socket for one signed-in user and bridges it to Redux: every
 * `receive_message` becomes a NEW_SOCKET_MSG. Listeners are named functions
 * removed on cleanup, so StrictMode's double effects never register twice.
 */
export function HeraldSocketBridge({ userId, socketPath, getToken, children }: Props) {
  const dispatch = useAppDispatch();
  const store = useAppStore();
  const socketRef = useRef<HeraldClientSocket | null>(null);
  const getTokenRef = useRef(getToken);
  getTokenRef.current = getToken;

  useEffect(() => {
    const persisted = readPersistedSeq(userId);
    dispatch(resumeFrom(persisted));
    let sentLastSeq: number | null = persisted;
    const client = createHeraldSocket({
      path: socketPath,
      getToken: (o) => getTokenRef.current(o),
      getLastSeq: () => {
        sentLastSeq = selectLastSeq(store.getState());
        return sentLastSeq;
      },
      onRefused: ({ code, retryInMs }: Refusal) => {
        dispatch(statusChanged({ status: retryInMs === null ? 'offline' : 'reconnecting', error: code }));
      },
    });
    const { socket } = client;
    socketRef.current = socket;

    const persistSeq = () => {
      const seq = selectLastSeq(store.getState());
      if (seq === null) return;
      try {
        window.localStorage.setItem(lastSeqKey(userId), String(seq));
      } catch {
        // Private mode or quota: catch-up then starts from the inbox's first page.
      }
    };

    function onConnect() {
      dispatch(statusChanged({ status: 'connecting' }));
    }
    function onReceive(n: WireNotification | ReplayedNotification) {
      dispatch(newSocketMsg(n));
      persistSeq();
    }
    function onSynced(s: SyncDone) {
      const firstVisit = sentLastSeq === null;
      dispatch(synced({ ...s, firstVisit }));
      dispatch(statusChanged({ status: 'live' }));
      if (firstVisit) void actions.loadHistory({ first: true });
    }
    function onReset() {
      dispatch(syncReset());
      void actions.loadHistory({ first: true });
    }
    function onState(s: ReadChange) {
      dispatch(readStateChanged(s));
    }
    function onDisconnect(reason: string) {
      // A server-side close is retried by the client, which reports it through onRefused.
      dispatch(statusChanged({ status: reason === 'io client disconnect' ? 'idle' : 'reconnecting' }));
    }
    function onConnectError() {
      // Refusals are the client's to retry (onRefused); a transport failure is socket.io's.
      if (socket.active) dispatch(statusChanged({ status: navigator.onLine ? 'reconnecting' : 'offline' }));
    }
    function onOffline() {
      dispatch(statusChanged({ status: 'offline' }));
    }
    function onOnline() {
      if (!socket.connected) {
        dispatch(statusChanged({ status: 'reconnecting' }));
        socket.connect();
      }
    }
    function onReconnectAttempt() {
      dispatch(statusChanged({ status: navigator.onLine ? 'reconnecting' : 'offline' }));
    }

    socket.on('connect', onConnect);
    socket.on('receive_message', onReceive);
    socket.on('notifications:synced', onSynced);
    socket.on('sync_reset', onReset);
    socket.on('notifications:state', onState);
    socket.on('disconnect', onDisconnect);
    socket.on('connect_error', onConnectError);
    socket.io.on('reconnect_attempt', onReconnectAttempt);
    window.addEventListener('offline', onOffline);
    window.addEventListener('online', onOnline);
    dispatch(statusChanged({ status: 'connecting' }));
    socket.connect();

    return () => {
      socket.off('connect', onConnect);
      socket.off('receive_message', onReceive);
      socket.off('notifications:synced', onSynced);
      socket.off('sync_reset', onReset);
      socket.off('notifications:state', onState);
      socket.off('disconnect', onDisconnect);
      socket.off('connect_error', onConnectError);
      socket.io.off('reconnect_attempt', onReconnectAttempt);
      window.removeEventListener('offline', onOffline);
      window.removeEventListener('online', onOnline);
      client.close();
      socketRef.current = null;
    };
    // `actions` is stable for a given store; listing it would recreate the socket for nothing.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [userId, socketPath, dispatch, store]);

  const actions = useMemo<HeraldActions>(() => {
    const request = async <T extends object>(send: (s: HeraldClientSocket) => Promise<Ack<T>>): Promise<T> => {
      const socket = socketRef.current;
      if (!socket?.connected) throw new Error('not connected');
      const res = await send(socket);
      if (!res.ok) throw new Error(res.error);
      return res;
    };
    return {
      async loadHistory({ first = false } = {}) {
        const history = selectHistory(store.getState());
        if (!first && (history.status === 'loading' || history.complete)) return;
        dispatch(historyRequested());
        try {
          const before = first ? undefined : (history.nextCursor ?? undefined);
          const page = await request<ListPage>((s) =>
            s.timeout(ACK_TIMEOUT_MS).emitWithAck('notifications:list', before === undefined ? { limit: PAGE_SIZE } : { before, limit: PAGE_SIZE }),
          );
          dispatch(historyLoaded({ items: page.items, nextCursor: page.nextCursor, first: before === undefined }));
        } catch {
          dispatch(historyFailed());
        }
      },
      async markRead(ids) {
        if (ids.length === 0) return;
        const state = await request<ReadChange>((s) => s.timeout(ACK_TIMEOUT_MS).emitWithAck('notifications:read', { ids }));
        dispatch(readStateChanged(state));
      },
      async markUnread(ids) {
        if (ids.length === 0) return;
        const socket = socketRef.current;
        if (!socket?.connected) throw new Error('not connected');
        let res: Ack<ReadChange>;
        try {
          res = (await socket.timeout(UNREAD_ACK_TIMEOUT_MS).emitWithAck('notifications:unread', { ids })) as Ack<ReadChange>;
        } catch (err) {
          // No answer although the connection held: a server without the event.
          if (socket.connected) dispatch(markUnreadAnswered(false));
          throw err;
        }
        if (!res.ok) {
          if (!TRANSIENT_ACK_ERRORS.has(res.error)) dispatch(markUnreadAnswered(false));
          throw new RefusedRequestError(res.error);
        }
        dispatch(markUnreadAnswered(true));
        dispatch(readStateChanged({ ...res, unreadIds: res.unreadIds ?? ids }));
      },
      async markAllRead() {
        const state = await request<ReadChange>((s) => s.timeout(ACK_TIMEOUT_MS).emitWithAck('notifications:read-all'));
        dispatch(readStateChanged(state));
      },
    };
  }, [dispatch, store]);

  return <HeraldContext.Provider value={actions}>{children}</HeraldContext.Provider>;
}
