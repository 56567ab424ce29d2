import 'server-only';
import type { Logger } from '../log';

/**
 * Who is online, for the `online` count in /api/push answers. Each node knows
 * its own sockets; in a cluster each node also keeps, in memory, which users
 * every other node holds, so a push never waits on Redis for the count.
 */
export interface Presence {
  /** A socket of `userId` joined or left this node (its room has already changed). */
  changed(userId: string): void;
  /** How many of `userIds` have at least one live socket anywhere this node knows of. */
  online(userIds: string[]): number;
  close(): Promise<void>;
}

/**
 * This node's sockets per user, read from the socket.io adapter's rooms
 * (`user:<id>` → socket ids): the adapter already keeps the count, so presence
 * keeps no copy of its own.
 */
export interface LocalRooms {
  /** Live sockets of `userId` on this node. */
  count(userId: string): number;
  /** Every user with a socket on this node, with the count. */
  users(): Iterable<[string, number]>;
}

export function roomsOf(rooms: Map<string, Set<string>>, prefix: string): LocalRooms {
  return {
    count: (userId) => rooms.get(prefix + userId)?.size ?? 0,
    *users() {
      for (const [room, sockets] of rooms) {
        if (room.startsWith(prefix) && sockets.size > 0) yield [room.slice(prefix.length), sockets.size];
      }
    },
  };
}

/** Presence on one node. */
export class LocalPresence implements Presence {
  constructor(protected readonly local: LocalRooms) {}

  changed(_userId: string): void {}

  online(userIds: string[]): number {
    let n = 0;
    for (const id of userIds) if (this.local.count(id) > 0) n++;
    return n;
  }

  async close(): Promise<void> {}
}

/** The commands of a node-redis v5 client that presence uses. */
export interface PresenceRedis {
  isReady: boolean;
  on(event: 'ready', listener: () => void): unknown;
  multi(): PresenceMulti;
  sMembers(key: string): Promise<string[]>;
  exists(key: string): Promise<number>;
  hKeys(key: string): Promise<string[]>;
  publish(channel: string, message: string): Promise<number>;
}
export interface PresenceMulti {
  hSet(key: string, field: string, value: string): PresenceMulti;
  hDel(key: string, field: string): PresenceMulti;
  del(key: string): PresenceMulti;
  sAdd(key: string, member: string): PresenceMulti;
  sRem(key: string, member: string): PresenceMulti;
  set(key: string, value: string, opts: { PX: number }): PresenceMulti;
  pExpire(key: string, ms: number): PresenceMulti;
  exec(): Promise<unknown[]>;
}
/** A client in subscriber mode (the fan-out link's). */
export interface PresenceSubscriber {
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  unsubscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
}

/** A node that stops refreshing its heartbeat is presumed dead after this. */
const NODE_TTL_MS = 15_000;
/** Heartbeat, and the check of which other nodes are still alive. */
const HEARTBEAT_MS = 5_000;
/** Every node's set is read again this often, in case a change message was lost (Redis restarted, a reconnect). */
const RELOAD_MS = 30_000;

/** A change of one user's presence on one node, as published. */
interface PresenceChange {
  node: string;
  user: string;
  /** The user still has a socket on that node. */
  on: boolean;
}

/**
 * Cluster presence. Each node writes its users into the hash
 * `herald:presence:<node>` (which expires with the node's heartbeat, so a dead
 * node stops counting within NODE_TTL_MS) and publishes every change on
 * `herald#presence`. Every node keeps the other nodes' users in memory, filled
 * from their hashes at start, after a reconnect and every RELOAD_MS, and kept
 * current by the messages: `online()` is a lookup in memory, and a frozen or
 * lost Redis never holds a push. While Redis is away the view goes stale (users
 * who left other nodes still count), which the count, advisory, can bear.
 */
export class RedisPresence extends LocalPresence {
  private readonly hashKey: string;
  private readonly nodeKey: string;
  private readonly channel: string;
  /** Other nodes' users. */
  private readonly remote = new Map<string, Set<string>>();
  /** For each reload under way, the messages that arrived since it began. */
  private readonly reloads = new Set<PresenceChange[]>();
  private readonly heartbeatTimer: ReturnType<typeof setInterval>;
  private readonly reloadTimer: ReturnType<typeof setInterval>;
  private closed = false;
  /**
   * Whether this node's heartbeat key and its entry in the set of nodes are
   * written. Until they are, other nodes' reloads skip this node, so each change
   * writes them too: a reload elsewhere that follows the change's message then
   * finds the node, instead of dropping the user the message added.
   */
  private announced = false;

