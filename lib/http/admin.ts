import 'server-only';
import { z } from 'zod';
import type { AdminMonitor } from '../admin/monitor';
import type { AdminSessions } from '../admin/session';
import { keysEqual } from '../auth';
import { HttpError } from '../errors';
import { ErrorCodes, type AdminSession } from '../contract';
import type { TokenBucket } from '../limits';
import { describeIssues, UserIdSchema } from '../validate';
import { validParam, type ApiRequest } from './request';
import type { Route } from './router';

/**
 * The admin API behind the /admin view: sign-in (a session cookie, see
 * lib/admin/session.ts), the cluster overview the view polls, and a user
 * lookup. With ADMIN_TOKEN every route but sign-in needs the session cookie
 * (401 without); without it the routes are open in development and absent in
 * production (boot.ts leaves them out, so /api/admin/* is a 404 like any
 * unknown path).
 */

const SignInBody = z.strictObject({ token: z.string({ error: 'must be a string' }).min(1, 'must not be empty').max(1024, 'must be at most 1024 characters') });
const MAX_SIGN_IN_BODY_BYTES = 2048;

export interface AdminRouteDeps {
  /** Verifies and issues sessions; undefined: open (development without ADMIN_TOKEN). */
  sessions: AdminSessions | undefined;
  adminToken: string | undefined;
  /** Sign-in attempts on this node, all callers together: guessing stays slow. */
  signInLimit: TokenBucket;
  monitor: AdminMonitor;
}

export function adminRoutes(deps: AdminRouteDeps): Route[] {
  const { sessions, adminToken, monitor } = deps;
  /** The session's expiry; 401 unless the request carries a valid session (or admin is open). */
  const requireSession = (req: ApiRequest): number | null => {
    if (!sessions) return null;
    const expiresAt = sessions.verify(req.header('cookie'));
    if (expiresAt === undefined) throw new HttpError(401, ErrorCodes.unauthorized, 'sign in at /admin first (no valid admin session)');
    return expiresAt;
  };
  return [
    {
      method: 'POST',
      path: '/api/admin/session',
      name: 'admin-sign-in',
      handler: async (req) => {
        if (!deps.signInLimit.take()) {
          throw new HttpError(429, ErrorCodes.rateLimited, 'too many sign-in attempts; wait a moment', {
            'retry-after': String(deps.signInLimit.retryAfterSeconds()),
          });
        }
        const parsed = SignInBody.safeParse(await req.json(MAX_SIGN_IN_BODY_BYTES));
        if (!parsed.success) throw new HttpError(400, ErrorCodes.validationFailed, describeIssues(parsed.error));
        if (!sessions || adminToken === undefined) return { status: 200, body: { access: 'open', expiresAt: null } satisfies AdminSession };
        if (!keysEqual(parsed.data.token, adminToken)) throw new HttpError(401, ErrorCodes.unauthorized, 'wrong admin token');
        const { cookie, expiresAt } = sessions.issue();
        return { status: 200, body: { access: 'token', expiresAt } satisfies AdminSession, headers: { 'set-cookie': cookie } };
      },
    },
    {
      method: 'GET',
      path: '/api/admin/session',
      name: 'admin-session',
      handler: async (req) => {
        const expiresAt = requireSession(req);
        return { status: 200, body: { access: sessions ? 'token' : 'open', expiresAt } satisfies AdminSession };
      },
    },
    {
      method: 'DELETE',
      path: '/api/admin/session',
      name: 'admin-sign-out',
      handler: async () => (sessions ? { status: 204, headers: { 'set-cookie': sessions.cleared() } } : { status: 204 }),
    },
    {
      method: 'GET',
      path: '/api/admin/overview',
      name: 'admin-overview',
      handler: async (req) => {
        requireSession(req);
        return { status: 200, body: monitor.overview() };
      },
    },
    {
      method: 'GET',
      path: '/api/admin/users/:userId',
      name: 'admin-user',
      handler: async (req, params) => {
        requireSession(req);
        return { status: 200, body: await monitor.user(validParam(UserIdSchema, params.userId, 'userId')) };
      },
    },
  ];
}
