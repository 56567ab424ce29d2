import 'server-only';
import { checkPushKey } from '../auth';
import { HttpError, IdempotencyConflictError, InboxUnavailableError } from '../errors';
import { ErrorCodes, MAX_BATCH_BODY_BYTES, MAX_BATCH_RECIPIENTS, MAX_PUSH_BODY_BYTES, type ErrorBody, type PushAccepted, type PushRequest } from '../contract';
import type { ReplayMemory, TokenBucket } from '../limits';
import { pushMany, type PushService } from '../push';
import { describeIssues, NotificationIdSchema, parsePushBody, PushBatchBodySchema, toPushRequest } from '../validate';
import { checkJsonBodyHeaders, decodeUtf8, parseJson } from './body';
import type { Answer } from './respond';
import type { Route } from './router';
import { checkSignatureHeaders, SIGNATURE_HEADER, SIGNATURE_WINDOW_SECONDS, TIMESTAMP_HEADER, verifySignature } from './signature';

/** What the push route needs. */
export interface PushRouteDeps {
  /** undefined only in development: the API is then open. */
  pushApiKey: string | undefined;
  /** Pushes per second for the key (0: no limit), for the 429 message. */
  pushPerSecond: number;
  limiter: TokenBucket | undefined;
  /** Signatures of signed pushes whose timestamps are still valid, on this node. */
  replay: ReplayMemory;
  /** The cluster's shared claims (Redis), when clustered. */
  claimOnce: ((key: string, ttlMs: number) => Promise<boolean | undefined>) | undefined;
  push: PushService;
}

/** What the push handler reads of a request (ApiRequest; tests give their own). */
export interface PushRequestSource {
  /** A header by lower-case name, repeated headers joined with ", " as in the Fetch standard; null when absent. */
  header(name: string): string | null;
  /** The body's bytes; HttpError 413 past `maxBytes` (with `Connection: close` when the rest was left unread). */
  body(maxBytes: number): Promise<Uint8Array>;
}

export function pushRoutes(deps: PushRouteDeps): Route[] {
  return [
    { method: 'POST', path: '/api/push', name: 'push', handler: (req) => acceptPush(req, deps) },
    { method: 'POST', path: '/api/push/batch', name: 'push-batch', handler: (req) => acceptPushBatch(req, deps) },
  ];
}

/** The push-API key check shared by every backend-facing route: 401 without it. */
export function requirePushKey(authorization: string | null, pushApiKey: string | undefined): void {
  if (!checkPushKey(authorization, pushApiKey)) {
    throw new HttpError(401, ErrorCodes.unauthorized, 'missing or wrong push-API key (Authorization: Bearer <key>)', {
      'www-authenticate': 'Bearer realm="herald-push"',
    });
  }
}

/**
 * POST /api/push: authenticate (bearer key or signed request), rate-limit,
 * validate, store, fan out; 202 once stored. Throws HttpError (and the inbox's
 * named errors) for every refusal; the router turns them into answers.
 *
 * The rate limit counts authenticated requests only: anyone could otherwise
 * spend the backend's budget with well-formed headers and a made-up signature.
 * A signed request is therefore verified over its raw bytes before the limit is
 * taken and before the JSON is parsed, and its signature is remembered (replay
 * refusal) only once the limit let it through, so a 429 can be retried as sent.
 */
export async function acceptPush(request: PushRequestSource, deps: PushRouteDeps): Promise<Answer> {
  const signed = authenticate(request, deps);
  checkJsonBodyHeaders((name) => request.header(name), MAX_PUSH_BODY_BYTES);
  const raw = decodeUtf8(await request.body(MAX_PUSH_BODY_BYTES));
  if (signed) {
    verifySignature(signed.key, signed.timestamp, signed.signature, raw);
    takeRateToken(deps);
    await claimSignature(deps, signed.signature.toLowerCase(), signed.signedAt);
  }

  const idempotencyKey = request.header('idempotency-key') ?? undefined;
  if (idempotencyKey !== undefined && !NotificationIdSchema.safeParse(idempotencyKey).success) {
    throw new HttpError(400, ErrorCodes.validationFailed, 'Idempotency-Key: 1..128 characters of letters, digits and . _ : ~ -');
  }
  const parsed = parsePushBody(parseJson(raw));
  if (!parsed.success) throw new HttpError(400, ErrorCodes.validationFailed, describeIssues(parsed.error));
  const result = await deps.push.push(toPushRequest(parsed.data), { idempotencyKey });
  return { status: 202, body: result.body, headers: result.replayed ? { 'idempotent-replayed': 'true' } : {} };
}

/**
 * POST /api/push/batch: up to MAX_BATCH_ITEMS pushes in one request, each
 * validated, keyed by its own id and stored as if pushed alone, all handed to
 * the inbox in one turn (group commit stores them in one or two transactions:
 * the writer commits at most 512 appends at a time, so that no push waits
 * behind an unbounded one). 202 with one result per item, in order; an item
 * that is refused carries its own `{error}` and the others are stored. When the
 * store takes none of them, the answer is the 503 of a single push.
 *
 * Every item is one push of the key's budget. A key request pays one before the
 * body is read, like a single push, and the rest once the batch is counted; a
 * signed one pays all of them after its signature is verified, before the
 * signature is remembered, so a 429 can be retried as sent.
 */