  constructor(
    local: LocalRooms,
    private readonly redis: PresenceRedis,
    private readonly subscriber: PresenceSubscriber,
    private readonly nodeId: string,
    private readonly log: Logger,
    private readonly prefix = 'herald',
  ) {
    super(local);
    this.hashKey = `${prefix}:presence:${nodeId}`;
    this.nodeKey = `${prefix}:node:${nodeId}`;
    this.channel = `${prefix}#presence`;
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), HEARTBEAT_MS);
    this.heartbeatTimer.unref();
    this.reloadTimer = setInterval(() => void this.reload(), RELOAD_MS);
    this.reloadTimer.unref();
    redis.on('ready', () => {
      // Redis may have come back empty: the node is announced again.
      this.announced = false;
      void this.republish().then(() => this.reload());
    });
    // Subscribed first, then read: a change published before the subscription is in the
    // hashes the first reload reads, and one after it is applied over that snapshot.
    void subscriber
      .subscribe(this.channel, this.onChange)
      .catch((err: unknown) => log.warn('presence subscribe failed', { err }))
      .then(() => this.republish())
      .then(() => this.reload());
  }

  override changed(userId: string): void {
    // Closed, nothing more is written; with Redis away, the hash is republished in full on the next 'ready'.
    if (this.closed || !this.redis.isReady) return;
    const count = this.local.count(userId);
    const m = this.redis.multi();
    if (count) m.hSet(this.hashKey, userId, String(count));
    else m.hDel(this.hashKey, userId);
    if (!this.announced) this.announce(m);
    m.exec().catch(() => undefined);
    const change: PresenceChange = { node: this.nodeId, user: userId, on: count > 0 };
    this.redis.publish(this.channel, JSON.stringify(change)).catch(() => undefined);
  }

  override online(userIds: string[]): number {
    let n = 0;
    for (const id of userIds) {
      if (this.local.count(id) > 0) n++;
      else for (const users of this.remote.values()) if (users.has(id)) {
        n++;
        break;
      }
    }
    return n;
  }

  /** Other nodes this node knows to be alive, with their user counts (tests, diagnostics). */
  view(): Map<string, number> {
    return new Map([...this.remote].map(([node, users]) => [node, users.size]));
  }

  private readonly onChange = (message: string): void => {
    let change: PresenceChange;
    try {
      change = JSON.parse(message) as PresenceChange;
    } catch {
      return;
    }
    if (change.node === this.nodeId || typeof change.user !== 'string') return;
    this.apply(change);
    // A reload under way read (or will read) some hashes before this change: applied again over its snapshot.
    for (const arrived of this.reloads) arrived.push(change);
  };

  private apply(change: PresenceChange): void {
    let users = this.remote.get(change.node);
    if (!users) this.remote.set(change.node, (users = new Set()));
    if (change.on) users.add(change.user);
    else users.delete(change.user);
  }

  /** Reads every other live node's users again, and forgets the nodes that are gone. */
  async reload(): Promise<void> {
    if (this.closed || !this.redis.isReady) return;
    const arrived: PresenceChange[] = [];
    this.reloads.add(arrived);
    try {
      const nodes = (await this.redis.sMembers(`${this.prefix}:nodes`)).filter((n) => n !== this.nodeId);
      const next = new Map<string, Set<string>>();
      for (const node of nodes) {
        if ((await this.redis.exists(`${this.prefix}:node:${node}`)) !== 1) continue;
        next.set(node, new Set(await this.redis.hKeys(`${this.prefix}:presence:${node}`)));
      }
      this.remote.clear();
      for (const [node, users] of next) this.remote.set(node, users);
      // The snapshot may predate messages that came in while it was read: they win.
      for (const change of arrived) this.apply(change);
    } catch (err) {
      this.log.debug('presence reload failed', { err });
    } finally {
      this.reloads.delete(arrived);
    }
  }

  private async heartbeat(): Promise<void> {
    if (this.closed || !this.redis.isReady) return;
    await this.redis
      .multi()
      .set(this.nodeKey, '1', { PX: NODE_TTL_MS })
      .sAdd(`${this.prefix}:nodes`, this.nodeId)
      .pExpire(this.hashKey, NODE_TTL_MS)
      .exec()
      .catch((err: unknown) => this.log.debug('presence heartbeat failed', { err }));
    await this.forgetDeadNodes();
  }

  /** Drops the nodes whose heartbeat key has expired, here and from the set of nodes. */
  private async forgetDeadNodes(): Promise<void> {
    try {
      for (const node of [...this.remote.keys()]) {
        if ((await this.redis.exists(`${this.prefix}:node:${node}`)) === 1) continue;
        this.remote.delete(node);
        await this.redis.multi().sRem(`${this.prefix}:nodes`, node).exec();
      }
    } catch (err) {
      this.log.debug('presence check of other nodes failed', { err });
    }
  }

  /** Writes this node's whole hash (at start, and after Redis came back empty). */
  private async republish(): Promise<void> {
    if (this.closed || !this.redis.isReady) return;
    const m = this.redis.multi().del(this.hashKey);
    for (const [userId, count] of this.local.users()) m.hSet(this.hashKey, userId, String(count));
    this.announce(m);
    await m
      .exec()
      .then(() => (this.announced = true))
      .catch((err: unknown) => this.log.warn('presence republish failed', { err }));
  }

  /** Adds to `m` the node's heartbeat key, its entry in the set of nodes, and its hash's expiry. */
  private announce(m: PresenceMulti): void {
    m.set(this.nodeKey, '1', { PX: NODE_TTL_MS }).sAdd(`${this.prefix}:nodes`, this.nodeId).pExpire(this.hashKey, NODE_TTL_MS);
  }

  override async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.reloadTimer);
    await this.subscriber.unsubscribe(this.channel, this.onChange).catch(() => undefined);
    if (!this.redis.isReady) return;
    await this.redis
      .multi()
      .del(this.hashKey)
      .del(this.nodeKey)
      .sRem(`${this.prefix}:nodes`, this.nodeId)
      .exec()
      .catch(() => undefined);
  }
}
