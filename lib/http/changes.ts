import 'server-only';
import { HttpError } from '../errors';
import { ErrorCodes, MAX_PUSH_BODY_BYTES } from '../contract';
import type { ChangeService } from '../changes';
import type { Inbox } from '../inbox/types';
import { describeIssues, NotificationIdSchema, NotificationPatchSchema, PreferencesSchema, UserIdSchema } from '../validate';
import { requirePushKey } from './push';
import { validParam } from './request';
import type { Route } from './router';

/** What the routes that change notifications and preferences need. */
export interface ChangeRouteDeps {
  changes: Pick<ChangeService, 'update' | 'retract'>;
  inbox: Pick<Inbox, 'preferences' | 'setPreferences'>;
  /** Tells every tab of the user of new preferences. */
  preferencesChanged(userId: string, prefs: { mutedTypes: string[] }): void;
  pushApiKey: string | undefined;
}

/**
 * The backend's changes to what users already hold (push key):
 * - `PATCH /api/notifications/:id` `{data?, entityType?}`: new content for every recipient;
 * - `DELETE /api/notifications/:id[?userId=]`: retract, from everyone or one user;
 * - `GET`/`PUT /api/users/:id/preferences` `{mutedTypes}`: read or replace a user's preferences.
 * Each answers 404 for an id no one holds.
 */
export function changeRoutes(deps: ChangeRouteDeps): Route[] {
  return [
    {
      method: 'PATCH',
      path: '/api/notifications/:id',
      name: 'notification-update',
      handler: async (req, params) => {
        requirePushKey(req.header('authorization'), deps.pushApiKey);
        const id = idOf(params.id);
        const patch = NotificationPatchSchema.safeParse(await req.json(MAX_PUSH_BODY_BYTES));
        if (!patch.success) throw new HttpError(400, ErrorCodes.validationFailed, describeIssues(patch.error));
        const changed = await deps.changes.update(id, patch.data);
        if (!changed) throw new HttpError(404, ErrorCodes.notFound, `no notification with id ${id}`);
        return { status: 200, body: changed };
      },
    },
    {
      method: 'DELETE',
      path: '/api/notifications/:id',
      name: 'notification-retract',
      handler: async (req, params) => {
        requirePushKey(req.header('authorization'), deps.pushApiKey);
        const id = idOf(params.id);
        const extra = [...req.query.keys()].find((k) => k !== 'userId');
        if (extra !== undefined) throw new HttpError(400, ErrorCodes.validationFailed, `unknown query parameter: ${extra}`);
        const userId = req.query.has('userId') ? validParam(UserIdSchema, req.query.get('userId'), 'userId') : undefined;
        const changed = await deps.changes.retract(id, userId);
        if (!changed) {
          throw new HttpError(404, ErrorCodes.notFound, userId === undefined ? `no one holds notification ${id}` : `user ${userId} does not hold notification ${id}`);
        }
        return { status: 200, body: changed };
      },
    },
    {
      method: 'GET',
      path: '/api/users/:id/preferences',
      name: 'preferences-get',
      handler: async (req, params) => {
        requirePushKey(req.header('authorization'), deps.pushApiKey);
        return { status: 200, body: await deps.inbox.preferences(userIdOf(params.id)) };
      },
    },
    {
      method: 'PUT',
      path: '/api/users/:id/preferences',
      name: 'preferences-put',
      handler: async (req, params) => {
        requirePushKey(req.header('authorization'), deps.pushApiKey);
        const userId = userIdOf(params.id);
        const prefs = PreferencesSchema.safeParse(await req.json(MAX_PUSH_BODY_BYTES));
        if (!prefs.success) throw new HttpError(400, ErrorCodes.validationFailed, describeIssues(prefs.error));
        const stored = await deps.inbox.setPreferences(userId, { mutedTypes: [...new Set(prefs.data.mutedTypes)] });
        deps.preferencesChanged(userId, stored);
        return { status: 200, body: stored };
      },
    },
  ];
}

const idOf = (raw: string | undefined): string => validParam(NotificationIdSchema, raw, 'id');
const userIdOf = (raw: string | undefined): string => validParam(UserIdSchema, raw, 'user id');