export async function acceptPushBatch(request: PushRequestSource, deps: PushRouteDeps): Promise<Answer> {
  const signed = authenticate(request, deps);
  if (request.header('idempotency-key') !== null) {
    throw new HttpError(400, ErrorCodes.validationFailed, 'Idempotency-Key applies to one push: in a batch, give each notification its own `id`');
  }

  checkJsonBodyHeaders((name) => request.header(name), MAX_BATCH_BODY_BYTES);
  const raw = decodeUtf8(await request.body(MAX_BATCH_BODY_BYTES));
  if (signed) verifySignature(signed.key, signed.timestamp, signed.signature, raw);
  const envelope = PushBatchBodySchema.safeParse(parseJson(raw));
  if (!envelope.success) throw new HttpError(400, ErrorCodes.validationFailed, describeIssues(envelope.error));

  const items: Array<PushRequest | ErrorBody> = envelope.data.notifications.map((item) => {
    const parsed = parsePushBody(item);
    if (!parsed.success) return { error: { code: ErrorCodes.validationFailed, message: describeIssues(parsed.error) } };
    return toPushRequest(parsed.data);
  });
  let recipients = 0;
  for (const item of items) if (!('error' in item)) recipients += item.userIds.length;
  if (recipients > MAX_BATCH_RECIPIENTS) {
    throw new HttpError(400, ErrorCodes.validationFailed, `notifications: must name at most ${MAX_BATCH_RECIPIENTS} recipients in all, not ${recipients}`);
  }

  if (deps.limiter && items.length > deps.limiter.capacity) {
    throw new HttpError(400, ErrorCodes.validationFailed, `a batch of ${items.length} is more than this key's burst of ${deps.limiter.capacity} pushes; send smaller batches`);
  }
  takeRateToken(deps, signed ? items.length : items.length - 1);
  if (signed) await claimSignature(deps, signed.signature.toLowerCase(), signed.signedAt);

  const valid = items.filter((item): item is PushRequest => !('error' in item));
  const outcomes = await pushMany(deps.push, valid);
  let next = 0;
  let unavailable: InboxUnavailableError | undefined;
  const results: Array<PushAccepted | ErrorBody> = items.map((item) => {
    if ('error' in item) return item;
    const outcome = outcomes[next++] as PromiseSettledResult<{ body: PushAccepted }>;
    if (outcome.status === 'fulfilled') return outcome.value.body;
    const err = outcome.reason as unknown;
    if (err instanceof IdempotencyConflictError) return { error: { code: ErrorCodes.idempotencyConflict, message: err.message } };
    if (err instanceof InboxUnavailableError) {
      unavailable = err;
      return { error: { code: ErrorCodes.unavailable, message: 'storage is unavailable; this notification was not accepted' } };
    }
    throw err;
  });
  if (unavailable !== undefined && outcomes.every((o) => o.status === 'rejected')) throw unavailable;
  return { status: 202, body: { results } };
}

/** A signed request's headers, in form and inside the window; the HMAC over the body is checked once the body is read. */
interface SignedHeaders {
  key: string;
  timestamp: string;
  signature: string;
  signedAt: number;
}

/**
 * What can be checked before the body is read: a signed request's headers
 * (returned), or else the key, which then pays one push of its budget.
 */
function authenticate(request: PushRequestSource, deps: PushRouteDeps): SignedHeaders | undefined {
  const key = deps.pushApiKey;
  const timestamp = request.header(TIMESTAMP_HEADER);
  const signature = request.header(SIGNATURE_HEADER);
  if (key !== undefined && (timestamp !== null || signature !== null)) {
    const signedAt = checkSignatureHeaders(timestamp, signature, Math.floor(Date.now() / 1000));
    // checkSignatureHeaders refuses a request without both headers.
    return { key, timestamp: timestamp as string, signature: signature as string, signedAt };
  }
  requirePushKey(request.header('authorization'), key);
  takeRateToken(deps);
  return undefined;
}

const replayed = () =>
  new HttpError(401, ErrorCodes.signatureReplayed, 'this signed request was already received', { 'www-authenticate': 'HeraldSignature' });

/**
 * The same signed bytes twice inside the window is a replay, not a retry: a
 * retry that wants "at most once" sends an Idempotency-Key or id instead. This
 * node's memory first, which never forgets a signature while its timestamp is
 * valid (when full it refuses new ones with 429); then, clustered, the whole
 * cluster's (Redis), so the same bytes sent to another node are a replay too.
 * While Redis cannot answer, each node decides alone (docs/SECURITY.md).
 */
async function claimSignature(deps: PushRouteDeps, signature: string, signedAt: number): Promise<void> {
  const local = deps.replay.claim(signature, signedAt);
  if (local.status === 'replay') throw replayed();
  if (local.status === 'full') {
    throw new HttpError(429, ErrorCodes.rateLimited, 'too many signed requests inside the replay window; retry later or send the key', {
      'retry-after': String(local.retryAfterSeconds),
    });
  }
  const ttlMs = (signedAt + SIGNATURE_WINDOW_SECONDS + 1) * 1000 - Date.now();
  if ((await deps.claimOnce?.(`sig:${signature}`, Math.max(1_000, ttlMs))) === false) throw replayed();
}

/** `count` pushes from the key's budget; 429 with Retry-After when it is spent. */
function takeRateToken(deps: PushRouteDeps, count = 1): void {
  if (!deps.limiter || count <= 0 || deps.limiter.take(count)) return;
  throw new HttpError(429, ErrorCodes.rateLimited, `over ${deps.pushPerSecond} pushes per second for this key`, {
    'retry-after': String(deps.limiter.retryAfterSeconds(count)),
  });
}
