import 'server-only';
import { bearerOf, verifyUserToken } from '../auth';
import { AuthError, HttpError } from '../errors';
import { DEFAULT_PAGE_LIMIT, ErrorCodes } from '../contract';
import type { Inbox } from '../inbox/types';
import { describeIssues, ListRequestSchema, UserIdSchema } from '../validate';
import { requirePushKey } from './push';
import { validParam, type ApiRequest } from './request';
import type { Answer } from './respond';
import type { Route } from './router';

/** What the history routes need. */
export interface HistoryRouteDeps {
  inbox: Pick<Inbox, 'list' | 'summary'>;
  pushApiKey: string | undefined;
  authSecret: string;
}

/**
 * A user's history, newest first, with the unread count: for backends
 * (`GET /api/notifications?userId=…`, push key) and for the token holder
 * (`GET /api/me/notifications`, user token as bearer).
 */
export function historyRoutes(deps: HistoryRouteDeps): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/notifications',
      name: 'notifications',
      handler: async (req) => {
        requirePushKey(req.header('authorization'), deps.pushApiKey);
        return listFor(deps, validParam(UserIdSchema, req.query.get('userId') ?? undefined, 'userId'), pageOf(req));
      },
    },
    {
      method: 'GET',
      path: '/api/me/notifications',
      name: 'me-notifications',
      handler: async (req) => {
        let userId: string;
        try {
          userId = verifyUserToken(deps.authSecret, bearerOf(req.header('authorization'))).userId;
        } catch (err) {
          const code = err instanceof AuthError ? err.code : ErrorCodes.unauthorized;
          throw new HttpError(401, code, err instanceof Error ? err.message : 'unauthorized', { 'www-authenticate': 'Bearer' });
        }
        return listFor(deps, userId, pageOf(req));
      },
    },
  ];
}

function pageOf(req: ApiRequest): { before?: number; limit: number } {
  const query = req.query;
  const num = (name: string) => {
    const v = query.get(name);
    return v === null ? undefined : /^\d{1,16}$/.test(v) ? Number(v) : NaN;
  };
  const raw = { before: num('before'), limit: num('limit') };
  const parsed = ListRequestSchema.safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
  if (!parsed.success) throw new HttpError(400, ErrorCodes.validationFailed, describeIssues(parsed.error));
  return { before: parsed.data.before, limit: parsed.data.limit ?? DEFAULT_PAGE_LIMIT };
}

async function listFor(deps: HistoryRouteDeps, userId: string, page: { before?: number; limit: number }): Promise<Answer> {
  const [list, summary] = await Promise.all([deps.inbox.list(userId, page), deps.inbox.summary(userId)]);
  return { status: 200, body: { ...list, unread: summary.unread } };
}
