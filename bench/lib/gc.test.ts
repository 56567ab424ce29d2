import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { gcBetween, watchGc } from './gc';

// A full collection on demand, without starting the test process with --expose-gc.
setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

/** Waits (bounded) until `done` holds: gc entries reach the observer from the event loop. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('watchGc', () => {
  it('counts a full collection as major, with its pause', async () => {
    const read = watchGc();
    const before = read();
    fullGc();
    fullGc();
    await until(() => read().major - before.major >= 2);
    const d = gcBetween(before, read());
    expect(d.major).toBeGreaterThanOrEqual(2);
    expect(d.majorMs).toBeGreaterThan(0);
  });

  it('counts scavenges as minor, not major', async () => {
    const read = watchGc();
    const before = read();
    // Short-lived garbage only: enough to fill the young generation many times over.
    let keep = 0;
    for (let i = 0; i < 2_000_000; i++) keep += { i, s: `x${i}` }.s.length;
    expect(keep).toBeGreaterThan(0);
    await until(() => read().minor > before.minor);
    const d = gcBetween(before, read());
    expect(d.minor).toBeGreaterThan(0);
    expect(d.minorMs).toBeGreaterThan(0);
  });
});
