import 'server-only';
import { randomUUID } from 'node:crypto';
import { RedisAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import type { BroadcastOptions } from 'socket.io-adapter';
import { deliverHere, gatedOf, type Gated } from './delivery';
import type { AdminBoard } from '../admin/board';
import type { Logger } from '../log';
import { orAfter } from '../timeout';
import { RedisPresence, type LocalRooms } from './presence';

/**
 * Fan-out between nodes: the socket.io Redis adapter (pub/sub), and presence
 * in Redis. Why pub/sub and not the streams adapter: docs/cluster.md.
 *
 * Correctness never rests on pub/sub delivering. While this node's link to
 * Redis is down it keeps delivering its own pushes to its own sockets and
 * notes, per socket, where it stood; when the link is back it replays from the
 * inbox what each socket missed (lib/realtime/catchup.ts: resyncAfterOutage).
 */

/** Reconnect quickly at first, then at most every 2 s: an outage costs at most that much extra delay. */
const reconnectStrategy = (retries: number): number => Math.min(50 * 2 ** retries, 2_000);
const CONNECT_TIMEOUT_MS = 2_000;
/** Give the re-subscription a moment to land before reading what was missed. */
const RESYNC_DELAY_MS = 250;
const KEY_PREFIX = 'herald';
/** Each node's status for the admin view, one field per node. */
const ADMIN_NODES_KEY = `${KEY_PREFIX}:admin:nodes`;

export interface ClusterLink {
  /** For `new Server({ adapter })`. */
  adapter: (nsp: unknown) => RedisAdapter;
  /** Cluster presence over this node's rooms (the caller closes it before the link). */
  presenceFor(local: LocalRooms): RedisPresence;
  /** Both connections up, and Redis answered the last probe in time. */
  healthy(): boolean;
  /** Called once when the link goes down, and once when it is back (after a short settle). */
  onOutage(fn: () => void): void;
  onRecovery(fn: () => void): void;
  /**
   * Claims `key` for the whole cluster for `ttlMs`: true for the first claim,
   * false when any node claimed it within that time, undefined when Redis could
   * not say (down, frozen, or no answer within CLAIM_TIMEOUT_MS): the caller decides alone.
   */
  claimOnce(key: string, ttlMs: number): Promise<boolean | undefined>;
  /** The admin view's shared hash of node statuses (lib/admin/monitor.ts). */
  adminBoard: AdminBoard;
  close(): Promise<void>;
}

/** How long a claim may wait on Redis before the node decides alone (a frozen Redis must not hold pushes). */
const CLAIM_TIMEOUT_MS = 100;
/** Redis is asked for a PING this often; an answer later than PROBE_TIMEOUT_MS marks it unresponsive until one comes in time. */
const PROBE_MS = 1_000;
const PROBE_TIMEOUT_MS = 500;

export function connectCluster(url: string, nodeId: string, log: Logger): ClusterLink {
  // No offline queue for publishes: during an outage they fail at once (and are
  // covered by the resync) instead of piling up in memory and arriving stale.
  const pub = createClient({ url, disableOfflineQueue: true, socket: { reconnectStrategy, connectTimeout: CONNECT_TIMEOUT_MS } });
  const sub = pub.duplicate({ disableOfflineQueue: false });
  const outageListeners: Array<() => void> = [];
  const recoveryListeners: Array<() => void> = [];
  let down = true; // until both are ready the first time
  let everUp = false;
  let resyncTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * A connection can stay open while nothing answers (a frozen host, SIGSTOP):
   * `isReady` stays true then. The probe, and any claim that times out, mark
   * Redis unresponsive; a PING answered in time marks it responsive again.
   */
  let responsive = true;
  const probe = setInterval(() => {
    if (!pub.isReady) return;
    void orAfter(pub.ping().then(() => true, () => false), PROBE_TIMEOUT_MS, false).then((ok) => {
      if (ok !== responsive) log.warn(ok ? 'redis answers again' : 'redis does not answer in time', { nodeId, timeoutMs: PROBE_TIMEOUT_MS });
      responsive = ok;
    });
  }, PROBE_MS);
  probe.unref();
  /** Both connections up. */
  const connected = () => pub.isReady && sub.isReady;
  const healthy = () => connected() && responsive;

  const update = () => {
    const up = connected();
    if (up && down) {
      down = false;
      if (!everUp) {
        everUp = true;
        log.info('redis connected', { nodeId });
        return;
      }
      log.warn('redis link restored; replaying what sockets missed', { nodeId });
      clearTimeout(resyncTimer);
      resyncTimer = setTimeout(() => recoveryListeners.forEach((fn) => fn()), RESYNC_DELAY_MS);
    } else if (!up && !down) {
      down = true;
      clearTimeout(resyncTimer);
      log.warn('redis link down: pushes are stored and delivered on this node only until it returns', { nodeId });
      outageListeners.forEach((fn) => fn());
    }
  };
  let lastErrorLog = 0;
  for (const client of [pub, sub]) {
    client.on('ready', update);
    client.on('end', update);
    client.on('reconnecting', update);
    client.on('error', (err: Error) => {
      update();
      // One line per few seconds, not one per reconnect attempt.
      if (Date.now() - lastErrorLog > 5_000) {
        lastErrorLog = Date.now();
        log.warn('redis error', { message: err.message });
      }
    });
  }
  // The adapter fires publishes without awaiting them; a rejected one must not
  // become an unhandled rejection (which would end the process).
  const publish = pub.publish.bind(pub);
  (pub as unknown as { publish: (...a: Parameters<typeof publish>) => Promise<number> }).publish = (...args) =>
    publish(...args).catch(() => 0);

  void pub.connect().catch(() => undefined);
  void sub.connect().catch(() => undefined);

  // socket.io calls the adapter with `new`: a function, not an arrow.
  const adapter = function (nsp: unknown) {
    return new ClusterDeliveryAdapter(nsp, pub, sub);
  };

  return {
    adapter,
    presenceFor: (local) => new RedisPresence(local, pub, sub, nodeId, log, KEY_PREFIX),
    healthy,
    onOutage: (fn) => outageListeners.push(fn),
    onRecovery: (fn) => recoveryListeners.push(fn),
    async claimOnce(key, ttlMs) {
      if (!healthy()) return undefined;
      const claim = pub.set(`${KEY_PREFIX}:once:${key}`, '1', { NX: true, PX: ttlMs }).then(
        (reply) => reply === 'OK',
        () => undefined,
      );
      const answer = await orAfter(claim, CLAIM_TIMEOUT_MS, 'late' as const);
      if (answer !== 'late') return answer;
      responsive = false;
      return undefined;
    },
    adminBoard: {
      write: async (nodeId, status) => void (await pub.hSet(ADMIN_NODES_KEY, nodeId, status)),
      read: () => pub.hGetAll(ADMIN_NODES_KEY),
      remove: async (nodeId) => void (await pub.hDel(ADMIN_NODES_KEY, nodeId)),
    },
    async close() {
      clearInterval(probe);
      clearTimeout(resyncTimer);
      await Promise.allSettled([pub.close(), sub.close()]);
    },
  };
}

/** The channel notifications (and changes to them, which pass the same gate) travel on between nodes. */
const NOTIFY_CHANNEL = `${KEY_PREFIX}#notify`;

/** A notification on its way to the other nodes. */
interface NotifyMessage {
  /** The publishing adapter's id: a node ignores its own. */
  from: string;
  nsp: string;
  rooms: string[];
  except: string[];
  g: Gated;
}

type Pub = ReturnType<typeof createClient>;

/**
 * The socket.io Redis adapter, with notifications delivered through the gate
 * (delivery.ts) on every node. The Redis adapter hands a packet from another
 * node to the base class's `broadcast`, past any override, so notifications do
 * not travel through it: this node delivers its own, and publishes each on
 * NOTIFY_CHANNEL, where every other node's adapter delivers it to its sockets.
 * One connection publishes, so each node's notifications arrive in order.
 * Every other broadcast (read state, for one) takes the Redis adapter's path.
 */
class ClusterDeliveryAdapter extends RedisAdapter {
  private readonly id = randomUUID();

  private get namespace(): string {
    return (this.nsp as { name: string }).name;
  }

  constructor(
    nsp: unknown,
    private readonly pub: Pub,
    private readonly sub: Pub,
  ) {
    super(nsp, pub, sub, { key: KEY_PREFIX });
    void sub.subscribe(NOTIFY_CHANNEL, this.onNotify).catch(() => undefined);
  }

  override broadcast(packet: { type: number; nsp?: string; id?: number; data?: unknown[] }, opts: BroadcastOptions): void {
    const g = gatedOf(packet, opts);
    if (!g) return super.broadcast(packet, opts);
    if (!opts.flags?.local) {
      const message: NotifyMessage = { from: this.id, nsp: this.namespace, rooms: [...opts.rooms], except: [...(opts.except ?? [])], g };
      // A failed publish (Redis down) is covered by the resync when the link returns (catchup.ts).
      this.pub.publish(NOTIFY_CHANNEL, JSON.stringify(message)).catch(() => undefined);
    }
    deliverHere(this, g, opts);
  }

  private readonly onNotify = (raw: string): void => {
    let message: NotifyMessage;
    try {
      message = JSON.parse(raw) as NotifyMessage;
    } catch {
      return;
    }
    if (message.from === this.id || message.nsp !== this.namespace) return;
    deliverHere(this, message.g, { rooms: new Set(message.rooms), except: new Set(message.except) });
  };

  override close(): Promise<void> | void {
    void this.sub.unsubscribe(NOTIFY_CHANNEL, this.onNotify).catch(() => undefined);
    return super.close();
  }
}
