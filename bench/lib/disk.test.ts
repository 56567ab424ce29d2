import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commitFloor } from './disk';

describe('commit floor', () => {
  const parents: string[] = [];
  afterEach(() => {
    for (const p of parents.splice(0)) rmSync(p, { recursive: true, force: true });
  });

  it('times single-row commits, orders its percentiles, and leaves nothing behind', async () => {
    const parent = mkdtempSync(path.join(tmpdir(), 'herald-floor-test-'));
    parents.push(parent);
    const floor = await commitFloor(parent, 20, 0);
    expect(floor.p50Ms).toBeGreaterThan(0);
    expect(floor.p50Ms).toBeLessThanOrEqual(floor.p99Ms);
    expect(floor.p99Ms).toBeLessThanOrEqual(floor.maxMs);
    expect(existsSync(parent)).toBe(true);
    expect(readdirSync(parent)).toEqual([]);
  });

  it('fails loudly, leaving nothing, when the parent directory does not exist', async () => {
    const parent = mkdtempSync(path.join(tmpdir(), 'herald-floor-test-'));
    parents.push(parent);
    await expect(commitFloor(path.join(parent, 'missing'), 5, 0)).rejects.toThrow();
    expect(readdirSync(parent)).toEqual([]);
  });
});
