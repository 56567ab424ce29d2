import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { WireNotification } from './protocol';
import { createFanoutQueue, FANOUT_SLICE_MS } from './push';

const note = (seq: number): WireNotification => ({
  id: `n${seq}`,
  seq,
  entityType: 'like',
  data: null,
  createdAt: new Date(0).toISOString(),
  read: false,
});

/** Spins for `ms` of wall time: a delivery that costs that much CPU. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // burn
  }
}

describe('createFanoutQueue', () => {
  it('writes at once when nothing is waiting', async () => {
    const written: number[] = [];
    const q = createFanoutQueue((n) => written.push(n.seq));
    const done = q.deliver(note(1), ['alice']);
    expect(written).toEqual([1]);
    await done;
  });

  it('keeps commit order and yields to the event loop once a slice is spent', async () => {
    const written: number[] = [];
    const q = createFanoutQueue((n) => {
      written.push(n.seq);
      busy(1);
    });
    // Something that arrives meanwhile (a request, the inbox writer's answer).
    let ioRanAfter = -1;
    setImmediate(() => {
      ioRanAfter = written.length;
    });
    const all = Array.from({ length: 20 }, (_, i) => q.deliver(note(i + 1), ['alice']));
    // Only what fits in one slice was written before the caller got control back.
    expect(written.length).toBeGreaterThan(0);
    expect(written.length).toBeLessThanOrEqual(FANOUT_SLICE_MS + 1);
    await Promise.all(all);
    expect(written).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // The other task ran before the queue was done, not after it.
    expect(ioRanAfter).toBeGreaterThan(0);
    expect(ioRanAfter).toBeLessThan(20);
  });

  it('resolves each delivery only after it was written', async () => {
    const written: number[] = [];
    const q = createFanoutQueue((n) => {
      written.push(n.seq);
      busy(1);
    });
    const seen: Array<[number, number]> = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => q.deliver(note(i + 1), ['bob']).then(() => seen.push([i + 1, written.length]))),
    );
    for (const [seq, writtenWhenResolved] of seen) expect(writtenWhenResolved).toBeGreaterThanOrEqual(seq);
  });

  it('starts a fresh slice on a later turn of the event loop', async () => {
    const written: number[] = [];
    const q = createFanoutQueue((n) => {
      written.push(n.seq);
      busy(FANOUT_SLICE_MS + 1);
    });
    await q.deliver(note(1), ['carol']);
    await nextTurn();
    await nextTurn();
    // The slice of the first delivery is over, and the loop has turned: no waiting.
    q.deliver(note(2), ['carol']).catch(() => undefined);
    expect(written).toEqual([1, 2]);
  });
});
