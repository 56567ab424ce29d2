'use client';

import { io, type Socket } from 'socket.io-client';
import type { Ack, ClientToServerEvents, ReadState, ServerToClientEvents } from '../contract';
import {
  MAX_TOKEN_RETRIES,
  refusalKind,
  TOKEN_REFUSALS,
  TRANSIENT_RETRY_BASE_MS,
  TRANSIENT_RETRY_MAX_MS,
  fullJitterDelay,
  tokenRetryDelay,
} from './retry';

/** A read-state change as the browser applies it (read, unread, read-all). */
export type ReadChange = ReadState;

export type HeraldClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A refused handshake or a server-side cut, and what the client does about it. */
export interface Refusal {
  code: string;
  /** When the next attempt starts; null when the client has given up. */
  retryInMs: number | null;
}

export interface HeraldSocketOptions {
  /** socket.io path on the server (SOCKET_PATH), e.g. `/socket.io` or `/ws/socket.io`. */
  path: string;
  /** Server origin; the page's own when omitted. */
  url?: string;
  /** Current user token. Called again after the server refuses a token (expired, or a dev server restarted). */
  getToken: (opts: { refresh: boolean }) => Promise<string>;
  /** Highest seq this browser has seen for the user: sent on every (re)connect so the server replays the gap. */
  getLastSeq: () => number | null;
  /** Told about each refusal and server-side close, with the retry it scheduled. */
  onRefused?: (r: Refusal) => void;
}

export interface HeraldClient {
  socket: HeraldClientSocket;
  /** Disconnects and cancels any scheduled retry or token renewal. */
  close(): void;
}

/**
 * Creates (does not connect) the browser's socket. The handshake `auth` is a
 * function, so every reconnect sends the latest token and `lastSeq`.
 *
 * Transport failures are retried by socket.io itself. Handshakes the server
 * refuses are retried here: token refusals with a fresh token, up to
 * MAX_TOKEN_RETRIES; transient ones (`rate_limited`) and server-side closes with
 * the same token, after a full-jitter backoff, without limit. Any other refusal
 * (`too_many_connections`, `origin_not_allowed`) ends the attempts.
 */
