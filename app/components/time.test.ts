import { describe, expect, it } from 'vitest';
import { dayGroup, relativeTime } from './time';

describe('relativeTime()', () => {
  const now = Date.UTC(2025, 5, 15, 12, 0, 0);
  const ago = (seconds: number) => new Date(now - seconds * 1000).toISOString();

  it.each([
    [0, 'just now'],
    [44, 'just now'],
    [50, '1 minute ago'],
    [3 * 60, '3 minutes ago'],
    [2 * 3600, '2 hours ago'],
    [24 * 3600, 'yesterday'],
    [3 * 24 * 3600, '3 days ago'],
    [7 * 24 * 3600, 'last week'],
    [60 * 24 * 3600, '2 months ago'],
    [2 * 365 * 24 * 3600, '2 years ago'],
  ])('describes %i seconds ago as %j', (seconds, expected) => {
    expect(relativeTime(ago(seconds), now)).toBe(expected);
  });

  it.each([-30, -5 * 60, -3 * 24 * 3600])('never reads as the future: %i seconds ahead is "just now"', (seconds) => {
    expect(relativeTime(ago(seconds), now)).toBe('just now');
  });

  it('returns nothing for a time it cannot read', () => {
    expect(relativeTime('not a date', now)).toBe('');
  });
});

describe('dayGroup()', () => {
  // Local noon, so the test holds in any time zone.
  const now = new Date(2025, 5, 15, 12, 0, 0).getTime();
  const at = (day: number, hour: number) => new Date(2025, 5, day, hour, 0, 0).toISOString();

  it('puts times since local midnight under Today, the day before under Yesterday, the rest under Earlier', () => {
    expect(dayGroup(at(15, 0), now)).toBe('Today');
    expect(dayGroup(at(15, 11), now)).toBe('Today');
    expect(dayGroup(at(14, 23), now)).toBe('Yesterday');
    expect(dayGroup(at(14, 0), now)).toBe('Yesterday');
    expect(dayGroup(at(13, 23), now)).toBe('Earlier');
  });

  it('puts a time ahead of the clock under Today', () => {
    expect(dayGroup(at(15, 13), now)).toBe('Today');
  });
});
