import 'server-only';

/**
 * The SQLite inbox's pending deliveries, as the main thread knows them: pushes the
 * writer has committed to the fan-out log (`fanout`) whose per-user rows are not
 * yet merged into `deliveries` (see sqlite/writer/merge.ts). Reads add these
 * to what the database holds.
 *
 * An entry is added when its append's answer arrives (before the append's promise
 * settles, so before anything delivers it), and removed when an answer reports it
 * merged. In between, a read may see it both here and in `deliveries`; merges take
 * a user's seqs as a prefix, so for each user every entry at or below the user's
 * highest merged seq is already in the database, and `above` leaves those out.
 */
export class PendingDeliveries {
  /** User -> pending seqs, ascending. */
  private readonly byUser = new Map<string, number[]>();
  /** Seq -> how many of its users are still pending. */
  private readonly usersLeft = new Map<number, number>();
  /** Every seq added, ascending; those before `head` are gone from `usersLeft`. */
  private order: number[] = [];
  private head = 0;
  private rows = 0;
  /** When the pending set last went from empty to not empty (ms, monotonic). */
  private since = 0;

  /** Pending rows, all users together. */
  get size(): number {
    return this.rows;
  }

  /** Users with anything pending. */
  get users(): number {
    return this.byUser.size;
  }

  /** How long rows have been pending (0 when none are). */
  ageMs(now: number): number {
    return this.rows === 0 ? 0 : now - this.since;
  }

  /** A committed append: `userIds` must be distinct, `seq` higher than any added before. */
  add(seq: number, userIds: readonly string[], now: number): void {
    if (userIds.length === 0) return;
    if (this.rows === 0) this.since = now;
    for (const userId of userIds) {
      const seqs = this.byUser.get(userId);
      if (seqs) seqs.push(seq);
      else this.byUser.set(userId, [seq]);
    }
    this.usersLeft.set(seq, userIds.length);
    this.order.push(seq);
    this.rows += userIds.length;
  }

  /** The writer merged these users' seqs up to `through`. */
  merged(userIds: readonly string[], through: number, now: number): void {
    for (const userId of userIds) {
      const seqs = this.byUser.get(userId);
      if (!seqs) continue;
      const k = countAtOrBelow(seqs, through);
      for (let i = 0; i < k; i++) {
        const seq = seqs[i] as number;
        const left = (this.usersLeft.get(seq) ?? 1) - 1;
        if (left === 0) this.usersLeft.delete(seq);
        else this.usersLeft.set(seq, left);
      }
      if (k === seqs.length) this.byUser.delete(userId);
      else if (k > 0) this.byUser.set(userId, seqs.slice(k));
      this.rows -= k;
    }
    this.advance();
    // What is left has waited since before this merge; count its age from now, so
    // that the next merge starts when enough has gathered again.
    if (this.rows > 0) this.since = now;
  }

  /** The writer removed these pending entries without merging them (a collapse took them): they are gone. */
  dropped(entries: ReadonlyArray<readonly [string, number]>): void {
    for (const [userId, seq] of entries) {
      const seqs = this.byUser.get(userId);
      const i = seqs ? countAtOrBelow(seqs, seq) - 1 : -1;
      if (!seqs || i < 0 || seqs[i] !== seq) continue;
      if (seqs.length === 1) this.byUser.delete(userId);
      else this.byUser.set(userId, [...seqs.slice(0, i), ...seqs.slice(i + 1)]);
      const left = (this.usersLeft.get(seq) ?? 1) - 1;
      if (left === 0) this.usersLeft.delete(seq);
      else this.usersLeft.set(seq, left);
      this.rows--;
    }
    this.advance();
  }

  /** Moves `head` past the seqs no user has pending any more. */
  private advance(): void {
    while (this.head < this.order.length && !this.usersLeft.has(this.order[this.head] as number)) this.head++;
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }

  /** The lowest seq any user still has pending, or null. */
  lowest(): number | null {
    return this.head < this.order.length ? (this.order[this.head] as number) : null;
  }

  /** The user's pending seqs above `seq`, ascending. */
  above(userId: string, seq: number): number[] {
    const seqs = this.byUser.get(userId);
    if (!seqs) return [];
    return seqs.slice(countAtOrBelow(seqs, seq));
  }

  /** The user's highest pending seq, or 0. */
  headOf(userId: string): number {
    const seqs = this.byUser.get(userId);
    return seqs ? (seqs[seqs.length - 1] as number) : 0;
  }
}

/** How many of the ascending `seqs` are at or below `seq`. */
function countAtOrBelow(seqs: readonly number[], seq: number): number {
  let lo = 0;
  let hi = seqs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((seqs[mid] as number) <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
