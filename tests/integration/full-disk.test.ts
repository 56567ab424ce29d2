import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { push, request, startServer, TEST_PUSH_KEY, type TestServer } from '../support/server';

/**
 * The SQLite inbox on a file system that fills up: a tmpfs of its own,
 * mounted for this test (the machine's test runs are root, as CI is). Pushes
 * answer 503 and store nothing, /readyz turns 503 within 5 s of the first
 * failed write, and both recover once space returns.
 */

const MIB = 1024 * 1024;
let mountPoint: string;
let server: TestServer | undefined;
let filler: string;

beforeAll(async () => {
  mountPoint = mkdtempSync(path.join(tmpdir(), 'herald-full-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mountPoint]);
  server = await startServer({ mode: 'production', dataDir: mountPoint, env: { PUSH_RATE_LIMIT: '0' } });
  filler = path.join(mountPoint, 'filler');
});

afterAll(async () => {
  await server?.stop();
  try {
    execFileSync('umount', [mountPoint]);
    rmdirSync(mountPoint);
  } catch {
    rmSync(mountPoint, { recursive: true, force: true });
  }
});

/** Fills what is left of the file system with one file. */
function fill(): void {
  const fd = openSync(filler, 'w');
  const chunk = Buffer.alloc(MIB, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

const readyz = async () => request(server!.url, '/readyz', { headers: { authorization: `Bearer ${TEST_PUSH_KEY}` } });

/** Polls /readyz every 200 ms for at most `ms`, until it answers `status`; resolves the last answer. */
async function readyzWithin(ms: number, status: number) {
  const deadline = Date.now() + ms;
  let last = await readyz();
  while (last.status !== status && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    last = await readyz();
  }
  return last;
}

it('answers pushes 503 and /readyz 503 while the disk is full, and recovers both once space returns', async () => {
  const url = server!.url;
  expect((await push(url, { tokens: ['fd-user'], data: 'before' })).status).toBe(202);
  expect((await readyz()).status).toBe(200);

  fill();
  // The WAL reuses the space it has: pushes of 15 KB fail once it must grow.
  let failedAt: number | undefined;
  for (let i = 0; i < 2_000 && failedAt === undefined; i++) {
    const res = await push(url, { tokens: ['fd-user'], data: 'x'.repeat(15_000) });
    if (res.status === 503) {
      expect(res.body).toEqual({ error: { code: 'unavailable', message: expect.any(String) } });
      failedAt = Date.now();
    } else {
      expect(res.status).toBe(202);
    }
  }
  expect(failedAt, 'no push failed on the full disk').toBeDefined();
  const unready = await readyzWithin(5_000, 503);
  expect(unready.status).toBe(503);
  expect(unready.body.checks.database).toMatchObject({ ok: false, error: expect.stringContaining('writes are failing') });

  unlinkSync(filler);
  const ready = await readyzWithin(5_000, 200);
  expect(ready.status, JSON.stringify(ready.body)).toBe(200);
  expect((await push(url, { tokens: ['fd-user'], data: 'after' })).status).toBe(202);
  expect(server!.process.exitCode).toBeNull();
}, 120_000);
