'use client';

import {
  MAX_SEEN_IDS,
  type Ack,
  type ArchiveState,
  type ErrorCode,
  type ListPage,
  type ListRequest,
  type NotificationRemove,
  type NotificationUpdate,
  type Preferences,
  type PreferencesState,
  type ReadState,
  type ReplayedNotification,
  type ServerToClientEvents,
  type SyncDone,
  type WireNotification,
} from '../contract';
import { connectHerald, type ConnectionStatus, type HeraldConnection } from './connection';
import { readLastSeq, writeLastSeq } from './last-seq';
import type { Presence } from './tabs';

/**
 * `herald/client`: one user's connection to Herald, without React. It wraps
 * the shared connection (connection.ts: one socket per browser, held by the
 * leader tab), keeps `lastSeq` in localStorage so a returning page catches up
 * from where it left off, and turns the server's events and acknowledgements
 * into typed callbacks and promises. herald/redux and herald/react build on it.
 */

/** How long a request may wait for its acknowledgement. */
const ACK_TIMEOUT_MS = 10_000;
/** Ids shown are collected this long, then sent in one `notifications:seen`. */
const SEEN_BATCH_MS = 250;

/** `notifications:synced`, with whether the handshake it answers sent no `lastSeq` (then load the first page). */
export type Synced = SyncDone & { firstVisit: boolean };

/** What a client reports; each callback gets one typed payload. */
export interface HeraldClientEvents {
  /** A notification: live, or (`replay: true`) caught up after a reconnect. */
  notification: (n: WireNotification | ReplayedNotification) => void;
  /** The catch-up is over: the unread count, the seq it covers, the server's clock. */
  synced: (s: Synced) => void;
  /** Retention dropped what followed `lastSeq`: reload the first page. */
  reset: (s: { headSeq: number }) => void;
  /** Read state changed, in any tab or device of this user. */
  state: (s: ReadState) => void;
  /** A notification's content changed (its seq is the change's, not a notification's: `lastSeq` stays). */
  update: (u: NotificationUpdate) => void;
  /** Notifications left the inbox: retracted, expired, or collapsed into a newer one. */
  remove: (r: NotificationRemove) => void;
  /** Items moved to or out of the Archived view, in any tab or device of this user. */
  archived: (s: ArchiveState) => void;
  /** The user's preferences (muted types) changed, here, in another tab, or from the backend; with the unread count under them. */
  preferences: (p: PreferencesState) => void;
  /** connecting / live / reconnecting / offline / paused / idle; `error`: the refusal code, null when none, absent when unchanged. */
  status: (s: { status: ConnectionStatus; error?: string | null }) => void;
  /** Whether this tab shows toasts (the one the user looks at), and whether any tab is visible. */
  presence: (p: Presence) => void;
  /** This tab took the browser's connection over (true) or gave it up. */
  leader: (isLeader: boolean) => void;
  /** An action another tab shared with `share()`. */
  shared: (action: unknown) => void;
}

export interface HeraldClientOptions {
  /** The user signed in on this page; their tabs share one connection. */
  userId: string;
  /** Herald's origin, e.g. `https://herald.example`; the page's own when omitted. */
  url?: string;
  /** Herald's SOCKET_PATH; `/socket.io` when omitted. */
  path?: string;
  /** A user token from the app's backend; `refresh: true` after Herald refused the last one. */
  getToken(opts: { refresh: boolean }): Promise<string>;
  /** Where this page's catch-up starts; by default the highest seq received, kept in localStorage per user. */
  getLastSeq?: () => number | null;
  /** With every tab hidden this long the connection closes until one is visible (0: never; default 5 min). */
  idleDisconnectMs?: number;
  /** Listeners from the start: the connection reports its first status and leadership while it is created. */
  on?: Partial<HeraldClientEvents>;
}

export interface HeraldBrowserClient {
  /** Subscribes to one event; returns the unsubscribe. */
  on<E extends keyof HeraldClientEvents>(event: E, fn: HeraldClientEvents[E]): () => void;
  /** One page of history, newest first (`before`: a page's `nextCursor`). */
  list(req?: ListRequest): Promise<ListPage>;
  markRead(ids: string[]): Promise<ReadState>;
  /** Rejects with a HeraldRequestError when the server refuses it (a server without the event). */
  markUnread(ids: string[], timeoutMs?: number): Promise<ReadState>;
  markAllRead(): Promise<ReadState>;
  /** Moves items to the Archived view, or out of it with `archived: false`. */
  archive(ids: string[], archived?: boolean): Promise<ArchiveState>;
  /** Reads the user's preferences (no argument), or replaces them; with the unread count under them. */
  preferences(prefs?: Preferences): Promise<PreferencesState>;
  /** Shown in a visible tab: each id is sent once, batched as `notifications:seen`. */
  markSeen(ids: string[]): void;
  /** Tells every other tab of this user of an action (their `shared` callback gets it). */
  share(action: unknown): void;
  /** The highest seq this page received (or resumed from). */
  lastSeq(): number | null;
  /** Whether this tab holds the socket. */
  isLeader(): boolean;
  close(): void;
}

