/**
 * Idempotency keys, as both engines decide them inside the append transaction.
 * The SQLite writer thread imports this file too.
 */

/** How long an idempotency key is remembered. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** The refusal when a key comes back with another body. */
export const KEY_REUSED = 'this idempotency key was used with a different body';

/** The refusal when a notification id is taken. */
export const idInUse = (id: string): string => `notification id "${id}" is already in use`;

/** What an append's key meets in the store: the first push's body hash and time. */
export interface StoredKey {
  body_hash: string;
  created_at: number;
}

/**
 * What a key already stored means for an append made at `createdAt` with `bodyHash`:
 * a repeat of the first push (`duplicate`), the key reused for another body
 * (`conflict`), or nothing (null: none stored, or stored before the window, so the
 * append goes ahead and the key is written again).
 */
export function replayOf(prior: StoredKey | undefined, bodyHash: string, createdAt: number): 'duplicate' | 'conflict' | null {
  if (!prior || prior.created_at <= createdAt - IDEMPOTENCY_WINDOW_MS) return null;
  return prior.body_hash === bodyHash ? 'duplicate' : 'conflict';
}
