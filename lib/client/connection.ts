'use client';

import type { Ack, ArchiveState, ClientToServerEvents, NotificationRemove, PreferencesState, ReadState, ServerToClientEvents, SyncDone } from '../contract';
import { createHeraldSocket, type HeraldClient, type Refusal } from './socket';
import { TabTracker, type Presence, type TabMessage } from './tabs';

/**
 * One connection to Herald per browser and user, shared by every tab.
 *
 * The tabs of one user elect a leader with the Web Locks API: the tab that
 * holds the lock `herald:leader:<user>` holds the socket.io connection. Every
 * server event it receives, it handles and also posts on the BroadcastChannel
 * `herald:<user>`, where every other tab handles it the same way, so every
 * tab's store gets the same actions. The other tabs send their requests
 * (list, read, read-all, unread, archive, preferences) to the leader over the
 * channel and get its answers back.
 *
 * The browser releases a lock when its page goes: closed, navigated away,
 * crashed. A page frozen by the browser (the page lifecycle's `freeze`) gives
 * the lock up itself and asks for it again on `resume`. The next tab in line
 * then takes over, and connects with its own `lastSeq`: the catch-up replays
 * whatever the old leader had not passed on, and every tab upserts by id, so
 * nothing is missed and nothing is shown twice.
 *
 * While every tab has been hidden for `idleDisconnectMs`, the leader
 * disconnects, and reconnects (with catch-up) the moment a tab is visible.
 * Where Web Locks or BroadcastChannel are missing, each tab connects on its own.
 *
 * Longer than the house's 350 lines: election, relay, requests through the
 * leader, handover and the idle pause share one state machine (who leads,
 * what is pending), and a split would pass that state between files.
 */

type ServerEvent = keyof ServerToClientEvents;
type RequestEvent = Exclude<keyof ClientToServerEvents, 'auth:refresh' | 'user_login'>;

/** What a tab learns of the shared connection. */
export interface ConnectionEvents {
  /**
   * A server event, from this tab's socket or the leader's. `notifications:synced`
   * carries `firstVisit` too: whether the handshake it answers sent no `lastSeq`
   * (then the catch-up replayed nothing, and the first inbox page is to be loaded).
   */
  event(event: ServerEvent, payload: unknown): void;
  /** connecting / live / reconnecting / offline / idle, with the refusal code when there is one. */
  status(status: ConnectionStatus, error?: string | null): void;
  /** This tab's part: whether it shows toasts, and whether any tab is visible. */
  presence(p: Presence): void;
  /** A tab-wide action from another tab (a toast dismissed there, say). */
  shared(action: unknown): void;
  /** This tab took the connection over, or gave it up. */
  leader(isLeader: boolean): void;
}

/** As the store's: `paused` while no tab is visible, `idle` once closed. */
export type ConnectionStatus = 'connecting' | 'live' | 'reconnecting' | 'offline' | 'idle' | 'paused';

export interface ConnectionOptions {
  userId: string;
  path: string;
  url?: string;
  getToken(opts: { refresh: boolean }): Promise<string>;
  /** This tab's highest seq (the store's), read when this tab connects. */
  getLastSeq(): number | null;
  /** Once every tab has been hidden this long, the connection closes until one is visible again; 0: never. */
  idleDisconnectMs?: number;
  on: ConnectionEvents;
}

export interface HeraldConnection {
  /** Sends a request and resolves its acknowledgement (through the leader when this tab is not it). */
  request<E extends RequestEvent>(event: E, payload: unknown, timeoutMs: number): Promise<Ack<object>>;
  /** Tells every other tab of an action (a toast dismissed or expired). */
  share(action: unknown): void;
  /** Whether this tab holds the socket. */
  isLeader(): boolean;
  close(): void;
}

/** Every tab's default: disconnect after five minutes with no tab visible. */
export const DEFAULT_IDLE_DISCONNECT_MS = 5 * 60_000;

