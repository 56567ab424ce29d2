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
import { readJsonBody } from './body';
import { json } from './respond';

/** The push-API key check shared by every backend-facing route. */
export function requirePushKey(request: Request, runtime: HeraldRuntime): void {
  if (!checkPushKey(request.headers.get('authorization'), runtime.config.pushApiKey)) {
    throw new HttpError(401, ErrorCodes.unauthorized, 'missing or wrong push-API key (Authorization: Bearer <key>)', {
      'www-authenticate': 'Bearer realm="herald-push"',
    });
  }
}

/** POST /api/push: validate, store, fan out; 202 once stored. */
export async function handlePush(request: Request, { runtime }: { runtime: HeraldRuntime }): Promise<Response> {
  requirePushKey(request, runtime);
  const key = request.headers.get('idempotency-key') ?? undefined;
  if (key !== undefined && !NotificationIdSchema.safeParse(key).success) {
    throw new HttpError(400, ErrorCodes.validationFailed, 'Idempotency-Key: 1..128 characters of letters, digits and . _ : ~ -');
  }
  const { value } = await readJsonBody(request, MAX_PUSH_BODY_BYTES);
  const parsed = PushBodySchema.safeParse(value);
  if (!parsed.success) throw new HttpError(400, ErrorCodes.validationFailed, describeIssues(parsed.error));
  const result = await runtime.push.push(toPushRequest(parsed.data), { idempotencyKey: key });
  return json(202, result.body, result.replayed ? { 'idempotent-replayed': 'true' } : {});
}
