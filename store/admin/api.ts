import type { AdminOverview, AdminSession, AdminUser, ErrorBody } from '@/lib/contract';

/**
 * The admin view's calls to the admin API (lib/http/admin.ts). The session is
 * an HttpOnly cookie the browser sends by itself; a 401 means it is missing or
 * expired and the view goes back to sign-in.
 */

export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new AdminApiError(0, 'network', 'The server does not answer.');
  }
  if (res.status === 204) return undefined as T;
  const parsed = (await res.json().catch(() => null)) as unknown;
  if (!res.ok) {
    const error = (parsed as Partial<ErrorBody> | null)?.error;
    throw new AdminApiError(res.status, error?.code ?? 'http_error', error?.message ?? `The server answered ${res.status}.`);
  }
  return parsed as T;
}

export const adminApi = {
  session: () => call<AdminSession>('GET', '/api/admin/session'),
  signIn: (token: string) => call<AdminSession>('POST', '/api/admin/session', { token }),
  signOut: () => call<undefined>('DELETE', '/api/admin/session'),
  overview: () => call<AdminOverview>('GET', '/api/admin/overview'),
  user: (userId: string) => call<AdminUser>('GET', `/api/admin/users/${encodeURIComponent(userId)}`),
};
