import 'server-only';
import { ServerResponse, type IncomingMessage } from 'node:http';
import { verifyUserToken } from '../auth';
import { AuthError, RefusedError } from '../errors';
import { JSON_HEADERS, sendJson } from '../http/respond';
import { TokenBucket } from '../limits';
import { Counts } from './admission';
import type { Logger } from '../log';
import { ErrorCodes, type ErrorCode } from '../contract';
import { RefreshSchema } from '../validate';
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

type AllowRequest = (req: IncomingMessage, callback: (err: string | null | undefined, success: boolean) => void) => void;

/** What a refused handshake is told: the same envelope as every other Herald error. */
const HANDSHAKE_REFUSALS: Record<string, { status: number; reason: string; message: string }> = {
  [ErrorCodes.originNotAllowed]: { status: 403, reason: 'Forbidden', message: 'this origin may not connect to Herald' },
  [ErrorCodes.tooManyConnections]: {
    status: 429,
    reason: 'Too Many Requests',
    message: 'too many connections from this address; close some and try again',
  },
  [ErrorCodes.validationFailed]: {
    status: 400,
    reason: 'Bad Request',
    message: 'JSONP polling is not served; use XHR polling or WebSocket',
  },
};

/**
 * Engine.IO middleware that runs the connection checks in place of
 * `allowRequest`, so that a refusal gets Herald's `{ "error": { "code", "message" } }`
 * and a status that says why (engine.io's own answer is `{"code":4,…}` for
 * polling and a `400 text/html` for a WebSocket upgrade). It answers the
 * refusal itself, on the polling response or on the upgrade's socket, then
 * fails the middleware: engine.io then finds the answer sent and only closes.
 *
 * Every request gets `nosniff` (engine.io's answers and errors are written with
 * `writeHead`, which keeps headers set here) and is refused when it asks for
 * JSONP polling (`j=`). `origin` runs on every request, a session's polls and
 * its WebSocket upgrade included; `handshake` (the per-address cap) only on
 * requests that open a session.
 */
export function refuseHandshakes(origin: AllowRequest, handshake: AllowRequest, onRefused: (code: string) => void = () => undefined) {
  return (req: IncomingMessage & { _query?: Record<string, string> }, res: unknown, next: (err?: Error) => void): void => {
    if (res instanceof ServerResponse || hasSetHeader(res)) res.setHeader('X-Content-Type-Options', 'nosniff');
    const refuse = (code: string): void => {
      onRefused(code);
      const refusal = HANDSHAKE_REFUSALS[code] ?? { status: 403, reason: 'Forbidden', message: 'connection refused' };
      const envelope = { error: { code, message: refusal.message } };
      if (res instanceof ServerResponse) {
        sendJson(res as ServerResponse, refusal.status, envelope);
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
    };
    if (req._query?.j !== undefined) return refuse(ErrorCodes.validationFailed);
    origin(req, (err, ok) => {
      if (!ok) return refuse(err ?? ErrorCodes.originNotAllowed);
      if (req._query?.sid) return next();
      handshake(req, (err2, ok2) => (ok2 ? next() : refuse(err2 ?? ErrorCodes.tooManyConnections)));
    });
  };
}

const hasSetHeader = (res: unknown): res is { setHeader(name: string, value: string): unknown } =>
  typeof (res as { setHeader?: unknown } | null)?.setHeader === 'function';

/**
 * Engine.IO connections per client address, counted from the handshake. The
 * per-address cap in admission.ts applies when a socket joins the namespace, so
 * it does not see a client that opens Engine.IO connections and never sends
 * CONNECT (socket.io closes each only after connectTimeout, 45 s). This cap is
 * twice that one: a real client, whose every Engine.IO connection joins the
 * namespace, meets the namespace cap first and gets its clear
 * `too_many_connections`; only the raw connections that never join meet this one.
 */
export class EngineAddressCap {
  private readonly open = new Counts();
  constructor(
    private readonly cap: number,
    private readonly log: Logger,
  ) {}

  /** A handshake check (either transport). */
  readonly guard: AllowRequest = (req, callback) => {
    const address = req.socket.remoteAddress ?? 'unknown';
    if (this.open.get(address) < this.cap) return callback(null, true);
    this.log.warn('connection refused: too many Engine.IO connections from this address', { address, cap: this.cap });
    callback(ErrorCodes.tooManyConnections, false);
  };

  /**
   * Counts an opened connection until it closes. Handshakes admitted in the same
   * turn of the loop are all under the cap when checked; any past it closes here.
   */
  track(conn: { remoteAddress: string; once(event: 'close', fn: () => void): unknown; close(): unknown }): void {
    const address = conn.remoteAddress || 'unknown';
    this.open.add(address);
    conn.once('close', () => this.open.remove(address));
    if (this.open.get(address) > this.cap) conn.close();
  }
}

/**
 * Per-socket message rate: a client that floods is told why and disconnected.
 * Counted on the Engine.IO connection, so every packet counts: events, acks,
 * CONNECTs to other namespaces and binary attachments, which `socket.use`
 * never sees, and also Engine.IO's own pong and noop packets (a client answers
 * one ping per interval; a stream of unsolicited pongs is a flood like any other).
 */
export function limitEventRate(socket: HeraldSocket, { config, metrics }: RealtimeDeps): void {
  const rate = config.limits.socketEventsPerSecond;
  const bucket = new TokenBucket(rate, rate * 2);
  const onPacket = () => {
    if (bucket.take()) return;
    socket.conn.off('packet', onPacket);
    metrics.rateLimited.inc({ limit: 'events' });
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
