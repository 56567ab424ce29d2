import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents, SyncDone, WireNotification } from '../../lib/contract';

export type TestSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Resolves with the first `event`; rejects after `timeoutMs` (socket.io's test/support/util.ts pattern). */
export function waitFor<T = unknown>(socket: any, event: string, timeoutMs = 5_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, handler);
      reject(new Error(`timed out waiting for "${event}"`));
    }, timeoutMs);
    const handler = (arg: T) => {
      clearTimeout(timer);
      resolve(arg);
    };
    socket.once(event, handler);
  });
}

/** Handshake auth: an object, or socket.io's callback form (re-evaluated on every reconnect). */
export type ClientAuth = { token: string; lastSeq?: number } | ((cb: (data: object) => void) => void);

export interface ClientOptions {
  path?: string;
  reconnection?: boolean;
  /** First reconnection delay (socket.io default 1000 ms). */
  reconnectionDelay?: number;
  /** How long to wait for `notifications:synced` (or for the refusal). */
  timeoutMs?: number;
  /** Default: WebSocket only. `['polling']` stays on HTTP long-polling. */
  transports?: Array<'websocket' | 'polling'>;
}

export interface ConnectedClient {
  socket: TestSocket;
  /** Every receive_message in arrival order. */
  received: WireNotification[];
  synced: SyncDone[];
  /** Every server-to-client event in arrival order (receive_message, synced, sync_reset, state…). */
  events: Array<{ event: string; payload: unknown }>;
  close(): void;
}

function openSocket(url: string, auth: ClientAuth, opts: ClientOptions): TestSocket {
  return io(url, {
    path: opts.path ?? '/socket.io',
    auth,
    transports: opts.transports ?? ['websocket'],
    reconnection: opts.reconnection ?? false,
    reconnectionDelay: opts.reconnectionDelay ?? 1_000,
    reconnectionDelayMax: Math.max(opts.reconnectionDelay ?? 1_000, 5_000),
    forceNew: true,
    timeout: opts.timeoutMs ?? 10_000,
  });
}

/** Connects over WebSocket with a token and waits until catch-up is done. */
export async function connectClient(url: string, auth: ClientAuth, opts: ClientOptions = {}): Promise<ConnectedClient> {
  const socket = openSocket(url, auth, opts);
  const received: WireNotification[] = [];
  const synced: SyncDone[] = [];
  const events: ConnectedClient['events'] = [];
  // Registered before the handshake, so nothing sent during catch-up is missed.
  socket.onAny((event: string, payload: unknown) => events.push({ event, payload }));
  socket.on('receive_message', (n) => received.push(n));
  socket.on('notifications:synced', (s) => synced.push(s));
  const errored = new Promise<never>((_, reject) => socket.once('connect_error', (e) => reject(e)));
  try {
    await Promise.race([waitFor(socket, 'notifications:synced', opts.timeoutMs ?? 10_000), errored]);
  } catch (err) {
    socket.close();
    throw err;
  }
  return { socket, received, synced, events, close: () => socket.close() };
}

/**
 * Tries to connect and expects a refusal: resolves the `connect_error` message
 * (e.g. `unauthorized`), rejects if the socket connects.
 */
export function connectError(url: string, auth: ClientAuth | Record<string, unknown>, opts: ClientOptions = {}): Promise<string> {
  const socket = openSocket(url, auth as ClientAuth, opts);
  return new Promise<string>((resolve, reject) => {
    socket.once('connect', () => {
      socket.close();
      reject(new Error('connected, but a refusal was expected'));
    });
    socket.once('connect_error', (err) => {
      socket.close();
      resolve(err.message);
    });
  });
}

/** Polls `check` until it returns true, at most `timeoutMs`. */
export async function eventually(check: () => boolean, timeoutMs = 5_000, stepMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Like `eventually`, for a check that has to await something (an HTTP call). */
export async function eventuallyAsync(check: () => Promise<boolean>, timeoutMs = 5_000, stepMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Waits until `client` has received the notification `id`. */
export function waitForId(client: ConnectedClient, id: string, timeoutMs = 5_000): Promise<void> {
  return eventually(() => client.received.some((n) => n.id === id), timeoutMs);
}

/** The ids a client received, in arrival order. */
export const idsOf = (client: ConnectedClient): string[] => client.received.map((n) => n.id);
