import 'server-only';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Herald's Prometheus metrics (prom-client), one registry per server. Every
 * label has a small, fixed set of values: routes, result classes, codes,
 * reasons; never a user id or a notification id.
 *
 * Delivery is counted per fan-out, not per socket: a push to 5,000 sockets
 * adds 5,000 to `herald_deliveries_total` in one increment and one observation
 * of the lag, so metrics cost the delivery path a few operations per push.
 */
/** Where the gauges read their values at each scrape; the services that know them set these. */
export interface MetricSources {
  sockets(): number;
  users(): number;
  queuedBytes(): number;
  /** Whether each dependency answers now (bounded: a scrape must not hang on a frozen one). */
  dependencies(): Promise<Record<string, boolean>>;
  /** The webhook outbox's events not batched yet, batches pending, and batches failed (none without webhooks). */
  outbox(): Promise<{ events: number; pending: number; failed: number }>;
}

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const sources: MetricSources = {
    sockets: () => 0,
    users: () => 0,
    queuedBytes: () => 0,
    dependencies: async () => ({}),
    outbox: async () => ({ events: 0, pending: 0, failed: 0 }),
  };
  return {
    registry,
    sources,
    pushes: new Counter({
      name: 'herald_pushes_total',
      help: 'Push requests answered, by result (accepted, replayed, refused, failed) and HTTP status.',
      labelNames: ['result', 'status'] as const,
      registers,
    }),
    pushDuration: new Histogram({
      name: 'herald_push_duration_seconds',
      help: 'From a push request received to its answer (a 202 means stored and fanned out).',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    httpRequests: new Counter({
      name: 'herald_http_requests_total',
      help: 'API requests answered, by route and HTTP status.',
      labelNames: ['route', 'status'] as const,
      registers,
    }),
    rateLimited: new Counter({
      name: 'herald_rate_limited_total',
      help: 'Refusals for a rate: push (per key), handshake (per user or address), events (per socket), signatures (replay memory full).',
      labelNames: ['limit'] as const,
      registers,
    }),
    deliveries: new Counter({
      name: 'herald_deliveries_total',
      help: 'Notifications written to sockets, live or replayed in a catch-up.',
      labelNames: ['path'] as const,
      registers,
    }),
    deliveryLag: new Histogram({
      name: 'herald_delivery_lag_seconds',
      help: 'From a notification’s createdAt to its live frame written to the sockets of this node (once per fan-out).',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    sockets: new Gauge({
      name: 'herald_sockets',
      help: 'Sockets connected to this node.',
      registers,
      collect() {
        this.set(sources.sockets());
      },
    }),
    users: new Gauge({
      name: 'herald_users',
      help: 'Users with at least one socket on this node.',
      registers,
      collect() {
        this.set(sources.users());
      },
    }),
    connects: new Counter({ name: 'herald_connects_total', help: 'Sockets admitted.', registers }),
    disconnects: new Counter({
      name: 'herald_disconnects_total',
      help: 'Sockets gone, by socket.io’s reason.',
      labelNames: ['reason'] as const,
      registers,
    }),
    refused: new Counter({
      name: 'herald_connections_refused_total',
      help: 'Connections refused at the handshake, by code.',
      labelNames: ['code'] as const,
      registers,
    }),
    slowConsumers: new Counter({
      name: 'herald_slow_consumer_cuts_total',
      help: 'Sockets cut off for unread bytes: over their own cap (socket) or the process-wide one (process).',
      labelNames: ['cap'] as const,
      registers,
    }),
    queuedBytes: new Gauge({
      name: 'herald_outbound_queued_bytes',
      help: 'Unread bytes queued for clients at the last sweep.',
      registers,
      collect() {
        this.set(sources.queuedBytes());
      },
    }),
    inboxCommit: new Histogram({
      name: 'herald_inbox_commit_seconds',
      help: 'Time to commit a batch of appends to the inbox.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    inboxBatch: new Histogram({
      name: 'herald_inbox_batch_size',
      help: 'Appends committed together in one transaction.',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers,
    }),
    outboxDepth: new Gauge({
      name: 'herald_webhook_outbox',
      help: 'The webhook outbox: events not batched yet (events), batches waiting or retrying (pending), batches out of retries (failed).',
      labelNames: ['kind'] as const,
      registers,
      async collect() {
        const depth = await sources.outbox().catch(() => null);
        if (depth) for (const [kind, n] of Object.entries(depth)) this.set({ kind }, n);
      },
    }),
    webhookAttempts: new Counter({
      name: 'herald_webhook_attempts_total',
      help: 'Webhook deliveries attempted, by result: delivered (2xx), retry (another answer or a timeout), failed (out of retries), gone (410).',
      labelNames: ['result'] as const,
      registers,
    }),
    webhookEvents: new Counter({
      name: 'herald_webhook_events_delivered_total',
      help: 'Events in webhook batches the receiver accepted (2xx).',
      registers,
    }),
    up: new Gauge({
      name: 'herald_dependency_up',
      help: 'Whether a dependency answers: database (sqlite or postgres), redis.',
      labelNames: ['dependency'] as const,
      registers,
      async collect() {
        for (const [dependency, up] of Object.entries(await sources.dependencies())) this.set({ dependency }, up ? 1 : 0);
      },
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** The push result class of an HTTP status. */
export function pushResult(status: number, replayed: boolean): 'accepted' | 'replayed' | 'refused' | 'failed' {
  if (status >= 500) return 'failed';
  if (status >= 400) return 'refused';
  return replayed ? 'replayed' : 'accepted';
}
