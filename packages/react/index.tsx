'use client';

/**
 * `herald/react`: Herald's toasts, bell and inbox for any React app, the same
 * components Herald's own page shows (app/components), over the same slices
 * (store/). `<HeraldProvider>` connects one signed-in user and holds Herald's
 * state: in a store of its own, or in the app's Redux store (herald/redux).
 *
 * The components read Herald's state through react-redux. Each one wraps
 * itself in a Provider of Herald's state, and `<HeraldProvider>` gives its
 * hooks a context of their own, so an app's own react-redux Provider above or
 * below them is never shadowed.
 */

import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode, type RefObject } from 'react';
import { createSelectorHook, Provider, type ReactReduxContextValue } from 'react-redux';
import type { Store } from '@reduxjs/toolkit';
import { Announcer } from '@/app/components/Announcer';
import { HeraldSocketBridge, useHerald } from '@/app/components/HeraldSocketBridge';
import { InboxButton, InboxPanel } from '@/app/components/Inbox';
import { ToastFeed } from '@/app/components/ToastFeed';
import { selectConnection, type ConnectionState } from '@/store/connection/slice';
import { makeHeraldStore, type HeraldState } from '@/store/herald';
import { selectAllNotifications, selectUnreadCount, type Notification } from '@/store/notifications/slice';
import type { StoreLike } from '@/store/start';
import type { TabRelay } from '@/store/tabs';
import { inboxClosed, inboxOpened, selectInboxOpen } from '@/store/ui/slice';

export { useHerald };
export type { HeraldActions } from '@/store/start';
export type { Notification } from '@/store/notifications/slice';
export type { HeraldState } from '@/store/herald';

/** A store whose state is Herald's slices: what the components' selectors read. */
type HeraldView = StoreLike<HeraldState> & { subscribe(listener: () => void): () => void };

interface HeraldContextValue {
  view: HeraldView;
  /** The bell, where focus goes back to when the toasts or the inbox give it up. */
  bellRef: RefObject<HTMLButtonElement | null>;
}

const HeraldViewContext = createContext<HeraldContextValue | null>(null);
const HeraldReduxContext = createContext<ReactReduxContextValue<HeraldState> | null>(null);
const useHeraldSelector = createSelectorHook(HeraldReduxContext).withTypes<HeraldState>();

function useHeraldView(): HeraldContextValue {
  const ctx = useContext(HeraldViewContext);
  if (!ctx) throw new Error('Herald components and hooks must be used inside <HeraldProvider>');
  return ctx;
}

export interface HeraldProviderProps {
  /** The signed-in user; give the provider `key={userId}` so another user starts afresh. */
  userId: string;
  /** A user token from your backend (herald/server's `mintUserToken`); `refresh: true` after Herald refused the last one. */
  getToken: (opts: { refresh: boolean }) => Promise<string>;
  /** Herald's origin, e.g. `https://herald.example` (list your app's origin in Herald's ALLOWED_ORIGINS); the page's own when omitted. */
  url?: string;
  /** Herald's SOCKET_PATH; `/socket.io` when omitted. */
  socketPath?: string;
  /** With every tab hidden this long, the connection closes until one is visible (0: never; default 5 min). */
  idleDisconnectMs?: number;
  /** Your Redux store, when it holds Herald's slices (herald/redux's `heraldReducer`); a store of its own when omitted. */
  store?: StoreLike<unknown> & { subscribe(listener: () => void): () => void };
  /** Where Herald's slices are in your store's state: `state.herald` when omitted. */
  select?: (state: unknown) => HeraldState;
  /** Your store's `heraldMiddleware().tabs`: toasts dismissed in one tab are dismissed in every tab. */
  tabs?: TabRelay;
  children: ReactNode;
}

const atHerald = (state: unknown) => (state as { herald: HeraldState }).herald;
const atRoot = (state: unknown) => state as HeraldState;

