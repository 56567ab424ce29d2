import { describe, expect, it } from 'vitest';
import { HttpError } from '../errors';
import { ReplayMemory, TokenBucket } from '../limits';
import type { PushRequest } from '../contract';
import { acceptPush, type PushRequestSource, type PushRouteDeps } from './push';
import { signBody } from './signature';

/**
 * acceptPush in-process, with a fake push service: the order of
 * authentication, rate limit, replay memory and parsing
 * (tests/security/hostile-http.test.ts checks the same through the real server).
 */

const KEY = 'unit-push-key-0123456789';
const now = () => String(Math.floor(Date.now() / 1000));

/** What a cluster link's claimOnce would answer: a shared memory of claims, or "cannot say". */
function clusterMemory(reachable: () => boolean) {
  const claimed = new Set<string>();
  return async (key: string): Promise<boolean | undefined> => {
    if (!reachable()) return undefined;
    if (claimed.has(key)) return false;
    claimed.add(key);
    return true;
  };
}

function depsWith(opts: { rate: number; clock?: () => number; claimOnce?: ReturnType<typeof clusterMemory> }) {
  const pushed: PushRequest[] = [];
  const deps: PushRouteDeps = {
    pushApiKey: KEY,
    pushPerSecond: opts.rate,
    limiter: new TokenBucket(opts.rate, opts.rate * 2, opts.clock),
    replay: new ReplayMemory(300, 1000),
    claimOnce: opts.claimOnce,
    push: {
      async push(req: PushRequest) {
        pushed.push(req);
        return { body: { id: `n${pushed.length}`, recipients: req.userIds.length, online: 0 }, replayed: false };
      },
    },
  };
  return { deps, pushed };
}

/** A request as the router hands it over: headers by lower-case name, and the body. */
function source(body: string, headers: Record<string, string>): PushRequestSource {
  return { header: (name) => headers[name] ?? null, body: async () => Buffer.from(body) };
}

function signedRequest(body: string, opts: { timestamp?: string; signature?: string } = {}): PushRequestSource {
  const timestamp = opts.timestamp ?? now();
  return source(body, {
    'content-type': 'application/json',
    'x-herald-timestamp': timestamp,
    'x-herald-signature': opts.signature ?? signBody(KEY, timestamp, body),
  });
}

const bearerRequest = (body: string, key = KEY) => source(body, { 'content-type': 'application/json', authorization: `Bearer ${key}` });

/** The status and code acceptPush answers (an HttpError is what the router maps to an answer). */
async function outcome(deps: PushRouteDeps, request: PushRequestSource): Promise<string> {
  try {
    return String((await acceptPush(request, deps)).status);
  } catch (err) {
    if (err instanceof HttpError) return `${err.status} ${err.code}`;
    throw err;
  }
}

const body = (n: number) => JSON.stringify({ tokens: ['u1'], data: n });

describe('acceptPush: authentication before the rate limit', () => {
  it('does not let forged signatures or wrong keys spend the key’s budget', async () => {
    const { deps } = depsWith({ rate: 1 });
    for (let i = 0; i < 10; i++) {
      expect(await outcome(deps, signedRequest(body(i), { signature: 'ab'.repeat(32) }))).toBe('401 signature_invalid');
      expect(await outcome(deps, bearerRequest(body(i), 'wrong-key-wrong-key'))).toBe('401 unauthorized');
    }
    // The whole burst (2) is still there.
    expect(await outcome(deps, signedRequest(body(100)))).toBe('202');
    expect(await outcome(deps, bearerRequest(body(101)))).toBe('202');
    expect(await outcome(deps, bearerRequest(body(102)))).toBe('429 rate_limited');
  });

  it('answers a bad signature over invalid JSON with 401, not a parse error', async () => {
    const { deps } = depsWith({ rate: 10 });
    expect(await outcome(deps, signedRequest('{"tokens":', { signature: 'ab'.repeat(32) }))).toBe('401 signature_invalid');
    expect(await outcome(deps, signedRequest('{"tokens":'))).toBe('400 invalid_json');
  });

  it('lets a signed request refused with 429 through when retried byte for byte', async () => {
    let t = 0;
    const { deps, pushed } = depsWith({ rate: 1, clock: () => t });
    expect(await outcome(deps, bearerRequest(body(1)))).toBe('202');
    expect(await outcome(deps, bearerRequest(body(2)))).toBe('202');
    const timestamp = now();
    expect(await outcome(deps, signedRequest(body(3), { timestamp }))).toBe('429 rate_limited');
    t += 1_000;
    expect(await outcome(deps, signedRequest(body(3), { timestamp }))).toBe('202');
    expect(pushed.map((p) => p.data)).toEqual([1, 2, 3]);
    // …and only once.
    t += 10_000;
    expect(await outcome(deps, signedRequest(body(3), { timestamp }))).toBe('401 signature_replayed');
  });

  it('asks for the signature scheme when refusing a replay', async () => {
    const { deps } = depsWith({ rate: 10 });
    const timestamp = now();
    await acceptPush(signedRequest(body(1), { timestamp }), deps);
    const err = await acceptPush(signedRequest(body(1), { timestamp }), deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).headers['www-authenticate']).toBe('HeraldSignature');
  });

  it('refuses what another node of the cluster accepted, and decides alone while the cluster cannot say', async () => {
    let reachable = true;
    const claimOnce = clusterMemory(() => reachable);
    // Two nodes: each its own memory and rate limit, one shared cluster memory.
    const nodeA = depsWith({ rate: 10, claimOnce });
    const nodeB = depsWith({ rate: 10, claimOnce });
    const timestamp = now();
    expect(await outcome(nodeA.deps, signedRequest(body(1), { timestamp }))).toBe('202');
    expect(await outcome(nodeB.deps, signedRequest(body(1), { timestamp }))).toBe('401 signature_replayed');
    expect(nodeB.pushed).toEqual([]);

    reachable = false;
    // The outage: node B knows only its own memory, so the same bytes pass there once…
    expect(await outcome(nodeA.deps, signedRequest(body(2), { timestamp }))).toBe('202');
    expect(await outcome(nodeB.deps, signedRequest(body(2), { timestamp }))).toBe('202');
    // …and each node still refuses its own replays.
    expect(await outcome(nodeA.deps, signedRequest(body(2), { timestamp }))).toBe('401 signature_replayed');
    expect(await outcome(nodeB.deps, signedRequest(body(2), { timestamp }))).toBe('401 signature_replayed');
  });

  it('answers 10,000 nested arrays in data with 400, not a stack overflow', async () => {
    const { deps } = depsWith({ rate: 10 });
    const deep = `{"tokens":["u1"],"data":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    expect(await outcome(deps, bearerRequest(deep))).toBe('400 validation_failed');
  });
});
