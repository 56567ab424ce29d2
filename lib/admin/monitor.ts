import 'server-only';
import type { AdminNode, AdminOutbox, AdminOverview, AdminSocket, AdminTailEntry, AdminUser } from '../contract';
import type { Inbox, UserReceipts } from '../inbox/types';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import { lastDeliveredOf } from '../realtime/gate';
import { roomOf } from '../realtime/rooms';
import type { HeraldServer } from '../realtime/types';
import { orAfter } from '../timeout';
import type { AdminBoard } from './board';
import { RateHistory, type Buckets } from './rates';
import { PushTail } from './tail';

/**
 * What the admin view shows, gathered on each node: a sample of this node's
 * counters every SAMPLE_MS (rates, pushes/s, the dependencies' state), the
 * tail of pushes it accepted, and its sockets of a user.
 *
 * In a cluster, each node writes its status (and its newest pushes) into a
 * shared Redis hash at every sample, and reads every other node's from it: any
 * node answers for the whole cluster, and a node that stops writing drops out
 * after NODE_STALE_MS. A user lookup asks every node for its sockets of the
 * user through socket.io's server-side events (the Redis adapter's requests).
 */

/** How often the counters are sampled (and the cluster status written). */
export const SAMPLE_MS = 2_000;
/** Five minutes of samples for the chart. */
const RATE_POINTS = 150;
/** Pushes kept for the live tail, on each node. */
const TAIL_SIZE = 50;
/** Each node's newest pushes travel with its status; the tail of the cluster is the newest of them all. */
const TAIL_SHARED = 20;
/** A node whose status is older than this is taken for gone. */
const NODE_STALE_MS = 10_000;
/** Notifications a user lookup shows. */
const LOOKUP_NOTIFICATIONS = 50;
/** A user lookup waits this long at most for the other nodes' sockets. */
const LOOKUP_TIMEOUT_MS = 2_000;
/** A notification the user has reached no receipt on yet. */
const NO_RECEIPTS: UserReceipts = { deliveredAt: null, seenAt: null, readAt: null };


/** What a node writes to the board. */
interface SharedStatus {
  node: AdminNode;
  tail: AdminTailEntry[];
}

export interface AdminMonitorDeps {
  nodeId: string;
  startedAt: number;
  metrics: Metrics;
  inbox: Pick<Inbox, 'summary' | 'list' | 'receiptsOf'>;
  io: HeraldServer;
  /** The cluster's shared statuses; undefined on a single node. */
  board: AdminBoard | undefined;
  /** The webhook outbox's depth; undefined when WEBHOOK_URL is unset. */
  outbox: (() => Promise<AdminOutbox>) | undefined;
  log: Logger;
}

export class AdminMonitor {
  readonly tail: PushTail;
  private readonly rates = new RateHistory(RATE_POINTS);
  private dependencies: Record<string, boolean> = {};
  private outbox: AdminOutbox | null = null;
  private others: SharedStatus[] = [];
  private readonly timer: ReturnType<typeof setInterval>;
  private sampling = false;

  constructor(private readonly deps: AdminMonitorDeps) {
    this.tail = new PushTail(TAIL_SIZE, deps.nodeId);
    this.timer = setInterval(() => void this.sample(), SAMPLE_MS);
    this.timer.unref();
    void this.sample();
    // Every node answers the lookup for its own sockets of a user.
    deps.io.on('admin:sockets', (userId, ack) => ack(this.localSockets(userId)));
  }

