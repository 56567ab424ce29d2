'use client';

import { createContext, useContext, useEffect, useMemo, useRef, type ReactNode } from 'react';
import type { HeraldState } from '@/store/herald';
import { startHerald, type HeraldActions, type HeraldSession, type StoreLike } from '@/store/start';
import type { TabRelay } from '@/store/tabs';

export type { HeraldActions } from '@/store/start';

const HeraldContext = createContext<HeraldActions | null>(null);

export function useHerald(): HeraldActions {
  const ctx = useContext(HeraldContext);
  if (!ctx) throw new Error('useHerald must be used inside <HeraldProvider>');
  return ctx;
}

interface Props {
  /** The store that holds Herald's slices, as `select` finds them in its state. */
  store: StoreLike<unknown>;
  select: (state: unknown) => HeraldState;
  /** The store's tab relay: toasts dismissed here are dismissed in every tab. */
  tabs?: TabRelay;
  userId: string;
  /** Herald's origin; the page's own when omitted. */
  url?: string;
  socketPath: string;
  getToken: (opts: { refresh: boolean }) => Promise<string>;
  /** With every tab hidden this long, the connection closes until one is visible (0: never; default 5 min). */
  idleDisconnectMs?: number;
  children: ReactNode;
}

/**
 * Connects this tab to Herald for one signed-in user while it is mounted
 * (store/start.ts: every `receive_message` becomes a NEW_SOCKET_MSG), and gives
 * the components below it the requests they make (`useHerald`). The tabs of one
 * user share one connection (lib/client/connection.ts).
 */
export function HeraldSocketBridge({ store, select, tabs, userId, url, socketPath, getToken, idleDisconnectMs, children }: Props) {
  const sessionRef = useRef<HeraldSession | null>(null);
  const getTokenRef = useRef(getToken);
  getTokenRef.current = getToken;
  const selectRef = useRef(select);
  selectRef.current = select;

  useEffect(() => {
    const session = startHerald(store, {
      userId,
      url,
      path: socketPath,
      idleDisconnectMs,
      getToken: (o) => getTokenRef.current(o),
      select: (s) => selectRef.current(s),
      tabs,
    });
    sessionRef.current = session;
    return () => {
      session.stop();
      sessionRef.current = null;
    };
  }, [store, tabs, userId, url, socketPath, idleDisconnectMs]);

  // Stable for the life of the bridge: each call goes to the session of the moment.
  const actions = useMemo<HeraldActions>(() => {
    const session = () => {
      const s = sessionRef.current;
      if (!s) throw new Error('not connected');
      return s;
    };
    return {
      // Before the session starts (children's effects run first) there is nothing to load; its catch-up loads the first page.
      loadHistory: async (opts) => sessionRef.current?.loadHistory(opts),
      markRead: async (ids) => session().markRead(ids),
      markUnread: async (ids) => session().markUnread(ids),
      markAllRead: async () => session().markAllRead(),
      archive: async (ids, archived) => session().archive(ids, archived),
      setMutedTypes: async (mutedTypes) => session().setMutedTypes(mutedTypes),
      markSeen: (ids) => sessionRef.current?.markSeen(ids),
    };
  }, []);

  return <HeraldContext.Provider value={actions}>{children}</HeraldContext.Provider>;
}
