import { describe, expect, it } from 'vitest';
import { actorOf, mergeGroup, wireGroup } from './groups';

describe('collapse groups', () => {
  it('counts distinct actors, newest first, and shows three', () => {
    let g = mergeGroup(null, 'Bob');
    for (const a of ['Alice', 'Carol', 'Bob', 'Dan']) g = mergeGroup(g, a);
    expect(g.count).toBe(4);
    expect(g.pushes).toBe(5);
    expect(wireGroup(g)).toEqual({ actors: ['Dan', 'Bob', 'Carol'], count: 4, pushes: 5 });
  });

  it('tells actors apart by id, then name', () => {
    let g = mergeGroup(null, { id: 'u1', name: 'Bob' });
    g = mergeGroup(g, { id: 'u1', name: 'Robert' });
    g = mergeGroup(g, { name: 'Alice' });
    g = mergeGroup(g, { name: 'Alice', avatar: 'x' });
    expect(g.count).toBe(2);
    expect(g.actors[1]).toEqual({ id: 'u1', name: 'Robert' });
  });

  it('counts a push without an actor as a group of one', () => {
    expect(mergeGroup(null, undefined)).toEqual({ actors: [], count: 1, pushes: 1 });
    expect(actorOf({ actor: null })).toBeUndefined();
    expect(actorOf([1])).toBeUndefined();
    expect(actorOf({ actor: 'Bob' })).toBe('Bob');
  });
});
