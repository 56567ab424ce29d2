import { bearerOf, verifyUserToken } from '../auth';
import { AuthError, HttpError } from '../errors';
import { DEFAULT_PAGE_LIMIT, ErrorCodes } from '../contract';
import { describeIssues, ListRequestSchema, UserIdSchema } from '../validate';
import type { HeraldRuntime } from '../runtime';
import { requirePushKey } from './push';
import { json } from './respond';

type Ctx = { runtime: HeraldRuntime };

function pageParams(url: URL): { before?: number; limit: number } {
  const num = (name: string) => {
    const v = url.searchParams.get(name);
    return v === null ? undefined : /^\d{1,16}$/.test(v) ? Number(v) : NaN;
  };
  const raw = { before: num('before'), limit: num('limit') };
  const parsed = ListRequestSchema.safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
  if (!parsed.success) throw new HttpError(400, ErrorCodes.validationFailed, describeIssues(parsed.error));
  return { before: parsed.data.before, limit: parsed.data.limit ?? DEFAULT_PAGE_LIMIT };
}

/** GET /api/notifications?userId=…: a user's history, for backends (push-API key). */
export async function handleListForBackend(request: Request, { runtime }: Ctx): Promise<Response> {
  requirePushKey(request, runtime);
  const url = new URL(request.url);
  const userId = UserIdSchema.safeParse(url.searchParams.get('userId') ?? undefined);
  if (!userId.success) throw new HttpError(400, ErrorCodes.validationFailed, `userId: ${userId.error.issues[0]?.message ?? 'required'}`);
  return listFor(runtime, userId.data, pageParams(url));
}

/** GET /api/me/notifications: the caller's own history (user token as bearer). */
export async function handleListForUser(request: Request, { runtime }: Ctx): Promise<Response> {
  let userId: string;
  try {
    userId = verifyUserToken(runtime.config.authSecret, bearerOf(request.headers.get('authorization'))).userId;
  } catch (err) {
    const code = err instanceof AuthError ? err.code : ErrorCodes.unauthorized;
    throw new HttpError(401, code, err instanceof Error ? err.message : 'unauthorized', { 'www-authenticate': 'Bearer' });
  }
  return listFor(runtime, userId, pageParams(new URL(request.url)));
}

async function listFor(runtime: HeraldRuntime, userId: string, page: { before?: number; limit: number }) {
  const [list, summary] = await Promise.all([runtime.inbox.list(userId, page), runtime.inbox.summary(userId)]);
  return json(200, { ...list, unread: summary.unread });
}
