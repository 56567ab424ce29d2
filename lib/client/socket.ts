'use client';

import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../contract';

export type HeraldClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface HeraldSocketOptions {
  /** socket.io path on the server (SOCKET_PATH), e.g. `/socket.io` or `/ws/socket.io`. */
  path: string;
  /** Server origin; the page's own when omitted. */
  url?: string;
  /** Current user token. Called again after the server refuses a token (expired, or a dev server restarted). */
  getToken: (opts: { refresh: boolean }) => Promise<string>;
  /** Highest seq this browser has seen for the user: sent on every (re)connect so the server replays the gap. */
  getLastSeq: () => number | null;
}

/** Codes after which a retry needs a new token, not just a new attempt. */
export const TOKEN_REFUSALS = new Set(['unauthorized', 'token_expired']);

/**
 * Creates (does not connect) the browser's socket. The handshake `auth` is a
 * function, so every reconnect sends the latest token and `lastSeq`.
 */
export function createHeraldSocket(opts: HeraldSocketOptions): HeraldClientSocket {
  let token: string | null = null;
  let refresh = false;
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
  socket.on('connect_error', (err) => {
    if (TOKEN_REFUSALS.has(err.message)) refresh = true;
  });
  socket.on('herald:error', (e) => {
    if (TOKEN_REFUSALS.has(e.code)) refresh = true;
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
          const res = await socket.timeout(RENEW_ACK_TIMEOUT_MS).emitWithAck('auth:refresh', { token: fresh });
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
  return socket;
}

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
