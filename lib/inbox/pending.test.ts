import { describe, expect, it } from 'vitest';
import { PendingDeliveries } from './pending';

describe('PendingDeliveries', () => {
  it('holds each user’s seqs in order and counts rows over all users', () => {
    const p = new PendingDeliveries();
    p.add(3, ['a', 'b'], 0);
    p.add(5, ['b'], 0);
    p.add(9, ['a', 'b', 'c'], 0);
    expect(p.size).toBe(6);
    expect(p.above('a', 0)).toEqual([3, 9]);
    expect(p.above('b', 3)).toEqual([5, 9]);
    expect(p.above('b', 9)).toEqual([]);
    expect(p.above('nobody', 0)).toEqual([]);
    expect(p.headOf('b')).toBe(9);
    expect(p.headOf('nobody')).toBe(0);
    expect(p.lowest()).toBe(3);
  });

  it('forgets only the merged users’ seqs up to the bound, and moves the lowest seq on', () => {
    const p = new PendingDeliveries();
    p.add(3, ['a', 'b'], 0);
    p.add(5, ['b'], 0);
    p.add(9, ['a', 'b', 'c'], 0);
    p.merged(['a'], 5, 10);
    expect(p.above('a', 0)).toEqual([9]);
    expect(p.above('b', 0)).toEqual([3, 5, 9]);
    expect(p.lowest()).toBe(3); // b still has 3
    p.merged(['b'], 5, 10);
    expect(p.lowest()).toBe(9);
    expect(p.size).toBe(3);
    p.merged(['a', 'b', 'c'], 9, 10);
    expect(p.size).toBe(0);
    expect(p.lowest()).toBeNull();
    // A report naming a user with nothing pending changes nothing.
    p.merged(['zed'], 100, 10);
    expect(p.size).toBe(0);
  });

  it('ignores an append with no recipients', () => {
    const p = new PendingDeliveries();
    p.add(1, [], 0);
    expect(p.size).toBe(0);
    expect(p.lowest()).toBeNull();
  });

  it('ages from the moment rows became pending, and again from each merge that leaves some', () => {
    const p = new PendingDeliveries();
    expect(p.ageMs(50)).toBe(0);
    p.add(1, ['a'], 100);
    p.add(2, ['b'], 150);
    expect(p.ageMs(400)).toBe(300);
    p.merged(['a'], 1, 500);
    expect(p.ageMs(600)).toBe(100);
    p.merged(['b'], 2, 700);
    expect(p.ageMs(800)).toBe(0);
  });

  it('keeps the lowest seq right across many merges (the order list is compacted as it goes)', () => {
    const p = new PendingDeliveries();
    for (let seq = 1; seq <= 5000; seq++) p.add(seq, [`u${seq % 7}`], 0);
    for (let seq = 1; seq <= 4000; seq++) p.merged([`u${seq % 7}`], seq, 0);
    expect(p.lowest()).toBe(4001);
    expect(p.size).toBe(1000);
    expect(p.above('u0', 0)[0]).toBe(4004);
  });
});