  /** Takes one sample of this node, and shares it with the cluster. */
  private async sample(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const { metrics, board } = this.deps;
      const [pushes, lag, dependencies] = await Promise.all([metrics.pushes.get(), metrics.deliveryLag.get(), metrics.sources.dependencies()]);
      const accepted = pushes.values.filter((v) => v.labels.result === 'accepted').reduce((sum, v) => sum + v.value, 0);
      const buckets: Buckets = lag.values
        .filter((v) => v.metricName?.endsWith('_bucket'))
        .map((v) => ({ le: v.labels.le === '+Inf' ? Infinity : Number(v.labels.le), count: v.value }));
      this.rates.sample(Date.now(), accepted, buckets);
      this.dependencies = dependencies;
      if (this.deps.outbox) this.outbox = await orAfter(this.deps.outbox(), SAMPLE_MS, this.outbox);
      if (board) {
        const shared: SharedStatus = { node: this.localNode(), tail: this.tail.list().slice(0, TAIL_SHARED) };
        await orAfter(board.write(this.deps.nodeId, JSON.stringify(shared)), SAMPLE_MS, undefined);
        this.others = await this.readOthers(board);
      }
    } catch (err) {
      this.deps.log.debug('admin sample failed', { err });
    } finally {
      this.sampling = false;
    }
  }

  /** The other live nodes' statuses from the board; stale ones are removed from it. */
  private async readOthers(board: AdminBoard): Promise<SharedStatus[]> {
    const all = await orAfter(board.read(), SAMPLE_MS, undefined);
    if (!all) return this.others;
    const now = Date.now();
    const live: SharedStatus[] = [];
    for (const [id, raw] of Object.entries(all)) {
      if (id === this.deps.nodeId) continue;
      let status: SharedStatus;
      try {
        status = JSON.parse(raw) as SharedStatus;
      } catch {
        continue;
      }
      if (now - status.node.at > NODE_STALE_MS) void board.remove(id).catch(() => undefined);
      else live.push({ node: { ...status.node, self: false }, tail: status.tail });
    }
    return live;
  }

  private localNode(): AdminNode {
    const { io, metrics, nodeId, startedAt } = this.deps;
    return {
      id: nodeId,
      self: true,
      startedAt,
      at: Date.now(),
      sockets: io.engine.clientsCount,
      users: metrics.sources.users(),
      pushesPerSecond: this.rates.latest()?.pushesPerSecond ?? 0,
      dependencies: this.dependencies,
    };
  }

  overview(): AdminOverview {
    const nodes = [this.localNode(), ...this.others.map((o) => o.node)].sort((a, b) => a.id.localeCompare(b.id));
    const tail = [...this.tail.list(), ...this.others.flatMap((o) => o.tail)].sort((a, b) => b.at - a.at).slice(0, TAIL_SIZE);
    return { now: Date.now(), nodes, rates: { sampleMs: SAMPLE_MS, points: this.rates.list() }, webhooks: this.outbox, tail };
  }

  /** This node's sockets of `userId`. */
  localSockets(userId: string): AdminSocket[] {
    const { io, nodeId } = this.deps;
    const nsp = io.of('/');
    const ids = nsp.adapter.rooms.get(roomOf(userId)) ?? new Set<string>();
    const sockets: AdminSocket[] = [];
    for (const id of ids) {
      const socket = nsp.sockets.get(id);
      if (!socket) continue;
      sockets.push({
        id: socket.id,
        node: nodeId,
        transport: socket.conn.transport.name,
        connectedAt: socket.handshake.issued,
        lastSeq: lastDeliveredOf(socket) ?? null,
        userAgent: socket.handshake.headers['user-agent'] ?? null,
      });
    }
    return sockets;
  }

  /** A user's sockets on every node, unread count and latest notifications with their receipts (without their data). */
  async user(userId: string): Promise<AdminUser> {
    const [sockets, summary, page] = await Promise.all([
      this.clusterSockets(userId),
      this.deps.inbox.summary(userId),
      this.deps.inbox.list(userId, { limit: LOOKUP_NOTIFICATIONS }),
    ]);
    const receipts = await this.deps.inbox.receiptsOf(userId, page.items.map((n) => n.seq));
    return {
      userId,
      sockets: sockets.sort((a, b) => a.connectedAt - b.connectedAt),
      unread: summary.unread,
      notifications: page.items.map(({ id, seq, entityType, createdAt, read }) => ({
        id,
        seq,
        entityType,
        createdAt,
        read,
        ...(receipts.get(seq) ?? NO_RECEIPTS),
      })),
    };
  }

  private clusterSockets(userId: string): Promise<AdminSocket[]> {
    const local = this.localSockets(userId);
    if (!this.deps.board) return Promise.resolve(local);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(local), LOOKUP_TIMEOUT_MS);
      // A node that does not answer in time is left out (its sockets are missing from the answer, not an error).
      this.deps.io.serverSideEmit('admin:sockets', userId, (_err: Error | null, responses: AdminSocket[][]) => {
        clearTimeout(timer);
        resolve([...local, ...responses.flat()]);
      });
    });
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.deps.board?.remove(this.deps.nodeId).catch(() => undefined);
  }
}