export function createHeraldSocket(opts: HeraldSocketOptions): HeraldClient {
  let token: string | null = null;
  let refresh = false;
  let closed = false;
  const socket: HeraldClientSocket = io(opts.url ?? '', {
    path: opts.path,
    autoConnect: false,
    // Straight to WebSocket; long-polling remains the fallback where upgrades are blocked.
    transports: ['websocket', 'polling'],
    reconnectionDelay: 500,
    reconnectionDelayMax: 5_000,
    auth: (cb) => {
      const send = (t: string) => {
        const lastSeq = opts.getLastSeq();
        cb(lastSeq === null ? { token: t } : { token: t, lastSeq });
      };
      if (token !== null && !refresh) {
        send(token);
        return;
      }
      opts
        .getToken({ refresh })
        .then((t) => {
          token = t;
          refresh = false;
          send(t);
        })
        // No token to be had now: send an empty one; the server refuses it and we retry later.
        .catch(() => send(''));
    },
  });

  // Attempts since the session was last caught up (notifications:synced).
  let tokenRefusals = 0;
  let transientRefusals = 0;
  /** The code of the last herald:error, which names why the server is about to cut the socket. */
  let lastServerError: string | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  const retryIn = (delay: number) => {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => {
      if (!closed) socket.connect();
    }, delay);
  };

  socket.on('connect_error', (err) => {
    // A transport failure: socket.io's manager retries by itself.
    if (socket.active) return;
    const code = err.message;
    switch (refusalKind(code)) {
      case 'token': {
        refresh = true;
        tokenRefusals++;
        if (tokenRefusals > MAX_TOKEN_RETRIES) {
          opts.onRefused?.({ code, retryInMs: null });
          return;
        }
        const delay = tokenRetryDelay(tokenRefusals);
        retryIn(delay);
        opts.onRefused?.({ code, retryInMs: delay });
        return;
      }
      case 'transient': {
        const delay = fullJitterDelay(transientRefusals++, TRANSIENT_RETRY_BASE_MS, TRANSIENT_RETRY_MAX_MS);
        retryIn(delay);
        opts.onRefused?.({ code, retryInMs: delay });
        return;
      }
      case 'final':
        opts.onRefused?.({ code, retryInMs: null });
    }
  });
  socket.on('herald:error', (e) => {
    lastServerError = e.code;
    if (TOKEN_REFUSALS.has(e.code)) refresh = true;
  });
  socket.on('disconnect', (reason) => {
    if (reason !== 'io server disconnect' || closed) return;
    // The server ended the session (a restart, a deploy, a token that expired, a slow or
    // flooding tab): socket.io leaves reconnecting to us.
    const code = lastServerError ?? 'server_closed';
    lastServerError = null;
    const delay = fullJitterDelay(transientRefusals++, TRANSIENT_RETRY_BASE_MS, TRANSIENT_RETRY_MAX_MS);
    retryIn(delay);
    opts.onRefused?.({ code, retryInMs: delay });
  });
  socket.on('notifications:synced', () => {
    tokenRefusals = 0;
    transientRefusals = 0;
  });

  // Renew the token before it expires, over the open socket (auth:refresh), so a
  // long-lived tab is never cut off. A token that cannot be renewed (one pasted by
  // hand) simply runs out; the server then disconnects with token_expired.
  let renewTimer: ReturnType<typeof setTimeout> | undefined;
  const scheduleRenewal = () => {
    clearTimeout(renewTimer);
    const exp = token === null ? null : expiryOf(token);
    if (exp === null) return;
    const delay = Math.max(MIN_RENEW_DELAY_MS, exp * 1000 - Date.now() - RENEW_BEFORE_EXPIRY_MS);
    renewTimer = setTimeout(() => {
      opts
        .getToken({ refresh: true })
        .then(async (fresh) => {
          if (fresh === token || !socket.connected) return;
          const res = (await socket.timeout(RENEW_ACK_TIMEOUT_MS).emitWithAck('auth:refresh', { token: fresh })) as Ack<{ exp: number }>;
          if (res.ok) {
            token = fresh;
            scheduleRenewal();
          }
        })
        .catch(() => undefined);
    }, delay);
  };
  socket.on('connect', scheduleRenewal);
  socket.on('disconnect', () => clearTimeout(renewTimer));

  // Receipts: the highest seq received (live or replayed) is acknowledged at most
  // every RECEIVED_ACK_MS, as one cumulative `notifications:received`. An ack lost
  // with a dropped connection is covered by the next one, which names a higher seq.
  let receivedUpTo = 0;
  let ackedUpTo = 0;
  let ackTimer: ReturnType<typeof setTimeout> | undefined;
  const sendReceived = () => {
    ackTimer = undefined;
    if (!socket.connected || receivedUpTo <= ackedUpTo) return;
    ackedUpTo = receivedUpTo;
    socket.emit('notifications:received', { upTo: receivedUpTo });
  };
  socket.on('receive_message', (n) => {
    receivedUpTo = Math.max(receivedUpTo, n.seq);
    ackTimer ??= setTimeout(sendReceived, RECEIVED_ACK_MS);
  });
  // A new connection may be to a server that never got the last ack: send it again.
  socket.on('connect', () => {
    ackedUpTo = 0;
  });

  return {
    socket,
    close() {
      closed = true;
      clearTimeout(retryTimer);
      clearTimeout(renewTimer);
      clearTimeout(ackTimer);
      socket.disconnect();
    },
  };
}

/** Received notifications are acknowledged at most this often, in one cumulative ack. */
export const RECEIVED_ACK_MS = 250;

/** Renew this long before `exp`. */
const RENEW_BEFORE_EXPIRY_MS = 60_000;
const MIN_RENEW_DELAY_MS = 5_000;
const RENEW_ACK_TIMEOUT_MS = 10_000;

/** The `exp` claim of a JWT (not verified: only to know when to renew it). */
export function expiryOf(jwt: string): number | null {
  try {
    const payload = jwt.split('.')[1];
    if (!payload) return null;
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp : null;
  } catch {
    return null;
  }
}
