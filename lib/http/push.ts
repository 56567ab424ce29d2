import { checkPushKey } from '../auth';
import { HttpError } from '../errors';
import {
  describeIssues,
  ErrorCodes,
  MAX_PUSH_BODY_BYTES,
  NotificationIdSchema,
  PushBodySchema,
  toPushRequest,
} from '../protocol';
import type { HeraldRuntime } from '../runtime';
import { parseJson, readBodyText } from './body';
import { json } from './respond';
import { checkSignatureHeaders, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature } from './signature';

/** The push-API key check shared by every backend-facing route. */
export function requirePushKey(request: Request, runtime: HeraldRuntime): void {
  if (!checkPushKey(request.headers.get('authorization'), runtime.config.pushApiKey)) {
    throw new HttpError(401, ErrorCodes.unauthorized, 'missing or wrong push-API key (Authorization: Bearer <key>)', {
      'www-authenticate': 'Bearer realm="herald-push"',
    });
  }
}

/**
 * POST /api/push: authenticate (bearer key or signed request), rate-limit,
 * validate, store, fan out; 202 once stored.
 *
 * The rate limit counts authenticated requests only: anyone could otherwise
 * spend the backend's budget with well-formed headers and a made-up signature.
 * A signed request is therefore verified over its raw bytes before the limit is
 * taken and before the JSON is parsed, and its signature is remembered (replay
 * refusal) only once the limit let it through, so a 429 can be retried as sent.
 */
export async function handlePush(request: Request, { runtime }: { runtime: HeraldRuntime }): Promise<Response> {
  const key = runtime.config.pushApiKey;
  const timestamp = request.headers.get(TIMESTAMP_HEADER);
  const signature = request.headers.get(SIGNATURE_HEADER);
  const signed = key !== undefined && (timestamp !== null || signature !== null);
  if (signed) {
    checkSignatureHeaders(timestamp, signature, Math.floor(Date.now() / 1000));
  } else {
    requirePushKey(request, runtime);
    takeRateToken(runtime);
  }

  const raw = await readBodyText(request, MAX_PUSH_BODY_BYTES);
  if (signed && key !== undefined && timestamp !== null && signature !== null) {
    verifySignature(key, timestamp, signature, raw);
    takeRateToken(runtime);
    // The same signed bytes twice inside the window is a replay, not a retry: a
    // retry that wants "at most once" sends an Idempotency-Key or id instead.
    if (!runtime.seenSignatures.add(signature.toLowerCase())) {
      throw new HttpError(401, ErrorCodes.signatureReplayed, 'this signed request was already received', {
        'www-authenticate': 'HeraldSignature',
      });
    }
  }

  const idempotencyKey = request.headers.get('idempotency-key') ?? undefined;
  if (idempotencyKey !== undefined && !NotificationIdSchema.safeParse(idempotencyKey).success) {
    throw new HttpError(400, ErrorCodes.validationFailed, 'Idempotency-Key: 1..128 characters of letters, digits and . _ : ~ -');
  }
  const parsed = PushBodySchema.safeParse(parseJson(raw));
  if (!parsed.success) throw new HttpError(400, ErrorCodes.validationFailed, describeIssues(parsed.error));
  const result = await runtime.push.push(toPushRequest(parsed.data), { idempotencyKey });
  return json(202, result.body, result.replayed ? { 'idempotent-replayed': 'true' } : {});
}

/** One push from the key's budget; 429 with Retry-After when it is spent. */
function takeRateToken(runtime: HeraldRuntime): void {
  if (!runtime.pushLimiter || runtime.pushLimiter.take()) return;
  throw new HttpError(429, ErrorCodes.rateLimited, `over ${runtime.config.limits.pushPerSecond} pushes per second for this key`, {
    'retry-after': String(runtime.pushLimiter.retryAfterSeconds()),
  });
}
