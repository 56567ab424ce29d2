import 'server-only';
import { InboxUnavailableError } from '../errors';
import type { Logger } from '../log';
import type { Inbox } from './types';

/** While writes fail, the store is probed this often with a one-row write. */
const PROBE_MS = 1_000;

/**
 * The inbox, with its writes watched for readiness. A store can answer reads
 * (and pings) while refusing every write: a full disk, a read-only file system,
 * PostgreSQL refusing writes. After a write fails for storage reasons the node
 * reports not ready, so balancers send its pushes elsewhere; it probes with a
 * one-row write every PROBE_MS, and any write that succeeds (a probe or real
 * traffic) makes it ready again.
 */
export class WatchedInbox implements Inbox {
  private failure: string | undefined;
  private probe: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly inner: Inbox,
    private readonly log: Logger,
  ) {}

  get kind(): Inbox['kind'] {
    return this.inner.kind;
  }

  get outbox(): Inbox['outbox'] {
    return this.inner.outbox;
  }

  /** Undefined while writes succeed; the last storage error while they fail. */
  writeFailure(): string | undefined {
    return this.failure;
  }

  append: Inbox['append'] = (input) => this.watch(this.inner.append(input));
  saveResponse: Inbox['saveResponse'] = (key, response) => this.watch(this.inner.saveResponse(key, response));
  markRead: Inbox['markRead'] = (userId, ids) => this.watch(this.inner.markRead(userId, ids));
  markAllRead: Inbox['markAllRead'] = (userId) => this.watch(this.inner.markAllRead(userId));
  markUnread: Inbox['markUnread'] = (userId, ids) => this.watch(this.inner.markUnread(userId, ids));
  markReceived: Inbox['markReceived'] = (userId, upTo, now) => this.watch(this.inner.markReceived(userId, upTo, now));
  markSeen: Inbox['markSeen'] = (userId, ids, now) => this.watch(this.inner.markSeen(userId, ids, now));
  collapse: Inbox['collapse'] = (input) => this.watch(this.inner.collapse(input));
  update: Inbox['update'] = (id, patch) => this.watch(this.inner.update(id, patch));
  retract: Inbox['retract'] = (id, userId) => this.watch(this.inner.retract(id, userId));
  expireDue: Inbox['expireDue'] = (now, max) => this.watch(this.inner.expireDue(now, max));
  archive: Inbox['archive'] = (userId, ids, archived) => this.watch(this.inner.archive(userId, ids, archived));
  preferences: Inbox['preferences'] = (userId) => this.inner.preferences(userId);
  setPreferences: Inbox['setPreferences'] = (userId, prefs) => this.watch(this.inner.setPreferences(userId, prefs));
  status: Inbox['status'] = (id, opts) => this.inner.status(id, opts);
  receiptsOf: Inbox['receiptsOf'] = (userId, seqs) => this.inner.receiptsOf(userId, seqs);
  probeWrite: Inbox['probeWrite'] = () => this.watch(this.inner.probeWrite());
  since: Inbox['since'] = (userId, afterSeq, limit) => this.inner.since(userId, afterSeq, limit);
  list: Inbox['list'] = (userId, opts) => this.inner.list(userId, opts);
  summary: Inbox['summary'] = (userId) => this.inner.summary(userId);
  sweep: Inbox['sweep'] = (now) => this.inner.sweep(now);
  ping: Inbox['ping'] = () => this.inner.ping();

  backlog(): number {
    return this.inner.backlog?.() ?? 0;
  }

  async close(): Promise<void> {
    clearInterval(this.probe);
    await this.inner.close();
  }

  private async watch<T>(write: Promise<T>): Promise<T> {
    try {
      const result = await write;
      if (this.failure !== undefined) this.recovered();
      return result;
    } catch (err) {
      if (err instanceof InboxUnavailableError) this.failed(err.message);
      throw err;
    }
  }

  private failed(message: string): void {
    if (this.failure === undefined) this.log.error('inbox writes are failing: this node reports not ready until one succeeds', { error: message });
    this.failure = message;
    this.probe ??= setInterval(() => void this.inner.probeWrite().then(() => this.recovered(), () => undefined), PROBE_MS);
    this.probe.unref();
  }

  private recovered(): void {
    if (this.failure === undefined) return;
    this.failure = undefined;
    clearInterval(this.probe);
    this.probe = undefined;
    this.log.warn('inbox writes succeed again: this node reports ready');
  }
}
