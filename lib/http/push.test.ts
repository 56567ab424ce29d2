import { describe, expect, it } from 'vitest';
import { HttpError } from '../errors';
import { ReplayMemory, TokenBucket } from '../limits';
import type { PushRequest } from '../contract';
import type { HeraldRuntime } from '../runtime';
import { handlePush } from './push';
import { signBody } from './signature';

/**
 * handlePush in-process, with a fake runtime: the order of authentication, rate
 * limit, replay memory and parsing (tests/security/hostile-http.test.ts checks
 * the same through the real server, which serves the built bundle).
 */

const KEY = 'unit-push-key-0123456789';
const now = () => String(Math.floor(Date.now() / 1000));

/** What a cluster link's claimOnce would answer: a shared memory of claims, or "cannot say". */
function clusterMemory(reachable: () => boolean) {
  const claimed = new Set<string>();
  return {
    healthy: reachable,
    async claimOnce(key: string): Promise<boolean | undefined> {
      if (!reachable()) return undefined;
      if (claimed.has(key)) return false;
      claimed.add(key);
      return true;
    },
  };
}

function runtimeWith(opts: { rate: number; clock?: () => number; cluster?: ReturnType<typeof clusterMemory> }) {
  const pushed: PushRequest[] = [];
  const runtime = {
    config: { pushApiKey: KEY, limits: { pushPerSecond: opts.rate } },
    realtime: { cluster: opts.cluster },
    pushLimiter: new TokenBucket(opts.rate, opts.rate * 2, opts.clock),
    seenSignatures: new ReplayMemory(300, 1000),
    push: {
      async push(req: PushRequest) {
        pushed.push(req);
        return { body: { id: `n${pushed.length}`, recipients: req.userIds.length, online: 0 }, replayed: false };
      },
    },
  } as unknown as HeraldRuntime;
  return { runtime, pushed };
}

function signedRequest(body: string, opts: { timestamp?: string; signature?: string } = {}): Request {
  const timestamp = opts.timestamp ?? now();
  return new Request('http://localhost/api/push', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-herald-timestamp': timestamp,
      'x-herald-signature': opts.signature ?? signBody(KEY, timestamp, body),
    },
    body,
  });
}

const bearerRequest = (body: string, key = KEY) =>
  new Request('http://localhost/api/push', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body,
  });

/** The status and code handlePush answers (an HttpError is what the route maps to a response). */
async function outcome(runtime: HeraldRuntime, request: Request): Promise<string> {
  try {
    const res = await handlePush(request, { runtime });
    return String(res.status);
  } catch (err) {
    if (err instanceof HttpError) return `${err.status} ${err.code}`;
    throw err;
  }
}

const body = (n: number) => JSON.stringify({ tokens: ['u1'], data: n });

describe('handlePush: authentication before the rate limit', () => {
  it('does not let forged signatures or wrong keys spend the key’s budget', async () => {
    const { runtime } = runtimeWith({ rate: 1 });
    for (let i = 0; i < 10; i++) {
      expect(await outcome(runtime, signedRequest(body(i), { signature: 'ab'.repeat(32) }))).toBe('401 signature_invalid');
      expect(await outcome(runtime, bearerRequest(body(i), 'wrong-key-wrong-key'))).toBe('401 unauthorized');
    }
    // The whole burst (2) is still there.
    expect(await outcome(runtime, signedRequest(body(100)))).toBe('202');
    expect(await outcome(runtime, bearerRequest(body(101)))).toBe('202');
    expect(await outcome(runtime, bearerRequest(body(102)))).toBe('429 rate_limited');
  });

  it('answers a bad signature over invalid JSON with 401, not a parse error', async () => {
    const { runtime } = runtimeWith({ rate: 10 });
    expect(await outcome(runtime, signedRequest('{"tokens":', { signature: 'ab'.repeat(32) }))).toBe('401 signature_invalid');
    expect(await outcome(runtime, signedRequest('{"tokens":'))).toBe('400 invalid_json');
  });

  it('lets a signed request refused with 429 through when retried byte for byte', async () => {
    let t = 0;
    const { runtime, pushed } = runtimeWith({ rate: 1, clock: () => t });
    expect(await outcome(runtime, bearerRequest(body(1)))).toBe('202');
    expect(await outcome(runtime, bearerRequest(body(2)))).toBe('202');
    const timestamp = now();
    expect(await outcome(runtime, signedRequest(body(3), { timestamp }))).toBe('429 rate_limited');
    t += 1_000;
    expect(await outcome(runtime, signedRequest(body(3), { timestamp }))).toBe('202');
    expect(pushed.map((p) => p.data)).toEqual([1, 2, 3]);
    // …and only once.
    t += 10_000;
    expect(await outcome(runtime, signedRequest(body(3), { timestamp }))).toBe('401 signature_replayed');
  });

  it('asks for the signature scheme when refusing a replay', async () => {
    const { runtime } = runtimeWith({ rate: 10 });
    const timestamp = now();
    await handlePush(signedRequest(body(1), { timestamp }), { runtime });
    const err = await handlePush(signedRequest(body(1), { timestamp }), { runtime }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).headers['www-authenticate']).toBe('HeraldSignature');
  });

  it('refuses what another node of the cluster accepted, and decides alone while the cluster cannot say', async () => {
    let reachable = true;
    const cluster = clusterMemory(() => reachable);
    // Two nodes: each its own memory and rate limit, one shared cluster memory.
    const nodeA = runtimeWith({ rate: 10, cluster });
    const nodeB = runtimeWith({ rate: 10, cluster });
    const timestamp = now();
    expect(await outcome(nodeA.runtime, signedRequest(body(1), { timestamp }))).toBe('202');
    expect(await outcome(nodeB.runtime, signedRequest(body(1), { timestamp }))).toBe('401 signature_replayed');
    expect(nodeB.pushed).toEqual([]);

    reachable = false;
    // The outage: node B knows only its own memory, so the same bytes pass there once…
    expect(await outcome(nodeA.runtime, signedRequest(body(2), { timestamp }))).toBe('202');
    expect(await outcome(nodeB.runtime, signedRequest(body(2), { timestamp }))).toBe('202');
    // …and each node still refuses its own replays.
    expect(await outcome(nodeA.runtime, signedRequest(body(2), { timestamp }))).toBe('401 signature_replayed');
    expect(await outcome(nodeB.runtime, signedRequest(body(2), { timestamp }))).toBe('401 signature_replayed');
  });

  it('answers 10,000 nested arrays in data with 400, not a stack overflow', async () => {
    const { runtime } = runtimeWith({ rate: 10 });
    const deep = `{"tokens":["u1"],"data":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    expect(await outcome(runtime, bearerRequest(deep))).toBe('400 validation_failed');
  });
});
