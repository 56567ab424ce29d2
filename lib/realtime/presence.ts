import 'server-only';
import type { Logger } from '../log';
import { orAfter } from '../timeout';

/**
 * Who is online, for the `online` count in /api/push answers. Each node knows
 * its own sockets; in a cluster each node also publishes its per-user socket
 * counts to Redis so any node can answer for the whole cluster.
 */
export interface Presence {
  /** A socket of `userId` joined or left this node (its room has already changed). */
  changed(userId: string): void;
  /** How many of `userIds` have at least one live socket anywhere. */
  online(userIds: string[]): Promise<number>;
  /** Whether the cluster-wide view is currently available (false: local counts only). */
  healthy(): boolean;
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

  onlineHere(userIds: string[]): number {
    let n = 0;
    for (const id of userIds) if (this.local.count(id) > 0) n++;
    return n;
  }

  async online(userIds: string[]): Promise<number> {
    return this.onlineHere(userIds);
  }

  healthy(): boolean {
    return true;
  }

  async close(): Promise<void> {}
}

/** The subset of a node-redis v5 client that presence uses. */
export interface PresenceRedis {
  isReady: boolean;
  on(event: 'ready', listener: () => void): unknown;
  multi(): PresenceMulti;
  sMembers(key: string): Promise<string[]>;
}
export interface PresenceMulti {
  hSet(key: string, field: string, value: string): PresenceMulti;
  hDel(key: string, field: string): PresenceMulti;
  del(key: string): PresenceMulti;
  sAdd(key: string, member: string): PresenceMulti;
  sRem(key: string, member: string): PresenceMulti;
  set(key: string, value: string, opts: { PX: number }): PresenceMulti;
  pExpire(key: string, ms: number): PresenceMulti;
  exists(key: string): PresenceMulti;
  hmGet(key: string, fields: string[]): PresenceMulti;
  exec(): Promise<unknown[]>;
}

/** A node that stops refreshing its heartbeat is presumed dead after this. */
const NODE_TTL_MS = 15_000;
const HEARTBEAT_MS = 5_000;
/** A push never waits longer than this for the cluster-wide count; it falls back to this node's. */
const ONLINE_QUERY_TIMEOUT_MS = 250;

/**
 * Cluster presence: this node's counts live in the hash `herald:presence:<node>`,
 * which expires with the node's heartbeat, so a node that dies stops counting
 * within NODE_TTL_MS. After Redis restarts (and forgets everything) each node
 * writes its whole hash again.
 */
export class RedisPresence extends LocalPresence {
  private readonly hashKey: string;
  private readonly nodeKey: string;
  private readonly timer: ReturnType<typeof setInterval>;
  private closed = false;

  constructor(
    local: LocalRooms,
    private readonly redis: PresenceRedis,
    private readonly nodeId: string,
    private readonly log: Logger,
    private readonly prefix = 'herald',
  ) {
    super(local);
    this.hashKey = `${prefix}:presence:${nodeId}`;
    this.nodeKey = `${prefix}:node:${nodeId}`;
    this.timer = setInterval(() => void this.heartbeat(), HEARTBEAT_MS);
    this.timer.unref();
    redis.on('ready', () => void this.republish());
    void this.republish();
  }

  override changed(userId: string): void {
    if (!this.redis.isReady) return; // republished in full on the next 'ready'
    const count = this.local.count(userId);
    const m = this.redis.multi();
    (count ? m.hSet(this.hashKey, userId, String(count)) : m.hDel(this.hashKey, userId)).exec().catch(() => undefined);
  }

  override async online(userIds: string[]): Promise<number> {
    if (!this.redis.isReady) return this.onlineHere(userIds);
    const answer = await orAfter(this.clusterOnline(userIds).catch(() => null), ONLINE_QUERY_TIMEOUT_MS, null);
    return answer ?? this.onlineHere(userIds);
  }

  override healthy(): boolean {
    return this.redis.isReady;
  }

  private async clusterOnline(userIds: string[]): Promise<number> {
    const nodes = (await this.redis.sMembers(`${this.prefix}:nodes`)).filter((n) => n !== this.nodeId);
    const online = new Set(userIds.filter((id) => this.local.count(id) > 0));
    if (nodes.length === 0 || online.size === userIds.length) return online.size;
    const m = this.redis.multi();
    for (const node of nodes) {
      m.exists(`${this.prefix}:node:${node}`);
      m.hmGet(`${this.prefix}:presence:${node}`, userIds);
    }
    const replies = await m.exec();
    const dead: string[] = [];
    nodes.forEach((node, i) => {
      if (Number(replies[i * 2]) !== 1) {
        dead.push(node);
        return;
      }
      const counts = replies[i * 2 + 1] as Array<string | null>;
      counts.forEach((c, j) => {
        if (c !== null && Number(c) > 0) online.add(userIds[j] as string);
      });
    });
    if (dead.length > 0) {
      const cleanup = this.redis.multi();
      for (const node of dead) cleanup.sRem(`${this.prefix}:nodes`, node);
      cleanup.exec().catch(() => undefined);
    }
    return online.size;
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
  }

  /** Writes this node's whole hash (at start, and after Redis came back empty). */
  private async republish(): Promise<void> {
    if (this.closed || !this.redis.isReady) return;
    const m = this.redis.multi().del(this.hashKey);
    for (const [userId, count] of this.local.users()) m.hSet(this.hashKey, userId, String(count));
    m.set(this.nodeKey, '1', { PX: NODE_TTL_MS }).sAdd(`${this.prefix}:nodes`, this.nodeId).pExpire(this.hashKey, NODE_TTL_MS);
    await m.exec().catch((err: unknown) => this.log.warn('presence republish failed', { err }));
  }

  override async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
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
