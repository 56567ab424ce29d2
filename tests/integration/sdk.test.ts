import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as Sdk from '../../lib/sdk/server';
import { request, TEST_AUTH_SECRET, TEST_PUSH_KEY } from '../support/server';
import { connectClient, waitForId, type ConnectedClient } from '../support/socket';
import { serverSuite } from '../support/suite';

/**
 * `herald/server` as a backend uses it: built with tsup.sdk.config.ts into
 * dist-sdk/, imported from there, driving a real compiled Herald.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const suite = serverSuite({ mode: 'production' });
let sdk: typeof Sdk;

beforeAll(() => {
  const built = spawnSync(process.execPath, ['node_modules/tsup/dist/cli-default.js', '--config', 'tsup.sdk.config.ts', '--silent'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`building the SDK failed:\n${built.stdout}\n${built.stderr}`);
}, 120_000);

beforeAll(async () => {
  sdk = (await import(pathToFileURL(path.join(ROOT, 'dist-sdk/server.js')).href)) as typeof Sdk;
});

/** A fetch that records each request's headers and lets `intercept` answer or fail an attempt. */
function recordingFetch(intercept: (attempt: number, real: () => Promise<Response>) => Promise<Response> = (_, real) => real()) {
  const calls: Array<Record<string, string>> = [];
  const fetchFn: typeof fetch = async (input, init) => {
    calls.push(Object.fromEntries(new Headers(init?.headers).entries()));
    return intercept(calls.length, () => fetch(input, init));
  };
  return { calls, fetch: fetchFn };
}

async function stored(userId: string): Promise<Array<{ id: string }>> {
  const res = await request(suite.server.url, `/api/notifications?userId=${encodeURIComponent(userId)}&limit=100`, {
    headers: { authorization: `Bearer ${TEST_PUSH_KEY}` },
  });
  expect(res.status).toBe(200);
  return res.body.items;
}

const open: ConnectedClient[] = [];
async function connectWithMintedToken(userId: string): Promise<ConnectedClient> {
  const client = await connectClient(suite.server.url, { token: await sdk.mintUserToken(TEST_AUTH_SECRET, userId, { ttlSeconds: 600 }) });
  open.push(client);
  return client;
}

