import 'server-only';
import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The admin session: a cookie holding `<expiry>.<HMAC>` signed with a key
 * derived from ADMIN_TOKEN. Stateless, so any node of a cluster accepts a
 * session another node issued, and changing ADMIN_TOKEN ends every session.
 * The cookie is HttpOnly (scripts never see it), SameSite=Strict (no other
 * site can send it, which with the JSON-only sign-in is the CSRF defence) and
 * Secure in production.
 */

export const ADMIN_COOKIE = 'herald_admin';
/** A session lasts this long; then the operator signs in again. */
export const ADMIN_SESSION_SECONDS = 12 * 60 * 60;

export class AdminSessions {
  private readonly key: Buffer;

  constructor(
    adminToken: string,
    private readonly secure: boolean,
    private readonly now: () => number = Date.now,
  ) {
    // A key of its own: the token itself never signs anything that leaves the server.
    this.key = createHmac('sha256', adminToken).update('herald-admin-session-v1').digest();
  }

  /** A fresh session: the Set-Cookie value, and when it expires (ms since the epoch). */
  issue(): { cookie: string; expiresAt: number } {
    const expiresAt = this.now() + ADMIN_SESSION_SECONDS * 1000;
    const value = `${expiresAt}.${this.sign(String(expiresAt))}`;
    return { cookie: this.cookie(value, ADMIN_SESSION_SECONDS), expiresAt };
  }

  /** The Set-Cookie value that ends the session in the browser. */
  cleared(): string {
    return this.cookie('', 0);
  }

  /** The session's expiry (ms) when the request's Cookie header holds a valid, unexpired one; else undefined. */
  verify(cookieHeader: string | null): number | undefined {
    const value = cookieValue(cookieHeader, ADMIN_COOKIE);
    const match = value === undefined ? null : /^(\d{13,16})\.([A-Za-z0-9_-]{43})$/.exec(value);
    if (!match) return undefined;
    const [, exp = '', sig = ''] = match;
    const expected = Buffer.from(this.sign(exp));
    if (!timingSafeEqual(Buffer.from(sig), expected)) return undefined;
    const expiresAt = Number(exp);
    return expiresAt > this.now() ? expiresAt : undefined;
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(`admin.${payload}`).digest('base64url');
  }

  private cookie(value: string, maxAgeSeconds: number): string {
    return `${ADMIN_COOKIE}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${this.secure ? '; Secure' : ''}`;
  }
}

/** One cookie's value from a Cookie header (the first of that name). */
export function cookieValue(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/;\s*/)) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
