/**
 * A token bucket: `ratePerSecond` sustained, `burst` at once. Used for push
 * requests per key and socket events per connection. Time comes from a
 * monotonic clock so a wall-clock jump neither floods nor starves anyone.
 */
/** The default clock: one function for every bucket (a bucket per socket would otherwise make its own). */
const monotonicNow = (): number => performance.now();

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = monotonicNow,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token; false when empty (the caller is over its limit). */
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Seconds until one token is available (for Retry-After). */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((1 - this.tokens) / this.ratePerSecond));
  }
}

/** A bounded set of recently seen keys, each forgotten after `ttlMs` (replay protection). */
export class ExpiringSet {
  private readonly entries = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Adds `key`; false when it was already there (a replay). */
  add(key: string): boolean {
    const t = this.now();
    const seen = this.entries.get(key);
    if (seen !== undefined && seen > t) return false;
    // Map iterates in insertion order: the oldest entries go first.
    for (const [k, expires] of this.entries) {
      if (expires > t && this.entries.size < this.maxEntries) break;
      this.entries.delete(k);
    }
    this.entries.set(key, t + this.ttlMs);
    return true;
  }
}
