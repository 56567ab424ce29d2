import { ServerResponse, type IncomingMessage } from 'node:http';
import { verifyUserToken } from '../auth';
import { AuthError, RefusedError } from '../errors';
import { JSON_HEADERS, sendJson } from '../http/respond';
import { TokenBucket } from '../limits';
import type { Logger } from '../log';
import { ErrorCodes, RefreshSchema, roomOf, type ErrorCode } from '../protocol';
import { acked } from './handlers/ack';
import type { HeraldServer, HeraldSocket, RealtimeDeps } from './types';

/**
 * What keeps hostile clients out or cuts them off, while everyone else sees no
 * change: origin check on every transport, connection caps per user and per
 * address, an event-rate cap per socket, and disconnection when a token expires
 * (unless the tab sent a fresh one with `auth:refresh`).
 */

/** How often sockets are checked for expired tokens: a socket goes at most this long after `exp`. */
const EXPIRY_SWEEP_MS = 10_000;

/** Cuts a socket off with a code the client can act on. */
export function cutOff(socket: HeraldSocket, code: ErrorCode, message: string): void {
  socket.emit('herald:error', { code, message });
  socket.disconnect(true);
}

/**
 * A handshake check (engine.io's `allowRequest` shape): runs for the polling
 * handshake and the WebSocket upgrade alike, so a cross-site WebSocket is
 * refused before it is opened.
 * Requests without an Origin (backends, native apps, tests) carry no ambient
 * browser credentials and are allowed; the token still decides who they are.
 */
export function originGuard(allowed: string[] | undefined, log: Logger) {
  const list = allowed?.map((o) => o.toLowerCase());
  return (req: IncomingMessage, callback: (err: string | null | undefined, success: boolean) => void): void => {
    const origin = req.headers.origin;
    if (origin === undefined) return callback(null, true);
    let ok: boolean;
    if (list) {
      ok = list.includes(origin.toLowerCase());
    } else {
      // Same origin: the Origin's host:port is the Host this request was sent to.
      try {
        ok = new URL(origin).host.toLowerCase() === (req.headers.host ?? '').toLowerCase();
      } catch {
        ok = false;
      }
    }
    if (!ok) log.warn('connection refused: origin not allowed', { origin, address: req.socket.remoteAddress });
    callback(ok ? null : ErrorCodes.originNotAllowed, ok);
  };
}

/** Live connections per client address; an address leaves the map when its count reaches zero. */
class CountByAddress {
  private readonly counts = new Map<string, number>();
  get(address: string): number {
    return this.counts.get(address) ?? 0;
  }
  /** One more; returns the new count. */
  add(address: string): number {
    const n = this.get(address) + 1;
    this.counts.set(address, n);
    return n;
  }
  remove(address: string): void {
    const n = this.get(address) - 1;
    if (n > 0) this.counts.set(address, n);
    else this.counts.delete(address);
  }
}

type AllowRequest = (req: IncomingMessage, callback: (err: string | null | undefined, success: boolean) => void) => void;

/** What a refused handshake is told: the same envelope as every other Herald error. */
const HANDSHAKE_REFUSALS: Record<string, { status: number; reason: string; message: string }> = {
  [ErrorCodes.originNotAllowed]: { status: 403, reason: 'Forbidden', message: 'this origin may not connect to Herald' },
  [ErrorCodes.tooManyConnections]: {
    status: 429,
    reason: 'Too Many Requests',
    message: 'too many connections from this address; close some and try again',
  },
};

/**
 * Engine.IO middleware that runs the handshake checks in place of `allowRequest`,
 * so that a refusal gets Herald's `{ "error": { "code", "message" } }` and a status
 * that says why (engine.io's own answer is `{"code":4,…}` for polling and a
 * `400 text/html` for a WebSocket upgrade). It answers the refusal itself, on the
 * polling response or on the upgrade's socket, then fails the middleware: engine.io
 * then finds the answer sent and only closes. Requests of an existing session
 * (`sid`) are not handshakes and pass, as they did `allowRequest`.
 */
