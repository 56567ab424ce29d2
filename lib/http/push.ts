import 'server-only';
import { checkPushKey } from '../auth';
import { HttpError } from '../errors';
import { ErrorCodes, MAX_PUSH_BODY_BYTES } from '../contract';
import type { ReplayMemory, TokenBucket } from '../limits';
import type { PushService } from '../push';
import { describeIssues, NotificationIdSchema, parsePushBody, toPushRequest } from '../validate';
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
  return [{ method: 'POST', path: '/api/push', name: 'push', handler: (req) => acceptPush(req, deps) }];
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
  const key = deps.pushApiKey;
  const timestamp = request.header(TIMESTAMP_HEADER);
  const signature = request.header(SIGNATURE_HEADER);
  const signed = key !== undefined && (timestamp !== null || signature !== null);
  let signedAt = 0;
  if (signed) {
    signedAt = checkSignatureHeaders(timestamp, signature, Math.floor(Date.now() / 1000));
  } else {
    requirePushKey(request.header('authorization'), key);
    takeRateToken(deps);
  }

  checkJsonBodyHeaders((name) => request.header(name), MAX_PUSH_BODY_BYTES);
  const raw = decodeUtf8(await request.body(MAX_PUSH_BODY_BYTES));
  if (signed && key !== undefined && timestamp !== null && signature !== null) {
    verifySignature(key, timestamp, signature, raw);
    takeRateToken(deps);
    await claimSignature(deps, signature.toLowerCase(), signedAt);
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

/** One push from the key's budget; 429 with Retry-After when it is spent. */
function takeRateToken(deps: PushRouteDeps): void {
  if (!deps.limiter || deps.limiter.take()) return;
  throw new HttpError(429, ErrorCodes.rateLimited, `over ${deps.pushPerSecond} pushes per second for this key`, {
    'retry-after': String(deps.limiter.retryAfterSeconds()),
  });
}
