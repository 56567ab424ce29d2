import 'server-only';
import { z } from 'zod';
import { HttpError } from '../errors';
import { ErrorCodes, MAX_STATUS_PAGE } from '../contract';
import type { Inbox } from '../inbox/types';
import { describeIssues, NotificationIdSchema, UserIdSchema } from '../validate';
import { requirePushKey } from './push';
import { validParam } from './request';
import type { Route } from './router';

/** What the status route needs. */
export interface StatusRouteDeps {
  inbox: Pick<Inbox, 'status'>;
  pushApiKey: string | undefined;
}

const StatusQuerySchema = z.strictObject({
  after: UserIdSchema.optional(),
  limit: z.number().int().min(1).max(MAX_STATUS_PAGE).optional(),
});

/**
 * `GET /api/notifications/:id` (push key): the notification and, per recipient
 * in user-id order, `{userId, deliveredAt, seenAt, readAt}`; past MAX_STATUS_PAGE
 * recipients, `nextCursor` is passed back as `?after=` for the next page.
 */
export function statusRoutes(deps: StatusRouteDeps): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/notifications/:id',
      name: 'notification-status',
      handler: async (req, params) => {
        requirePushKey(req.header('authorization'), deps.pushApiKey);
        const id = validParam(NotificationIdSchema, params.id, 'id');
        const limit = req.query.get('limit');
        const query = StatusQuerySchema.safeParse({
          ...(req.query.has('after') ? { after: req.query.get('after') } : {}),
          ...(limit !== null ? { limit: /^\d{1,6}$/.test(limit) ? Number(limit) : NaN } : {}),
        });
        if (!query.success) throw new HttpError(400, ErrorCodes.validationFailed, describeIssues(query.error));
        const status = await deps.inbox.status(id, { after: query.data.after, limit: query.data.limit ?? MAX_STATUS_PAGE });
        if (!status) throw new HttpError(404, ErrorCodes.notFound, `no notification with id ${id}`);
        return { status: 200, body: status };
      },
    },
  ];
}