const SERVER_EVENTS: ServerEvent[] = [
  'receive_message',
  'notifications:synced',
  'sync_reset',
  'notifications:state',
  'notification:update',
  'notification:remove',
  'notifications:archived',
  'notifications:preferences',
  'herald:error',
];

type ChannelMessage =
  | TabMessage
  | { t: 'event'; event: ServerEvent; payload: unknown }
  | { t: 'status'; status: ConnectionStatus; error: string | null }
  | { t: 'request'; from: string; id: number; event: RequestEvent; payload: unknown; timeoutMs: number }
  | { t: 'response'; to: string; id: number; ack: Ack<object> }
  | { t: 'shared'; from: string; action: unknown }
  | { t: 'status-please'; from: string };

/** Whether this browser can share one connection between tabs. */
export function canShare(): boolean {
  return typeof BroadcastChannel === 'function' && typeof navigator !== 'undefined' && typeof navigator.locks?.request === 'function';
}

export function connectHerald(opts: ConnectionOptions): HeraldConnection {
  return canShare() ? new SharedConnection(opts) : new SoloConnection(opts);
}

const newTabId = (): string => (typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`);

/**
 * The socket itself, in whichever tab holds it: relays its events to `emit`
 * and its status to `status`, and disconnects while no tab is visible.
 */
class SocketHolder {
  private readonly client: HeraldClient;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private idle = false;
  /** The lastSeq the latest handshake sent. */
  private sentLastSeq: number | null = null;

  constructor(
    private readonly opts: ConnectionOptions,
    emit: (event: ServerEvent, payload: unknown) => void,
    private readonly status: (status: ConnectionStatus, error?: string | null) => void,
  ) {
    this.client = createHeraldSocket({
      path: opts.path,
      url: opts.url,
      getToken: (o) => opts.getToken(o),
      getLastSeq: () => (this.sentLastSeq = opts.getLastSeq()),
      onRefused: ({ code, retryInMs }: Refusal) => status(retryInMs === null ? 'offline' : 'reconnecting', code),
    });
    const { socket } = this.client;
    for (const event of SERVER_EVENTS) {
      socket.on(event, (payload: unknown) =>
        emit(event, event === 'notifications:synced' ? { ...(payload as SyncDone), firstVisit: this.sentLastSeq === null } : payload),
      );
    }
    socket.on('connect', () => status('connecting'));
    socket.on('notifications:synced', () => status('live'));
    socket.on('disconnect', (reason) => {
      if (this.idle) status('paused');
      else status(reason === 'io client disconnect' ? 'idle' : 'reconnecting');
    });
    socket.on('connect_error', () => {
      if (socket.active) status(navigator.onLine ? 'reconnecting' : 'offline');
    });
    socket.io.on('reconnect_attempt', () => status(navigator.onLine ? 'reconnecting' : 'offline'));
    status('connecting');
    socket.connect();
  }

  get socket() {
    return this.client.socket;
  }

  request(event: RequestEvent, payload: unknown, timeoutMs: number): Promise<Ack<object>> {
    const socket = this.client.socket;
    if (!socket.connected) return Promise.reject(new Error('not connected'));
    const timed = socket.timeout(timeoutMs) as unknown as { emitWithAck(event: string, ...args: unknown[]): Promise<Ack<object>> };
    return payload === undefined ? timed.emitWithAck(event) : timed.emitWithAck(event, payload);
  }

  /** Follows the tabs' visibility: disconnects after idleDisconnectMs with none visible, reconnects when one is. */
  visibility(anyVisible: boolean): void {
    const idleMs = this.opts.idleDisconnectMs ?? DEFAULT_IDLE_DISCONNECT_MS;
    clearTimeout(this.idleTimer);
    if (anyVisible) {
      if (this.idle) {
        this.idle = false;
        this.status('connecting');
        this.client.socket.connect();
      }
      return;
    }
    if (idleMs <= 0 || this.idle) return;
    this.idleTimer = setTimeout(() => {
      this.idle = true;
      this.client.socket.disconnect();
    }, idleMs);
  }

  close(): void {
    clearTimeout(this.idleTimer);
    this.client.close();
  }
}

/** A tab on its own (no Web Locks or BroadcastChannel): its own socket, its own toasts. */
class SoloConnection implements HeraldConnection {
  private readonly holder: SocketHolder;
  private readonly onVisibility = () => {
    const visible = document.visibilityState === 'visible';
    this.opts.on.presence({ owner: visible, anyVisible: visible });
    this.holder.visibility(visible);
  };

  constructor(private readonly opts: ConnectionOptions) {
    this.holder = new SocketHolder(opts, (event, payload) => opts.on.event(event, payload), (status, error) => opts.on.status(status, error));
    opts.on.leader(true);
    document.addEventListener('visibilitychange', this.onVisibility);
    this.onVisibility();
  }

  request(event: RequestEvent, payload: unknown, timeoutMs: number): Promise<Ack<object>> {
    return this.holder.request(event, payload, timeoutMs);
  }

  share(): void {}

  isLeader(): boolean {
    return true;
  }

  close(): void {
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.holder.close();
  }
}

class SharedConnection implements HeraldConnection {
  private readonly tabId = newTabId();
  private readonly channel: BroadcastChannel;
  private readonly tabs: TabTracker;
  private holder: SocketHolder | null = null;
  /** Resolving it gives the lock up. */
  private resign: (() => void) | null = null;
  private closed = false;
  private nextRequestId = 0;
  private readonly pending = new Map<number, { resolve(ack: Ack<object>): void; reject(err: Error): void; timer: ReturnType<typeof setTimeout> }>();
  private anyVisible = true;
  /** The latest unread count and head seq the leader learned (catch-up, then read changes), for tabs opened later. */
  private lastSync: SyncDone | null = null;
  /** This tab's clock when lastSync's serverTime was the server's. */
  private lastSyncAt = 0;
  private lastStatus: { status: ConnectionStatus; error: string | null } = { status: 'connecting', error: null };

  constructor(private readonly opts: ConnectionOptions) {
    this.channel = new BroadcastChannel(`herald:${opts.userId}`);
    this.channel.onmessage = (e: MessageEvent<ChannelMessage>) => this.receive(e.data);
    this.tabs = new TabTracker(
      this.tabId,
      (m) => this.channel.postMessage(m),
      (p) => {
        this.anyVisible = p.anyVisible;
        opts.on.presence(p);
        this.holder?.visibility(p.anyVisible);
      },
    );
    opts.on.status('connecting');
    this.channel.postMessage({ t: 'status-please', from: this.tabId } satisfies ChannelMessage);
    this.campaign();
    document.addEventListener('freeze', this.onFreeze);
    document.addEventListener('resume', this.onResume);
  }

  isLeader(): boolean {
    return this.holder !== null;
  }

  request(event: RequestEvent, payload: unknown, timeoutMs: number): Promise<Ack<object>> {
    if (this.holder) return this.holder.request(event, payload, timeoutMs);
    const id = this.nextRequestId++;
    return new Promise<Ack<object>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error('no answer from the leading tab'));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.channel.postMessage({ t: 'request', from: this.tabId, id, event, payload, timeoutMs } satisfies ChannelMessage);
    });
  }

  share(action: unknown): void {
    this.channel.postMessage({ t: 'shared', from: this.tabId, action } satisfies ChannelMessage);
  }

  close(): void {
    this.closed = true;
    document.removeEventListener('freeze', this.onFreeze);
    document.removeEventListener('resume', this.onResume);
    this.stepDown();
    this.tabs.close();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('closed'));
    }
    this.pending.clear();
    this.channel.close();
  }

  /** Queues for the lock; the callback runs when this tab leads, and the lock is held until `resign` is called. */
  private campaign(): void {
    if (this.closed) return;
    void navigator.locks
      .request(`herald:leader:${this.opts.userId}`, () => {
        if (this.closed) return undefined;
        return new Promise<void>((resolve) => {
          this.resign = resolve;
          this.lead();
        });
      })
      .catch(() => undefined);
  }

  private lead(): void {
    this.opts.on.leader(true);
    this.holder = new SocketHolder(
      this.opts,
      (event, payload) => {
        this.noteSync(event, payload);
        this.opts.on.event(event, payload);
        this.channel.postMessage({ t: 'event', event, payload } satisfies ChannelMessage);
      },
      (status, error = null) => {
        this.lastStatus = { status, error };
        this.opts.on.status(status, error);
        this.channel.postMessage({ t: 'status', status, error } satisfies ChannelMessage);
      },
    );
    this.holder.visibility(this.anyVisible);
  }

  private noteSync(event: ServerEvent, payload: unknown): void {
    if (event === 'notifications:synced') {
      this.lastSync = payload as SyncDone;
      this.lastSyncAt = Date.now();
    } else if (!this.lastSync) {
      return;
    } else if (event === 'notifications:state' || event === 'notifications:archived') {
      const { unread, headSeq } = payload as ReadState | ArchiveState;
      this.lastSync = { ...this.lastSync, unread, headSeq };
    } else if (event === 'notification:remove') {
      const { unread, seq } = payload as NotificationRemove;
      if (unread !== undefined) this.lastSync = { ...this.lastSync, unread, headSeq: Math.max(this.lastSync.headSeq, seq) };
    } else if (event === 'notifications:preferences') {
      // As the server sends it in a sync: absent when nothing is muted; the count under them with it.
      const { preferences: _old, ...rest } = this.lastSync;
      const { mutedTypes, unread, headSeq } = payload as PreferencesState;
      const counted = { ...rest, unread, headSeq: Math.max(rest.headSeq, headSeq) };
      this.lastSync = mutedTypes.length > 0 ? { ...counted, preferences: { mutedTypes } } : counted;
    }
  }

  private stepDown(): void {
    if (this.holder) this.opts.on.leader(false);
    this.holder?.close();
    this.holder = null;
    this.resign?.();
    this.resign = null;
  }

  /** A frozen page cannot lead: it gives the lock up, and asks for it again once resumed. */
  private readonly onFreeze = (): void => this.stepDown();
  private readonly onResume = (): void => this.campaign();

  private receive(m: ChannelMessage): void {
    switch (m.t) {
      case 'tab':
      case 'tab-gone':
      case 'tab-hello':
        this.tabs.receive(m);
        return;
      case 'event':
        if (!this.holder) this.opts.on.event(m.event, m.payload);
        return;
      case 'status':
        if (!this.holder) this.opts.on.status(m.status, m.error);
        return;
      case 'status-please':
        if (!this.holder) return;
        // A tab opened after the catch-up: where the connection stands, and the unread count it missed.
        this.channel.postMessage({ t: 'status', ...this.lastStatus } satisfies ChannelMessage);
        if (this.lastSync) {
          // The server's clock now, as far as this tab can tell: what it said then, plus the time since.
          const serverTime = this.lastSync.serverTime + (Date.now() - this.lastSyncAt);
          this.channel.postMessage({
            t: 'event',
            event: 'notifications:synced',
            payload: { ...this.lastSync, replayed: 0, serverTime, firstVisit: false },
          } satisfies ChannelMessage);
        }
        return;
      case 'shared':
        if (m.from !== this.tabId) this.opts.on.shared(m.action);
        return;
      case 'request':
        if (!this.holder) return;
        this.holder.request(m.event, m.payload, m.timeoutMs).then(
          (ack) => this.channel.postMessage({ t: 'response', to: m.from, id: m.id, ack } satisfies ChannelMessage),
          (err: unknown) =>
            this.channel.postMessage({
              t: 'response',
              to: m.from,
              id: m.id,
              ack: { ok: false, error: 'unavailable', message: err instanceof Error ? err.message : 'no answer' },
            } satisfies ChannelMessage),
        );
        return;
      case 'response': {
        if (m.to !== this.tabId) return;
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        clearTimeout(p.timer);
        p.resolve(m.ack);
      }
    }
  }
}
