/**
 * Where a browser left off, per user: the highest seq it holds, kept in
 * localStorage so a returning page's first handshake asks only for what came
 * after it (the catch-up). Private mode or a full quota keeps nothing: the
 * catch-up then starts from the inbox's first page.
 */

const lastSeqKey = (userId: string) => `herald:lastSeq:${userId}`;

export function readLastSeq(userId: string): number | null {
  try {
    const v = Number(window.localStorage.getItem(lastSeqKey(userId)));
    return Number.isSafeInteger(v) && v > 0 ? v : null;
  } catch {
    return null;
  }
}

export function writeLastSeq(userId: string, seq: number | null): void {
  if (seq === null) return;
  try {
    window.localStorage.setItem(lastSeqKey(userId), String(seq));
  } catch {
    // Private mode or quota: nothing is kept.
  }
}
