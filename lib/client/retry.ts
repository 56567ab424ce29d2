/**
 * How the browser client answers a refused handshake or a socket the server cut.
 * Pure functions: lib/client/socket.ts schedules the retries.
 */

/** Codes after which a retry needs a new token, not just a new attempt. */
export const TOKEN_REFUSALS: ReadonlySet<string> = new Set(['unauthorized', 'token_expired']);

/** Codes that say "not now": the same token is tried again after a backoff. */
export const TRANSIENT_REFUSALS: ReadonlySet<string> = new Set(['rate_limited', 'slow_consumer']);

export type RefusalKind = 'token' | 'transient' | 'final';

export function refusalKind(code: string): RefusalKind {
  if (TOKEN_REFUSALS.has(code)) return 'token';
  if (TRANSIENT_REFUSALS.has(code)) return 'transient';
  return 'final';
}

/**
 * Token refusals retried, each with a fresh token from the page, before the
 * client stops and the page shows the signed-out state: one. A token the page
 * cannot renew would otherwise be retried forever by every open browser.
 */
export const MAX_TOKEN_RETRIES = 1;
/** Token refusals back off 1 s, 2 s, 4 s, … up to 10 s: a dev server restarting needs a moment. */
export const TOKEN_RETRY_BASE_MS = 1_000;
export const TOKEN_RETRY_MAX_MS = 10_000;
/** Transient refusals and server-side closes: full jitter over 1 s, 2 s, 4 s, … capped at 30 s. */
export const TRANSIENT_RETRY_BASE_MS = 1_000;
export const TRANSIENT_RETRY_MAX_MS = 30_000;

/**
 * "Full jitter" exponential backoff: a delay drawn uniformly from
 * [0, min(cap, base · 2^attempt)). Spreads the retries of many tabs refused at
 * the same moment (a server restart, a rate limit) instead of bunching them.
 * `attempt` counts from 0.
 */
export function fullJitterDelay(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, Math.min(attempt, 30)));
  return Math.floor(random() * ceiling);
}

/** The delay before retry number `attempt` (from 1) after a token refusal. */
export function tokenRetryDelay(attempt: number): number {
  return Math.min(TOKEN_RETRY_BASE_MS * 2 ** Math.max(0, attempt - 1), TOKEN_RETRY_MAX_MS);
}
