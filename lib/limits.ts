import 'server-only';
/**
 * Rate limits and the replay memory. Time for rate limits comes from a
 * monotonic clock so a wall-clock jump neither floods nor starves anyone.
 */

/** The default clock: one function for every bucket (a bucket per socket would otherwise make its own). */
const monotonicNow = (): number => performance.now();

/** A token bucket: `ratePerSecond` sustained, `burst` at once. Used for push requests per key and socket events per connection. */
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

  /** Takes `count` tokens, all or none; false when there are fewer (the caller is over its limit). */
  take(count = 1): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
    this.last = t;
    if (this.tokens < count) return false;
    this.tokens -= count;
    return true;
  }

  /** Seconds until `count` tokens are available (for Retry-After). */
  retryAfterSeconds(count = 1): number {
    return Math.max(1, Math.ceil((count - this.tokens) / this.ratePerSecond));
  }

  /** The most tokens the bucket ever holds: a larger `take` never succeeds. */
  get capacity(): number {
    return this.burst;
  }

  /** True when the bucket is full again: forgetting it changes nothing. */
  isFull(): boolean {
    const t = this.now();
    return this.tokens + ((t - this.last) / 1000) * this.ratePerSecond >= this.burst;
  }
}

/** How often keyed buckets that have refilled are forgotten. */
const PRUNE_EVERY_MS = 30_000;

/**
 * One token bucket per key (a user id, a client address). A bucket that has
 * refilled is forgotten at the next prune, so the map holds only keys that were
 * active in the last PRUNE_EVERY_MS or are still below their burst.
 */
export class KeyedRateLimit {
  private readonly buckets = new Map<string, TokenBucket>();
  private lastPrune: number;

  constructor(
    readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = monotonicNow,
  ) {
    this.lastPrune = now();
  }

  /** Takes one token for `key`; false when its bucket is empty. */
  take(key: string): boolean {
    this.prune();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.ratePerSecond, this.burst, this.now);
      this.buckets.set(key, bucket);
    }
    return bucket.take();
  }

  /** Seconds until `key` may try again. */
  retryAfterSeconds(key: string): number {
    return this.buckets.get(key)?.retryAfterSeconds() ?? 1;
  }

  /** Keys currently tracked (tests). */
  get size(): number {
    return this.buckets.size;
  }

  private prune(): void {
    const t = this.now();
    if (t - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = t;
    for (const [key, bucket] of this.buckets) if (bucket.isFull()) this.buckets.delete(key);
  }
}

/** The answer of ReplayMemory.claim. */
export type ClaimResult = { status: 'new' } | { status: 'replay' } | { status: 'full'; retryAfterSeconds: number };

/** Slots in the expiry ring: more seconds than any entry lives. */
const RING_SECONDS = 1024;

/**
 * Signatures of accepted signed requests, each kept until its timestamp can no
 * longer pass the window check. It never forgets an entry early: when
 * `capacity` entries are all still live, a new one is refused (`full`, with the
 * seconds until the oldest expires) rather than making room, so a captured
 * request can never be replayed inside its window, whatever the load.
 *
 * Entries are filed by the second they expire in a ring of RING_SECONDS slots;
 * each claim first empties the slots whose second has passed (O(1) amortized).
 */
export class ReplayMemory {
  private readonly expiries = new Map<string, number>();
  private readonly ring: string[][] = Array.from({ length: RING_SECONDS }, () => []);
  private purgedThrough: number;

  /**
   * @param lifetimeSeconds how long after its timestamp an entry can still be presented (the window's far edge)
   * @param nowMs wall clock: entries expire by the timestamps they carry
   */
  constructor(
    private readonly lifetimeSeconds: number,
    readonly capacity: number,
    private readonly nowMs: () => number = () => Date.now(),
  ) {
    if (lifetimeSeconds + 2 >= RING_SECONDS) throw new RangeError(`lifetime must be under ${RING_SECONDS - 2} s`);
    this.purgedThrough = Math.floor(nowMs() / 1000);
  }

  /** Records `key`, presented with `timestampSeconds` (already checked to be inside the window). */
  claim(key: string, timestampSeconds: number): ClaimResult {
    const now = Math.floor(this.nowMs() / 1000);
    this.purge(now);
    if (this.expiries.has(key)) return { status: 'replay' };
    if (this.expiries.size >= this.capacity) return { status: 'full', retryAfterSeconds: this.secondsUntilOldestExpires(now) };
    // Kept through the last second in which the timestamp still passes the window check.
    const expires = Math.max(now, timestampSeconds + this.lifetimeSeconds) + 1;
    this.expiries.set(key, expires);
    (this.ring[expires % RING_SECONDS] as string[]).push(key);
    return { status: 'new' };
  }

  /** Live entries. */
  get size(): number {
    return this.expiries.size;
  }

  private purge(now: number): void {
    // After a long idle stretch (or a clock jump) every slot is stale: empty all once.
    const from = Math.max(this.purgedThrough + 1, now - RING_SECONDS + 1);
    for (let second = from; second <= now; second++) {
      const slot = this.ring[second % RING_SECONDS] as string[];
      if (slot.length === 0) continue;
      for (const key of slot) if ((this.expiries.get(key) ?? Infinity) <= now) this.expiries.delete(key);
      // Keys filed here for a later lap of the ring stay.
      const later = slot.filter((key) => this.expiries.has(key));
      slot.length = 0;
      slot.push(...later);
    }
    if (now > this.purgedThrough) this.purgedThrough = now;
  }

  private secondsUntilOldestExpires(now: number): number {
    for (let ahead = 1; ahead < RING_SECONDS; ahead++) {
      if ((this.ring[(now + ahead) % RING_SECONDS] as string[]).length > 0) return ahead;
    }
    return 1;
  }
}