/** Connects this page to Herald for one user while mounted, and holds Herald's state for the components below it. */
export function HeraldProvider({ userId, getToken, url, socketPath = '/socket.io', idleDisconnectMs, store, select, tabs, children }: HeraldProviderProps) {
  const [own] = useState(() => (store ? null : makeHeraldStore()));
  const target = store ?? own;
  if (!target) throw new Error('unreachable: a provider without a store makes its own');
  const pick = select ?? (store ? atHerald : atRoot);
  const pickRef = useRef(pick);
  pickRef.current = pick;
  const bellRef = useRef<HTMLButtonElement>(null);
  const value = useMemo<HeraldContextValue>(
    () => ({
      view: { getState: () => pickRef.current(target.getState()), dispatch: target.dispatch, subscribe: (l) => target.subscribe(l) },
      bellRef,
    }),
    [target],
  );
  return (
    <HeraldViewContext.Provider value={value}>
      <Provider store={value.view as unknown as Store<HeraldState>} context={HeraldReduxContext}>
        <HeraldSocketBridge
          store={target}
          select={pick}
          tabs={tabs ?? own?.tabs}
          userId={userId}
          url={url}
          socketPath={socketPath}
          getToken={getToken}
          idleDisconnectMs={idleDisconnectMs}
        >
          {children}
        </HeraldSocketBridge>
      </Provider>
    </HeraldViewContext.Provider>
  );
}

/** Herald's state as the default react-redux store for the component inside it (which reads it with store/hooks). */
function WithHeraldState({ children }: { children: ReactNode }) {
  const { view } = useHeraldView();
  return <Provider store={view as unknown as Store<HeraldState>}>{children}</Provider>;
}

/**
 * The toast stack (bottom right; one toast per notification per browser, in
 * the tab the user looks at) and the polite live region that announces arrivals.
 */
export function Toaster() {
  const { bellRef } = useHeraldView();
  return (
    <WithHeraldState>
      <ToastFeed bellRef={bellRef} />
      <Announcer />
    </WithHeraldState>
  );
}

/** The bell with the unread badge; it opens the inbox as a popover under it (a sheet on phones). */
export function InboxBell({ autoFocus = false }: { autoFocus?: boolean }) {
  return (
    <WithHeraldState>
      <Bell autoFocus={autoFocus} />
    </WithHeraldState>
  );
}

function Bell({ autoFocus }: { autoFocus: boolean }) {
  const { view, bellRef } = useHeraldView();
  const open = useHeraldSelector(selectInboxOpen);
  const anchorRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (autoFocus) bellRef.current?.focus();
  }, [autoFocus, bellRef]);
  const close = useCallback(
    ({ returnFocus }: { returnFocus: boolean }) => {
      view.dispatch(inboxClosed());
      if (returnFocus) bellRef.current?.focus();
    },
    [view, bellRef],
  );
  return (
    <div className="inbox-anchor" ref={anchorRef}>
      <InboxButton ref={bellRef} open={open} onToggle={() => (open ? close({ returnFocus: true }) : view.dispatch(inboxOpened()))} />
      {open && <InboxPanel onClose={close} anchorRef={anchorRef} />}
    </div>
  );
}

/**
 * The inbox panel on its own, open while mounted (toasts wait meanwhile, as
 * the inbox shows every arrival): history by day in three views (Unread, All,
 * Archived), read and unread, archive, the muted types, a detail view. `onClose` runs on Escape, its close button or a click
 * outside it.
 */
export function Inbox({ onClose }: { onClose?: () => void }) {
  return (
    <WithHeraldState>
      <StandaloneInbox onClose={onClose} />
    </WithHeraldState>
  );
}

function StandaloneInbox({ onClose }: { onClose?: () => void }) {
  const { view } = useHeraldView();
  const anchorRef = useRef<HTMLDivElement>(null);
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;
  useEffect(() => {
    view.dispatch(inboxOpened());
    return () => void view.dispatch(inboxClosed());
  }, [view]);
  const close = useCallback(() => onCloseRef.current?.(), []);
  return (
    <div className="inbox-anchor" ref={anchorRef}>
      <InboxPanel onClose={close} anchorRef={anchorRef} />
    </div>
  );
}

/** Every notification this page holds (received, caught up, or paged in), newest first. */
export function useNotifications(): Notification[] {
  return useHeraldSelector(selectAllNotifications);
}

/** The user's unread count: the server's, plus what arrived since. */
export function useUnreadCount(): number {
  return useHeraldSelector(selectUnreadCount);
}

/** The connection: status (connecting, live, reconnecting, offline, paused, idle), the last refusal code, whether this tab leads. */
export function useHeraldConnection(): ConnectionState {
  return useHeraldSelector(selectConnection);
}