export function refuseHandshakes(check: AllowRequest) {
  return (req: IncomingMessage & { _query?: Record<string, string> }, res: unknown, next: (err?: Error) => void): void => {
    if (req._query?.sid) return next();
    check(req, (err, ok) => {
      if (ok) return next();
      const code = err ?? ErrorCodes.originNotAllowed;
      const refusal = HANDSHAKE_REFUSALS[code] ?? { status: 403, reason: 'Forbidden', message: 'connection refused' };
      const envelope = { error: { code, message: refusal.message } };
      if (res instanceof ServerResponse) {
        sendJson(res, refusal.status, envelope);
      } else if (req.socket.writable) {
        // A WebSocket upgrade: nothing answered yet, the socket is ours to answer on.
        const body = JSON.stringify(envelope);
        const headers = Object.entries(JSON_HEADERS).map(([name, value]) => `${name}: ${value}\r\n`);
        req.socket.end(
          `HTTP/1.1 ${refusal.status} ${refusal.reason}\r\nconnection: close\r\n${headers.join('')}` +
            `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
      }
      next(new Error(code));
    });
  };
}

/**
 * Engine.IO connections per client address, counted from the handshake. The
 * per-address cap in connectionCaps applies when a socket joins the namespace,
 * so a client that opens Engine.IO connections and never sends CONNECT was not
 * counted at all (socket.io closes each only after connectTimeout, 45 s). This
 * cap is twice that one: a real client, whose every Engine.IO connection joins
 * the namespace, meets the namespace cap first and gets its clear
 * `too_many_connections`; only the raw connections that never join meet this one.
 */
export class EngineAddressCap {
  private readonly open = new CountByAddress();
  constructor(private readonly cap: number) {}

  /** A handshake check (either transport): `inner` first, then the count. */
  guard(inner: AllowRequest, log: Logger): AllowRequest {
    return (req, callback) =>
      inner(req, (err, ok) => {
        if (!ok) return callback(err, ok);
        const address = req.socket.remoteAddress ?? 'unknown';
        if (this.open.get(address) < this.cap) return callback(null, true);
        log.warn('connection refused: too many Engine.IO connections from this address', { address, cap: this.cap });
        callback(ErrorCodes.tooManyConnections, false);
      });
  }

  /**
   * Counts an opened connection until it closes. Handshakes admitted in the same
   * turn of the loop are all under the cap when checked; any past it closes here.
   */
  track(conn: { remoteAddress: string; once(event: 'close', fn: () => void): unknown; close(): unknown }): void {
    const address = conn.remoteAddress || 'unknown';
    const n = this.open.add(address);
    conn.once('close', () => this.open.remove(address));
    if (n > this.cap) conn.close();
  }
}

/** The client's address as the socket saw it. */
const addressOf = (socket: HeraldSocket): string => socket.handshake.address || 'unknown';

/** io.use middleware (after authentication): per-user and per-address caps on this node. */
export function connectionCaps(io: HeraldServer, { config }: RealtimeDeps) {
  const perAddress = new CountByAddress();
  return (socket: HeraldSocket, next: (err?: Error) => void): void => {
    const address = addressOf(socket);
    if (perAddress.get(address) >= config.limits.connectionsPerIp) {
      next(new Error(ErrorCodes.tooManyConnections));
      return;
    }
    const userSockets = io.of('/').adapter.rooms.get(roomOf(socket.data.userId))?.size ?? 0;
    if (userSockets >= config.limits.connectionsPerUser) {
      next(new Error(ErrorCodes.tooManyConnections));
      return;
    }
    perAddress.add(address);
    socket.on('disconnect', release);
    next();
  };
  // One listener for every socket (`this`), rather than a closure per socket.
  function release(this: HeraldSocket): void {
    perAddress.remove(addressOf(this));
  }
}

/**
 * Per-socket message rate: a client that floods is told why and disconnected.
 * Counted on the connection, so every message counts: events, and also acks,
 * CONNECTs to other namespaces and binary attachments, which `socket.use`
 * never sees (a flood of those went unchecked).
 */
export function limitEventRate(socket: HeraldSocket, { config }: RealtimeDeps): void {
  const rate = config.limits.socketEventsPerSecond;
  const bucket = new TokenBucket(rate, rate * 2);
  const onPacket = (packet: { type: string }) => {
    if (packet.type !== 'message' || bucket.take()) return;
    socket.conn.off('packet', onPacket);
    cutOff(socket, ErrorCodes.rateLimited, `more than ${rate} messages per second`);
  };
  socket.conn.on('packet', onPacket);
  // 'disconnect' comes once per socket: `on` spares the wrapper `once` makes.
  socket.on('disconnect', () => socket.conn.off('packet', onPacket));
}

/** `auth:refresh { token }`: a fresh token for the same user extends the session. Made once per server. */
export function refreshHandler(deps: RealtimeDeps): (socket: HeraldSocket) => void {
  const refresh = acked(RefreshSchema, deps.log, async (socket, { token }) => {
    let user;
    try {
      user = verifyUserToken(deps.config.authSecret, token);
    } catch (err) {
      throw new RefusedError(err instanceof AuthError ? err.code : ErrorCodes.unauthorized);
    }
    if (user.userId !== socket.data.userId) throw new RefusedError(ErrorCodes.unauthorized, 'the token is for another user');
    socket.data.exp = user.exp;
    return { exp: user.exp };
  });
  return (socket) => {
    socket.on('auth:refresh', refresh);
  };
}

/** Disconnects sockets whose token has expired (checked every EXPIRY_SWEEP_MS). */
export function expireTokens(io: HeraldServer): () => void {
  const timer = setInterval(() => {
    const now = Date.now() / 1000;
    for (const socket of io.of('/').sockets.values()) {
      if (socket.data.exp !== undefined && socket.data.exp <= now) {
        cutOff(socket, ErrorCodes.tokenExpired, 'the token expired; reconnect with a fresh one or send auth:refresh before exp');
      }
    }
  }, EXPIRY_SWEEP_MS);
  timer.unref();
  return () => clearInterval(timer);
}
