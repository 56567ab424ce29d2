import 'server-only';
import { randomUUID } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { signUserToken } from '../auth';
import type { ErrorBody, ErrorCode, PushAccepted, PushBatchAccepted, PushRequest } from '../contract';
import { SIGNATURE_HEADER, signBody, TIMESTAMP_HEADER } from '../http/signature';

/**
 * `herald/server`: Herald for Node backends. `createHerald()` pushes, one at a
 * time or in batches (with the key as a bearer, or signed), retrying what may
 * succeed later with the same ids; `signRequest()`
 * signs any body as Herald verifies it; `mintUserToken()` makes the token a
 * browser connects with; `verifyWebhook()` checks a webhook Herald sent.
 *
 * Signing and tokens are Herald's own code (lib/http/signature.ts,
 * lib/auth.ts), bundled in, so the SDK and the server cannot disagree (and
 * `server-only` is the empty lib/server-only.ts there).
 */

export type { ErrorBody, ErrorCode, JsonValue, PushAccepted } from '../contract';
export { WebhookVerificationError };

/** What to push: the users, and optionally the type, the data and your own id (also the idempotency key). */
export type PushInput = Pick<PushRequest, 'userIds'> & Partial<Pick<PushRequest, 'entityType' | 'data' | 'id'>>;

export interface PushResult extends PushAccepted {
  /** True when Herald had this push already (same id or key): nothing new was delivered. */
  replayed: boolean;
  /** Attempts made, 1 when the first succeeded. */
  attempts: number;
}

export interface HeraldOptions {
  /** Herald's origin, e.g. `https://herald.example`. */
  baseUrl: string;
  /** PUSH_API_KEY. */
  pushApiKey: string;
  /** `bearer` sends the key; `signed` sends only an HMAC of each request (X-Herald-Timestamp, X-Herald-Signature). Default bearer. */
  auth?: 'bearer' | 'signed';
  /** Retries after the first attempt, for network errors, 429 and 5xx. Default 4. */
  retries?: number;
  /** The first retry's delay; each next one doubles, with jitter. Default 250 ms. */
  minDelayMs?: number;
  /** No wait is longer; a Retry-After above it ends the retries. Default 10 s. */
  maxDelayMs?: number;
  /** Each attempt is abandoned (and retried) after this. Default 10 s. */
  timeoutMs?: number;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
}

