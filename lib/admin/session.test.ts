import { describe, expect, it } from 'vitest';
import { ADMIN_SESSION_SECONDS, AdminSessions, cookieValue } from './session';

const TOKEN = 'admin-token-0123456789abcdef';
const pair = (cookie: string) => cookie.split(';')[0] as string;

describe('AdminSessions', () => {
  it('issues a cookie it accepts until it expires, with HttpOnly, SameSite=Strict and Secure when asked', () => {
    let now = 1_800_000_000_000;
    const sessions = new AdminSessions(TOKEN, true, () => now);
    const { cookie, expiresAt } = sessions.issue();
    expect(expiresAt).toBe(now + ADMIN_SESSION_SECONDS * 1000);
    expect(cookie).toMatch(/^herald_admin=\d+\.[\w-]{43}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict; Secure$/);
    expect(sessions.verify(`other=1; ${pair(cookie)}`)).toBe(expiresAt);
    now = expiresAt;
    expect(sessions.verify(pair(cookie))).toBeUndefined();
  });

  it('leaves Secure off outside production, and clears the cookie on sign-out', () => {
    const sessions = new AdminSessions(TOKEN, false);
    expect(sessions.issue().cookie).not.toContain('Secure');
    expect(sessions.cleared()).toBe('herald_admin=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict');
  });

  it('refuses a cookie signed under another token, a moved expiry and malformed values', () => {
    const sessions = new AdminSessions(TOKEN, true);
    const issued = pair(new AdminSessions('another-admin-token-0123', true).issue().cookie);
    expect(sessions.verify(issued)).toBeUndefined();
    const [exp = '', sig = ''] = (cookieValue(pair(sessions.issue().cookie), 'herald_admin') ?? '').split('.');
    expect(sessions.verify(`herald_admin=${Number(exp) + 1}.${sig}`)).toBeUndefined();
    for (const header of [null, '', 'herald_admin=', 'herald_admin=abc.def', `herald_admin=${exp}`]) expect(sessions.verify(header)).toBeUndefined();
  });
});
