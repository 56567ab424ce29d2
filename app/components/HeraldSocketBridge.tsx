'use client';

import { createContext, useContext, useEffect, useMemo, useRef, type ReactNode } from 'react';
import { createHeraldSocket, TOKEN_REFUSALS, type HeraldClientSocket } from '@/lib/client/socket';
import type { Ack, ListPage, ReadState, ReplayedNotification, SyncDone, WireNotification } from '@/lib/contract';
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

/** Retries after the server refused our token, before we call the session offline. */
const MAX_TOKEN_RETRIES = 4;
const RETRY_BASE_DELAY_MS = 1_000;
const RETRY_MAX_DELAY_MS = 10_000;
/** How long a socket request may wait for its ack. */
const ACK_TIMEOUT_MS = 10_000;
const PAGE_SIZE = 20;

export interface HeraldActions {
  /** Loads the next older page of history (the first page when nothing is loaded). */
  loadHistory(opts?: { first?: boolean }): Promise<void>;
  markRead(ids: string[]): Promise<void>;
  markAllRead(): Promise<void>;
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
    const socket = createHeraldSocket({
      path: socketPath,
      getToken: (o) => getTokenRef.current(o),
      getLastSeq: () => {
        sentLastSeq = selectLastSeq(store.getState());
        return sentLastSeq;
      },
    });
    socketRef.current = socket;
    let refusals = 0;
    /** Server-initiated disconnects since the last successful sync. */
    let serverCloses = 0;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;

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
      refusals = 0;
      serverCloses = 0;
      const firstVisit = sentLastSeq === null;
      dispatch(synced({ ...s, firstVisit }));
      dispatch(statusChanged({ status: 'live' }));
      if (firstVisit) void actions.loadHistory({ first: true });
    }
    function onReset() {
      dispatch(syncReset());
      void actions.loadHistory({ first: true });
    }
    function onState(s: ReadState) {
      dispatch(readStateChanged(s));
    }
    function onDisconnect(reason: string) {
      if (reason === 'io client disconnect') {
        dispatch(statusChanged({ status: 'idle' }));
        return;
      }
      dispatch(statusChanged({ status: 'reconnecting' }));
      if (reason === 'io server disconnect') {
        // The server ended the session (a restart or deploy closes every socket): socket.io
        // leaves reconnecting to us. Once connect() is called, its own backoff takes over.
        serverCloses++;
        const delay = Math.min(RETRY_BASE_DELAY_MS * 2 ** (serverCloses - 1), RETRY_MAX_DELAY_MS);
        clearTimeout(retryTimer);
        retryTimer = setTimeout(() => socket.connect(), delay);
      }
    }
    function onConnectError(err: Error) {
      if (socket.active) {
        // A transport failure: socket.io retries by itself.
        dispatch(statusChanged({ status: navigator.onLine ? 'reconnecting' : 'offline' }));
        return;
      }
      // Refused by the server's middleware: socket.io does not retry these; we do, with a fresh token.
      refusals++;
      if (!TOKEN_REFUSALS.has(err.message) || refusals > MAX_TOKEN_RETRIES) {
        dispatch(statusChanged({ status: 'offline', error: err.message }));
        return;
      }
      dispatch(statusChanged({ status: 'reconnecting', error: err.message }));
      const delay = Math.min(RETRY_BASE_DELAY_MS * 2 ** (refusals - 1), RETRY_MAX_DELAY_MS);
      retryTimer = setTimeout(() => socket.connect(), delay);
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
      clearTimeout(retryTimer);
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
      socket.disconnect();
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
        const state = await request<ReadState>((s) => s.timeout(ACK_TIMEOUT_MS).emitWithAck('notifications:read', { ids }));
        dispatch(readStateChanged(state));
      },
      async markAllRead() {
        const state = await request<ReadState>((s) => s.timeout(ACK_TIMEOUT_MS).emitWithAck('notifications:read-all'));
        dispatch(readStateChanged(state));
      },
    };
  }, [dispatch, store]);

  return <HeraldContext.Provider value={actions}>{children}</HeraldContext.Provider>;
}