export interface PushOptions {
  /**
   * Sent as Idempotency-Key. Without it and without `input.id`, one is made
   * for this call and reused by every retry, so a retry never notifies twice.
   */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

/** A refusal from Herald (with its status and code), or the last failure once the retries are spent. */
export class HeraldError extends Error {
  override name = 'HeraldError';
  constructor(
    message: string,
    /** The HTTP status; undefined for a network error or a timeout. */
    readonly status: number | undefined,
    /** Herald's error code, when it answered one. */
    readonly code: ErrorCode | undefined,
    readonly requestId: string | undefined,
    readonly attempts: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface PushBatchResult {
  /** One per input, in order: accepted, or `{error}` for an item Herald refused on its own (not stored). */
  results: Array<PushAccepted | ErrorBody>;
  /** The id each input was sent with (yours, or one made for it): resending a refused `unavailable` item with it is safe. */
  ids: string[];
  attempts: number;
}

export interface Herald {
  /** POST /api/push; resolves on 202, retries network errors, 429 and 5xx with the same idempotency key. */
  push(input: PushInput, options?: PushOptions): Promise<PushResult>;
  /**
   * POST /api/push/batch (1..1,000 inputs); resolves on 202 with a result per
   * input. Every input without an id gets one, made once, so a retry (network
   * errors, 429, 5xx) never notifies twice.
   */
  pushBatch(inputs: readonly PushInput[], options?: Pick<PushOptions, 'signal'>): Promise<PushBatchResult>;
}

/** The headers that sign `body` for Herald: `timestamp + "." + body`, HMAC-SHA256 with the push key, in hex. */
export function signRequest(pushApiKey: string, body: string, now: Date = new Date()): Record<string, string> {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: signBody(pushApiKey, timestamp, body) };
}

/** A user token (HS256 JWT, `sub` = the user id) signed with AUTH_SECRET, as Herald's handshake verifies it. */
export function mintUserToken(authSecret: string, userId: string, options: { ttlSeconds?: number; now?: Date } = {}): Promise<string> {
  const now = options.now === undefined ? undefined : Math.floor(options.now.getTime() / 1000);
  return signUserToken(authSecret, userId, options.ttlSeconds ?? 3600, now);
}

/**
 * Verifies a webhook Herald sent (Standard Webhooks: webhook-id,
 * webhook-timestamp, webhook-signature) over the raw body, and returns the
 * parsed payload. Throws WebhookVerificationError when it does not verify or
 * is more than 5 minutes old. `secret` is the `whsec_…` signing secret.
 */
export function verifyWebhook<T = unknown>(
  rawBody: string | Buffer,
  headers: Headers | Record<string, string | string[] | undefined>,
  secret: string,
): T {
  const flat: Record<string, string> = {};
  if (headers instanceof Headers) {
    headers.forEach((value, name) => (flat[name] = value));
  } else {
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
  }
  return new Webhook(secret).verify(rawBody, flat) as T;
}

const RETRYABLE = (status: number) => status === 429 || status >= 500;

export function createHerald(options: HeraldOptions): Herald {
  const base = options.baseUrl.replace(/\/+$/, '');
  const retries = options.retries ?? 4;
  const minDelay = options.minDelayMs ?? 250;
  const maxDelay = options.maxDelayMs ?? 10_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const doFetch = options.fetch ?? fetch;

  /**
   * POSTs `body` to `path` until Herald answers 202 (the parsed answer), a
   * refusal that a retry cannot fix (thrown), or the retries are spent.
   */
  async function post<T>(
    path: string,
    body: string,
    key: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ answer: T; replayed: boolean; attempts: number }> {
    let last: HeraldError | undefined;
    let signedAt = 0;
    for (let attempt = 1; attempt <= retries + 1; attempt++) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (key !== undefined) headers['idempotency-key'] = key;
      if (options.auth === 'signed') {
        // Each attempt is signed anew in a later second than the one before: the same signed bytes
        // twice are refused as a replay, while a new signature with the same key gets the first answer.
        const wait = (signedAt + 1) * 1000 - Date.now();
        if (wait > 0) await sleep(wait, signal);
        const now = new Date();
        signedAt = Math.floor(now.getTime() / 1000);
        Object.assign(headers, signRequest(options.pushApiKey, body, now));
      } else {
        headers.authorization = `Bearer ${options.pushApiKey}`;
      }
      let retryAfterMs: number | undefined;
      try {
        const signals = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])];
        const res = await doFetch(`${base}${path}`, { method: 'POST', headers, body, signal: AbortSignal.any(signals) });
        const requestId = res.headers.get('x-request-id') ?? undefined;
        if (res.status === 202) {
          return { answer: (await res.json()) as T, replayed: res.headers.get('idempotent-replayed') === 'true', attempts: attempt };
        }
        const answer = (await res.json().catch(() => undefined)) as Partial<ErrorBody> | undefined;
        last = new HeraldError(
          answer?.error?.message ?? `Herald answered ${res.status}`,
          res.status,
          answer?.error?.code,
          requestId,
          attempt,
        );
        if (!RETRYABLE(res.status)) throw last;
        const retryAfter = Number(res.headers.get('retry-after'));
        if (Number.isFinite(retryAfter) && retryAfter >= 0 && res.headers.has('retry-after')) retryAfterMs = retryAfter * 1000;
      } catch (err) {
        if (err === last) throw err;
        if (signal?.aborted) throw signal.reason;
        last = new HeraldError(`could not reach Herald: ${(err as Error).message}`, undefined, undefined, undefined, attempt, { cause: err });
      }
      if (attempt > retries) break;
      // Exponential with full jitter, never shorter than Herald's Retry-After, never past maxDelayMs.
      const backoff = Math.min(maxDelay, minDelay * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      if (retryAfterMs !== undefined && retryAfterMs > maxDelay) break;
      await sleep(Math.max(backoff, retryAfterMs ?? 0), signal);
    }
    throw last ?? new HeraldError('push failed', undefined, undefined, undefined, retries + 1);
  }

  return {
    async push(input, pushOptions = {}) {
      // The key every attempt carries: the body's id when given, else a header made once for this call.
      const key = input.id === undefined ? (pushOptions.idempotencyKey ?? randomUUID()) : pushOptions.idempotencyKey;
      const { answer, replayed, attempts } = await post<PushAccepted>('/api/push', JSON.stringify(input), key, pushOptions.signal);
      return { ...answer, replayed, attempts };
    },
    async pushBatch(inputs, batchOptions = {}) {
      const items = inputs.map((input) => (input.id === undefined ? { ...input, id: randomUUID() } : input));
      const { answer, attempts } = await post<PushBatchAccepted>('/api/push/batch', JSON.stringify({ notifications: items }), undefined, batchOptions.signal);
      return { results: answer.results, ids: items.map((item) => item.id as string), attempts };
    },
  };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}
