import 'server-only';
import { Webhook } from 'standardwebhooks';
import type { BatchOutcome, ClaimedBatch, WebhookOutbox } from '../inbox/types';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';

/**
 * The delay before each retry after a failed attempt: the Standard Webhooks /
 * Svix schedule, 27 h 35 m in all. Each is stretched or shrunk by up to
 * RETRY_JITTER, so batches that failed together do not come back together.
 */
export const RETRY_SCHEDULE_MS: readonly number[] = [5_000, 5 * 60_000, 30 * 60_000, 2 * 3_600_000, 5 * 3_600_000, 10 * 3_600_000, 10 * 3_600_000];
const RETRY_JITTER = 0.2;
/** One attempt waits this long for the receiver's answer, then counts as failed. */
export const ATTEMPT_TIMEOUT_MS = 10_000;
/** A claimed batch is this node's for this long: past it (a dead node), another node takes it. */
const LEASE_MS = 60_000;
/** How often the outbox is looked at: events are batched and sent well inside a second. */
const TICK_MS = 250;
/** Batches sent at once by one node. */
const MAX_IN_FLIGHT = 4;
/** Escalations fired per step; a step that fires this many is followed by another at once. */
const ESCALATIONS_PER_STEP = 500;
/** Steps of escalation per tick at most, so a large backlog does not hold sending up. */
const MAX_ESCALATION_STEPS = 20;

export interface DispatcherOptions {
  outbox: WebhookOutbox;
  url: string;
  /** `whsec_…`. */
  secret: string;
  /** This node's name, as the lease owner. */
  owner: string;
  log: Logger;
  metrics: Metrics;
  /** 1, or (tests only) the factor applied to the tick, the retry schedule and the lease. */
  timeScale: number;
}

/**
 * Sends the webhook outbox to WEBHOOK_URL: every TICK_MS it fires escalations
 * that are due, then claims due batches and POSTs each, signed per Standard
 * Webhooks (webhook-id, webhook-timestamp, webhook-signature), with the same id
 * and body on every attempt. A 2xx is done; a 410 marks the batch failed and
 * stops all sending until `resume()` (POST /api/webhooks/retry) or a restart;
 * anything else, or no answer within ATTEMPT_TIMEOUT_MS, is retried on
 * RETRY_SCHEDULE_MS, then kept as failed. Nothing here is on the push path:
 * a slow receiver only slows this loop.
 */
export class WebhookDispatcher {
  private readonly signer: Webhook;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** The receiver answered 410: send nothing until resumed. */
  private gone = false;
  /** Aborted by stop(): a shutdown does not wait out a slow receiver (the batch is retried after the restart). */
  private readonly aborter = new AbortController();

  constructor(private readonly opts: DispatcherOptions) {
    this.signer = new Webhook(opts.secret);
  }

  start(): void {
    this.schedule();
  }

  /** After POST /api/webhooks/retry: failed batches are due again, and a 410 no longer stops sending. */
  async resume(): Promise<number> {
    this.gone = false;
    return this.opts.outbox.retryFailed(Date.now());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.aborter.abort();
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .catch((err: unknown) => this.opts.log.warn('webhook outbox step failed', { err }))
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, Math.max(10, TICK_MS * this.opts.timeScale));
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const { outbox } = this.opts;
    for (let i = 0; i < MAX_ESCALATION_STEPS; i++) {
      if ((await outbox.escalateDue(Date.now(), ESCALATIONS_PER_STEP)) < ESCALATIONS_PER_STEP) break;
    }
    if (this.gone) return;
    const leaseMs = Math.max(ATTEMPT_TIMEOUT_MS * 2, LEASE_MS * this.opts.timeScale);
    const batches = await outbox.claim({ now: Date.now(), leaseMs, owner: this.opts.owner, max: MAX_IN_FLIGHT });
    await Promise.all(batches.map((b) => this.send(b)));
  }

  private async send(batch: ClaimedBatch): Promise<void> {
    const { outbox, owner, metrics, log } = this.opts;
    const outcome = await this.attempt(batch);
    if (outcome.kind === 'done') {
      metrics.webhookAttempts.inc({ result: 'delivered' });
      metrics.webhookEvents.inc(batch.events);
    } else if (outcome.kind === 'failed' && outcome.error.startsWith('HTTP 410')) {
      metrics.webhookAttempts.inc({ result: 'gone' });
      if (!this.gone) log.error('webhook receiver answered 410 Gone: sending stops until POST /api/webhooks/retry or a restart', { url: this.opts.url });
      this.gone = true;
    } else {
      metrics.webhookAttempts.inc({ result: outcome.kind });
      if (outcome.kind === 'failed') log.error('webhook batch out of retries: kept as failed', { id: batch.id, error: outcome.error });
    }
    await outbox.settle(batch.id, owner, outcome);
  }

  /** One signed POST of the batch; what it comes to. */
  private async attempt(batch: ClaimedBatch): Promise<BatchOutcome> {
    const now = new Date();
    let error: string;
    try {
      const res = await fetch(this.opts.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': batch.id,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': this.signer.sign(batch.id, now, batch.body),
          'user-agent': 'Herald-Webhooks/1',
        },
        body: batch.body,
        signal: AbortSignal.any([AbortSignal.timeout(ATTEMPT_TIMEOUT_MS), this.aborter.signal]),
        redirect: 'manual',
      });
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return { kind: 'done' };
      if (res.status === 410) return { kind: 'failed', error: 'HTTP 410 Gone' };
      error = `HTTP ${res.status}`;
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    const delay = RETRY_SCHEDULE_MS[batch.attempts];
    if (delay === undefined) return { kind: 'failed', error };
    const jitter = 1 + (Math.random() * 2 - 1) * RETRY_JITTER;
    return { kind: 'retry', nextAt: Date.now() + Math.round(delay * jitter * this.opts.timeScale), error };
  }
}
