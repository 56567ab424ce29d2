import { describe, expect, it } from 'vitest';
import { formatReport, soak } from '../support/soak';

/**
 * The short soak that runs in `npm test`: `npm run soak` (2,000 sockets, 10
 * minutes) shrunk to 200 sockets of 100 users for 20 seconds, with 20% of the
 * sockets reconnecting every 5 seconds. Nothing may be lost or duplicated.
 */
describe('soak (short)', () => {
  it('delivers every push to every socket of its recipients exactly once, live or by catch-up, across reconnects', async () => {
    const report = await soak({
      sockets: 200,
      users: 100,
      durationMs: 20_000,
      pushesPerSecond: 40,
      reconnectEveryMs: 5_000,
      reconnectFraction: 0.2,
    });
    console.log(formatReport(report));
    expect({ lost: report.lost, duplicated: report.duplicated, failed: report.pushesFailed, resets: report.syncResets, errors: report.heraldErrors }).toEqual({
      lost: 0,
      duplicated: 0,
      failed: 0,
      resets: 0,
      errors: [],
    });
    // It did what it claims: pushes went out, sockets came and went, and catch-up carried some.
    expect(report.pushesAccepted).toBeGreaterThan(400);
    expect(report.reconnects).toBeGreaterThanOrEqual(3 * 40);
    expect(report.replayed).toBeGreaterThan(0);
    expect(report.delivered).toBe(report.expected);
    expect(report.perSocket.socketsShort).toBe(0);
  }, 90_000);
});