describe('herald/server', () => {
  it('is the package\'s "./server" export: ESM and its declarations, resolved by Node from package.json', () => {
    expect(existsSync(path.join(ROOT, 'dist-sdk/server.d.ts'))).toBe(true);
    const probe = spawnSync(process.execPath, ['--input-type=module', '-e', "const m = await import('herald/server'); console.log(Object.keys(m).sort().join(','))"], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(probe.stderr).toBe('');
    expect(probe.stdout.trim().split(',')).toEqual(
      expect.arrayContaining(['HeraldError', 'WebhookVerificationError', 'createHerald', 'mintUserToken', 'signRequest', 'verifyWebhook']),
    );
  });

  it('pushes with the key to a socket that connected with a token minted by mintUserToken', async () => {
    try {
      const client = await connectWithMintedToken('sdk-alice');
      const herald = sdk.createHerald({ baseUrl: suite.server.url, pushApiKey: TEST_PUSH_KEY });
      const result = await herald.push({ userIds: ['sdk-alice'], entityType: 'like', data: { actor: 'Carol' } });
      expect(result).toEqual({ id: expect.any(String), recipients: 1, online: 1, replayed: false, attempts: 1 });
      await waitForId(client, result.id);
      expect(client.received.find((n) => n.id === result.id)?.data).toEqual({ actor: 'Carol' });
    } finally {
      for (const c of open.splice(0)) c.close();
    }
  });

  it('pushes signed: the key never travels, each attempt carries a fresh signature', async () => {
    const rec = recordingFetch();
    const herald = sdk.createHerald({ baseUrl: suite.server.url, pushApiKey: TEST_PUSH_KEY, auth: 'signed', fetch: rec.fetch });
    const result = await herald.push({ userIds: ['sdk-signed'], id: 'sdk-signed-1', data: 'hi' });
    expect(result).toMatchObject({ id: 'sdk-signed-1', recipients: 1, replayed: false });
    expect(rec.calls[0]).not.toHaveProperty('authorization');
    expect(rec.calls[0]?.['x-herald-signature']).toMatch(/^[0-9a-f]{64}$/);
    expect((await stored('sdk-signed')).map((n) => n.id)).toEqual(['sdk-signed-1']);
  });

  it('retries a push whose answer was lost with the same idempotency key: one notification is stored', async () => {
    // The first attempt reaches Herald and is stored, then its answer is lost as on a dropped connection.
    const rec = recordingFetch(async (attempt, real) => {
      const res = await real();
      if (attempt === 1) throw new TypeError('fetch failed: socket hang up');
      return res;
    });
    const herald = sdk.createHerald({ baseUrl: suite.server.url, pushApiKey: TEST_PUSH_KEY, fetch: rec.fetch, minDelayMs: 10 });
    const result = await herald.push({ userIds: ['sdk-retry'], entityType: 'comment', data: 'once' });
    expect(result).toMatchObject({ recipients: 1, replayed: true, attempts: 2 });
    expect(rec.calls).toHaveLength(2);
    expect(rec.calls[0]?.['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(rec.calls[1]?.['idempotency-key']).toBe(rec.calls[0]?.['idempotency-key']);
    expect((await stored('sdk-retry')).map((n) => n.id)).toEqual([result.id]);
  });

  it('pushes a batch whose answer was lost, retried with the ids it made once: each notification stored once, one result per input', async () => {
    const rec = recordingFetch(async (attempt, real) => {
      const res = await real();
      if (attempt === 1) throw new TypeError('fetch failed: socket hang up');
      return res;
    });
    const herald = sdk.createHerald({ baseUrl: suite.server.url, pushApiKey: TEST_PUSH_KEY, fetch: rec.fetch, minDelayMs: 10 });
    const result = await herald.pushBatch([
      { userIds: ['sdk-batch'], entityType: 'like', data: 'one' },
      { userIds: ['sdk-batch'], id: 'sdk-batch-mine' },
      { userIds: [] },
    ]);
    expect(result.attempts).toBe(2);
    expect(result.ids[1]).toBe('sdk-batch-mine');
    expect(result.results).toEqual([
      { id: result.ids[0], recipients: 1, online: 0 },
      { id: 'sdk-batch-mine', recipients: 1, online: 0 },
      { error: { code: 'validation_failed', message: expect.stringContaining('userIds') } },
    ]);
    expect(rec.calls.every((headers) => headers['idempotency-key'] === undefined)).toBe(true);
    expect((await stored('sdk-batch')).map((n) => n.id).sort()).toEqual([result.ids[0], 'sdk-batch-mine'].sort());
  });

  it('retries a signed push whose answer was lost: signed anew, not refused as a replay, stored once', async () => {
    const rec = recordingFetch(async (attempt, real) => {
      const res = await real();
      if (attempt === 1) throw new TypeError('fetch failed');
      return res;
    });
    const herald = sdk.createHerald({ baseUrl: suite.server.url, pushApiKey: TEST_PUSH_KEY, auth: 'signed', fetch: rec.fetch, minDelayMs: 10 });
    const result = await herald.push({ userIds: ['sdk-signed-retry'], data: 'once' });
    expect(result).toMatchObject({ replayed: true, attempts: 2 });
    expect(rec.calls[1]?.['x-herald-signature']).not.toBe(rec.calls[0]?.['x-herald-signature']);
    expect((await stored('sdk-signed-retry')).map((n) => n.id)).toEqual([result.id]);
  });

  it("waits out a 503's Retry-After before retrying, with the same key", async () => {
    const rec = recordingFetch(async (attempt, real) =>
      attempt === 1
        ? new Response(JSON.stringify({ error: { code: 'unavailable', message: 'storage is unavailable' } }), {
            status: 503,
            headers: { 'content-type': 'application/json', 'retry-after': '1' },
          })
        : real(),
    );
    const herald = sdk.createHerald({ baseUrl: suite.server.url, pushApiKey: TEST_PUSH_KEY, fetch: rec.fetch, minDelayMs: 10 });
    const started = Date.now();
    const result = await herald.push({ userIds: ['sdk-503'] }, { idempotencyKey: 'sdk-503-key' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(result).toMatchObject({ replayed: false, attempts: 2 });
    expect(rec.calls.map((c) => c['idempotency-key'])).toEqual(['sdk-503-key', 'sdk-503-key']);
  });

  it("does not retry a refusal: a 400 throws HeraldError with Herald's code after one attempt", async () => {
    const rec = recordingFetch();
    const herald = sdk.createHerald({ baseUrl: suite.server.url, pushApiKey: TEST_PUSH_KEY, fetch: rec.fetch });
    const error = await herald.push({ userIds: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(sdk.HeraldError);
    expect(error).toMatchObject({ status: 400, code: 'validation_failed', attempts: 1, requestId: expect.any(String) });
    expect(rec.calls).toHaveLength(1);
    const wrongKey = await sdk.createHerald({ baseUrl: suite.server.url, pushApiKey: 'wrong' }).push({ userIds: ['x'] }).catch((e: unknown) => e);
    expect(wrongKey).toMatchObject({ status: 401, code: 'unauthorized', attempts: 1 });
  });

  it('gives up after its retries when Herald cannot be reached', async () => {
    const herald = sdk.createHerald({ baseUrl: 'http://127.0.0.1:9', pushApiKey: TEST_PUSH_KEY, retries: 2, minDelayMs: 5 });
    const error = await herald.push({ userIds: ['x'] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'HeraldError', status: undefined, attempts: 3 });
  });

  it('signRequest signs as Herald verifies: its headers are accepted, and refused over another body', async () => {
    const body = JSON.stringify({ tokens: ['sdk-raw'], entityType: 'follow' });
    const headers = { 'content-type': 'application/json', ...sdk.signRequest(TEST_PUSH_KEY, body) };
    const ok = await request(suite.server.url, '/api/push', { method: 'POST', headers, body });
    expect(ok.status).toBe(202);
    const tampered = await request(suite.server.url, '/api/push', { method: 'POST', headers, body: body.replace('follow', 'like') });
    expect(tampered.status).toBe(401);
    expect(tampered.body.error.code).toBe('signature_invalid');
  });
});