/** A request the server answered with an error (not a timeout, not a lost connection). */
export class HeraldRequestError extends Error {
  constructor(readonly code: ErrorCode) {
    super(code);
  }
}

/** Server events passed on as they came, under the client's name for them. */
const FORWARDED: { [E in keyof ServerToClientEvents]?: keyof HeraldClientEvents } = {
  sync_reset: 'reset',
  'notifications:state': 'state',
  'notification:update': 'update',
  'notification:remove': 'remove',
  'notifications:archived': 'archived',
  'notifications:preferences': 'preferences',
};

type Listeners = { [E in keyof HeraldClientEvents]: Set<HeraldClientEvents[E]> };

export function createHeraldClient(opts: HeraldClientOptions): HeraldBrowserClient {
  const listeners: Listeners = {
    notification: new Set(),
    synced: new Set(),
    reset: new Set(),
    state: new Set(),
    update: new Set(),
    remove: new Set(),
    archived: new Set(),
    preferences: new Set(),
    status: new Set(),
    presence: new Set(),
    leader: new Set(),
    shared: new Set(),
  };
  for (const [event, fn] of Object.entries(opts.on ?? {}) as Array<[keyof HeraldClientEvents, HeraldClientEvents[keyof HeraldClientEvents]]>) {
    (listeners[event] as Set<typeof fn>).add(fn);
  }
  const emit = <E extends keyof HeraldClientEvents>(event: E, ...args: Parameters<HeraldClientEvents[E]>): void => {
    for (const fn of listeners[event]) (fn as (...a: Parameters<HeraldClientEvents[E]>) => void)(...args);
  };
  let lastSeq = readLastSeq(opts.userId);
  const currentSeq = () => (opts.getLastSeq ? opts.getLastSeq() : lastSeq);

  const connection: HeraldConnection = connectHerald({
    userId: opts.userId,
    path: opts.path ?? '/socket.io',
    url: opts.url,
    getToken: (o) => opts.getToken(o),
    getLastSeq: currentSeq,
    idleDisconnectMs: opts.idleDisconnectMs,
    on: {
      event(event, payload) {
        switch (event) {
          case 'receive_message': {
            const n = payload as WireNotification | ReplayedNotification;
            if (lastSeq === null || n.seq > lastSeq) lastSeq = n.seq;
            emit('notification', n);
            // After the listeners: a store that holds lastSeq (getLastSeq) has taken this one in.
            writeLastSeq(opts.userId, currentSeq());
            return;
          }
          case 'notifications:synced':
            emit('synced', payload as Synced);
            return;
          default: {
            const name = FORWARDED[event];
            if (name) emit(name, payload as never);
          }
        }
      },
      status: (status, error) => emit('status', { status, error }),
      presence: (p) => emit('presence', p),
      leader: (isLeader) => emit('leader', isLeader),
      shared: (action) => emit('shared', action),
    },
  });

  const request = async <T extends object>(event: Parameters<HeraldConnection['request']>[0], payload: unknown, timeoutMs = ACK_TIMEOUT_MS): Promise<T> => {
    const res = (await connection.request(event, payload, timeoutMs)) as Ack<T>;
    if (!res.ok) throw new HeraldRequestError(res.error);
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
    on(event, fn) {
      listeners[event].add(fn);
      return () => listeners[event].delete(fn);
    },
    list: (req = {}) => request<ListPage>('notifications:list', req),
    markRead: (ids) => request<ReadState>('notifications:read', { ids }),
    markUnread: (ids, timeoutMs) => request<ReadState>('notifications:unread', { ids }, timeoutMs),
    markAllRead: () => request<ReadState>('notifications:read-all', undefined),
    archive: (ids, archived = true) => request<ArchiveState>('notifications:archive', { ids, archived }),
    preferences: (prefs) => request<PreferencesState>('notifications:preferences', prefs ?? {}),
    markSeen(ids) {
      for (const id of ids) {
        if (seenSent.has(id)) continue;
        seenSent.add(id);
        seenQueue.push(id);
      }
      if (seenQueue.length > 0) seenTimer ??= setTimeout(flushSeen, SEEN_BATCH_MS);
    },
    share: (action) => connection.share(action),
    lastSeq: () => lastSeq,
    isLeader: () => connection.isLeader(),
    close() {
      clearTimeout(seenTimer);
      for (const set of Object.values(listeners)) set.clear();
      connection.close();
    },
  };
}
