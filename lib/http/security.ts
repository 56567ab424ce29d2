import 'server-only';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Security headers for everything Next serves, and a strict
 * Content-Security-Policy with a per-request nonce on every answer but static
 * assets. Next reads the nonce from the request's CSP header and puts it on its
 * own scripts, so no script runs unless this server rendered it, and
 * notification content (always rendered as text) could not run one even if it
 * were injected. Every page gets it, Next's 404 page included.
 */
export function applySecurityHeaders(req: IncomingMessage, res: ServerResponse, opts: { dev: boolean }): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (path.startsWith('/_next/static/')) return;
  const nonce = randomBytes(16).toString('base64');
  const policy = [
    "default-src 'self'",
    // 'strict-dynamic': scripts the nonced ones load are trusted; nothing else runs.
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${opts.dev ? " 'unsafe-eval'" : ''}`,
    // Next injects style tags in development; React sets style attributes.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    // 'self' covers same-origin ws:/wss: for socket.io.
    `connect-src 'self'${opts.dev ? ' ws: wss:' : ''}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  req.headers['content-security-policy'] = policy;
  res.setHeader('Content-Security-Policy', policy);
}
