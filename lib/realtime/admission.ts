import 'server-only';
import { ErrorCodes, type ErrorCode } from '../contract';
import { KeyedRateLimit } from '../limits';
import type { HeraldSocket, RealtimeDeps } from './types';

/**
 * Who may hold a socket, counted at admission. A socket counts toward its user
 * and its address the moment it passes this middleware, not when it later
 * joins its user room: several CONNECT packets in one polling POST (or one TCP
 * write) run their middlewares in the same turn, before any of them has joined
 * a room, so a cap read from room sizes let them all in.
 *
 * - per user and per address: at most `connectionsPerUser` / `connectionsPerIp` sockets on this node;
 * - one socket per Engine.IO connection (what every socket.io client opens per namespace);
 * - handshakes per user and per address per second (a catch-up can cost a page of
 *   notifications, so a flood of handshakes is a flood of reads): refused with
 *   `rate_limited` and `data.retryAfterSeconds`, which the client backs off from;
 * - a `user_login` re-bind is admitted by the same rules for the user it moves to.
 */

/** Handshake bursts allowed above the per-second rate, as a multiple of it. */
const USER_HANDSHAKE_BURST = 4;
const ADDRESS_HANDSHAKE_BURST = 10;

/** The client's address as the socket saw it. */
export const addressOf = (socket: HeraldSocket): string => socket.handshake.address || 'unknown';

/** Live sockets per key; a key leaves the map when its count reaches zero. */
export class Counts {
  private readonly counts = new Map<string, number>();
  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  add(key: string): void {
    this.counts.set(key, this.get(key) + 1);
  }
  remove(key: string): void {
    const n = this.get(key) - 1;
    if (n > 0) this.counts.set(key, n);
    else this.counts.delete(key);
  }
}

/** A refusal as socket.io sends it in `connect_error` (`message` and `data`). */
type Refusal = Error & { data?: { retryAfterSeconds: number } };

function refusal(code: ErrorCode, retryAfterSeconds?: number): Refusal {
  const err: Refusal = new Error(code);
  if (retryAfterSeconds !== undefined) err.data = { retryAfterSeconds };
  return err;
}

export class Admission {
  private readonly perUser = new Counts();
  private readonly perAddress = new Counts();
  /** Engine.IO connections that already carry a socket. */
  private readonly connsInUse = new WeakSet<object>();
  /** Sockets counted here, with the user they are counted for. */
  private readonly counted = new WeakMap<HeraldSocket, string>();
  private readonly userHandshakes: KeyedRateLimit | undefined;
  private readonly addressHandshakes: KeyedRateLimit | undefined;

  constructor(private readonly limits: RealtimeDeps['config']['limits']) {
    const { handshakesPerUser: user, handshakesPerIp: ip } = limits;
    this.userHandshakes = user > 0 ? new KeyedRateLimit(user, user * USER_HANDSHAKE_BURST) : undefined;
    this.addressHandshakes = ip > 0 ? new KeyedRateLimit(ip, ip * ADDRESS_HANDSHAKE_BURST) : undefined;
  }

  /** io.use middleware, after authentication has set `socket.data.userId`. */
  readonly middleware = (socket: HeraldSocket, next: (err?: Error) => void): void => {
    const address = addressOf(socket);
    if (this.connsInUse.has(socket.conn)) return next(refusal(ErrorCodes.tooManyConnections));
    const refused = this.check(socket.data.userId, address);
    if (refused) return next(refused);
    this.connsInUse.add(socket.conn);
    this.perAddress.add(address);
    this.perUser.add(socket.data.userId);
    this.counted.set(socket, socket.data.userId);
    next();
    // socket.io connects an admitted socket on the next tick, or drops it without a
    // 'disconnect' when its connection closed meanwhile: then release it here.
    process.nextTick(this.releaseIfDropped, socket);
  };

  /**
   * Moves a socket's count to another user (`user_login`). Returns the refusal
   * code when that user is over a cap or a rate; the caller then keeps the old binding.
   */
  rebind(socket: HeraldSocket, to: string): ErrorCode | undefined {
    const from = this.counted.get(socket);
    if (from === undefined || from === to) return undefined;
    const refused = this.check(to, addressOf(socket));
    if (refused) return refused.message as ErrorCode;
    this.perUser.remove(from);
    this.perUser.add(to);
    this.counted.set(socket, to);
    return undefined;
  }

  /** A socket has gone: its counts are released (once). */
  release(socket: HeraldSocket): void {
    const user = this.counted.get(socket);
    if (user === undefined) return;
    this.counted.delete(socket);
    this.perUser.remove(user);
    this.perAddress.remove(addressOf(socket));
    this.connsInUse.delete(socket.conn);
  }

  /** Sockets counted for `userId` on this node. */
  userCount(userId: string): number {
    return this.perUser.get(userId);
  }

  private check(userId: string, address: string): Refusal | undefined {
    if (this.perAddress.get(address) >= this.limits.connectionsPerIp) return refusal(ErrorCodes.tooManyConnections);
    if (this.perUser.get(userId) >= this.limits.connectionsPerUser) return refusal(ErrorCodes.tooManyConnections);
    if (this.addressHandshakes && !this.addressHandshakes.take(address)) {
      return refusal(ErrorCodes.rateLimited, this.addressHandshakes.retryAfterSeconds(address));
    }
    if (this.userHandshakes && !this.userHandshakes.take(userId)) {
      return refusal(ErrorCodes.rateLimited, this.userHandshakes.retryAfterSeconds(userId));
    }
    return undefined;
  }

  private readonly releaseIfDropped = (socket: HeraldSocket): void => {
    if (!socket.connected) this.release(socket);
  };
}
