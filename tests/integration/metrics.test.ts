import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMetrics, sumOf } from '../support/prometheus-text';
import { PollingSession } from '../support/rawPolling';
import { connectPacket } from '../support/rawSocket';
import { push, request, startServer, tokenFor, type TestServer } from '../support/server';
import { connectClient, connectError, eventually, type ConnectedClient } from '../support/socket';

/**
 * /metrics on a real server: locked without its token (and absent in
 * production without one), and every metric Herald defines moved by the
 * traffic that should move it.
 */

const METRICS_TOKEN = 'metrics-token-0123456789';
let server: TestServer;
let untokened: TestServer;
const open: ConnectedClient[] = [];

beforeAll(async () => {
  [server, untokened] = await Promise.all([
    startServer({ mode: 'production', env: { METRICS_TOKEN, PUSH_RATE_LIMIT: '20', MAX_CLIENT_QUEUE_BYTES: String(64 * 1024) } }),
    startServer({ mode: 'production' }),
  ]);
});

afterAll(async () => {
  for (const c of open) c.close();
  await Promise.all([server?.stop(), untokened?.stop()]);
  server?.cleanup();
  untokened?.cleanup();
});

async function scrape(): Promise<Map<string, number>> {
  const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(await res.text());
}

describe('/metrics access', () => {
  it('refuses a scrape without the token, or with another, and serves it with the token', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token-0123456789', `Basic ${METRICS_TOKEN}`]) {
      const res = await request(server.url, '/metrics', { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    }
    expect((await scrape()).size).toBeGreaterThan(0);
  });

  it('does not exist in production without METRICS_TOKEN', async () => {
    const res = await request(untokened.url, '/metrics');
    expect(res.status).toBe(404);
  });
});

describe('every metric moves with its traffic', () => {
  it('counts pushes, deliveries, connections, refusals, rate limits, slow consumers, dependencies and Node’s own', async () => {
    const before = await scrape();
    const delta = (now: Map<string, number>, name: string, labels: Record<string, string> = {}) => sumOf(now, name, labels) - sumOf(before, name, labels);

    // Two tabs of one user, one of another.
    for (const user of ['m-a', 'm-a', 'm-b']) open.push(await connectClient(server.url, { token: await tokenFor(user) }));
    // Pushes: 3 accepted, 1 replayed (same id), 1 refused (bad body).
    for (const [i, user] of ['m-a', 'm-b', 'm-nobody'].entries()) expect((await push(server.url, { id: `m-${i}`, tokens: [user] })).status).toBe(202);
    expect((await push(server.url, { id: 'm-0', tokens: ['m-a'] })).status).toBe(202);
    expect((await push(server.url, { tokens: 'not-a-list' })).status).toBe(400);
    await eventually(() => open[0]!.received.length === 1 && open[2]!.received.length === 1);
    // A refused handshake, a disconnect, and a catch-up replay of 1.
    expect(await connectError(server.url, { token: 'forged' })).toBe('unauthorized');
    open[1]!.close();
    const replayer = await connectClient(server.url, { token: await tokenFor('m-b'), lastSeq: 0 });
    open.push(replayer);
    // A slow consumer: a polling client of m-slow that stops polling, and 15 KB pushes past its 64 KiB cap.
    const slow = await PollingSession.open(server.port);
    await slow.send([connectPacket({ token: await tokenFor('m-slow') })]);
    await slow.pollUntil((p) => p.some((x) => x.startsWith('42["notifications:synced"')));
    for (let i = 0; i < 30; i++) await push(server.url, { tokens: ['m-slow'], data: 'x'.repeat(15_000) });
    // Over the push rate (20/s, bursts of 40).
    const burst = await Promise.all(Array.from({ length: 60 }, () => push(server.url, { tokens: ['m-nobody'] })));
    expect(burst.some((r) => r.status === 429)).toBe(true);

    let after = await scrape();
    for (let i = 0; i < 20 && delta(after, 'herald_slow_consumer_cuts_total') === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await scrape();
    }
    await slow.close();

    expect(delta(after, 'herald_pushes_total', { result: 'accepted', status: '202' })).toBe(3 + 30 + burst.filter((r) => r.status === 202).length);
    expect(delta(after, 'herald_pushes_total', { result: 'replayed', status: '202' })).toBe(1);
    expect(delta(after, 'herald_pushes_total', { result: 'refused', status: '400' })).toBe(1);
    expect(delta(after, 'herald_pushes_total', { result: 'refused', status: '429' })).toBe(burst.filter((r) => r.status === 429).length);
    expect(delta(after, 'herald_push_duration_seconds_count')).toBe(5 + 30 + 60);
    expect(delta(after, 'herald_http_requests_total', { route: 'push' })).toBe(5 + 30 + 60);
    expect(delta(after, 'herald_rate_limited_total', { limit: 'push' })).toBe(burst.filter((r) => r.status === 429).length);
    // Every accepted push was appended in some committed batch (the replay may reach the writer too, which recognizes its key).
    const stored = 3 + 30 + burst.filter((r) => r.status === 202).length;
    expect(delta(after, 'herald_inbox_batch_size_sum')).toBeGreaterThanOrEqual(stored);
    expect(delta(after, 'herald_inbox_batch_size_sum')).toBeLessThanOrEqual(stored + 1);
    expect(delta(after, 'herald_inbox_commit_seconds_count')).toBe(delta(after, 'herald_inbox_batch_size_count'));
    expect(delta(after, 'herald_inbox_commit_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(delta(after, 'herald_inbox_commit_seconds_sum')).toBeGreaterThan(0);
    // Live: 2 tabs of m-a, 1 of m-b, and the slow client's first few; replay: 1 to the returning m-b tab.
    expect(delta(after, 'herald_deliveries_total', { path: 'live' })).toBeGreaterThanOrEqual(3);
    expect(delta(after, 'herald_deliveries_total', { path: 'replay' })).toBe(1);
    expect(delta(after, 'herald_delivery_lag_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(delta(after, 'herald_connects_total')).toBe(5);
    expect(delta(after, 'herald_disconnects_total', { reason: 'client namespace disconnect' })).toBe(1);
    expect(delta(after, 'herald_connections_refused_total', { code: 'unauthorized' })).toBe(1);
    expect(delta(after, 'herald_slow_consumer_cuts_total', { cap: 'socket' })).toBe(1);
    // The gauges, once the cut polling client has gone too: m-a's remaining tab, m-b's two.
    for (let i = 0; i < 50 && sumOf(after, 'herald_sockets') !== 3; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await scrape();
    }
    expect(sumOf(after, 'herald_sockets')).toBe(3);
    expect(sumOf(after, 'herald_users')).toBe(2);
    expect(sumOf(after, 'herald_dependency_up', { dependency: 'sqlite' })).toBe(1);
    for (const name of ['herald_outbound_queued_bytes', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(after.has(name), name).toBe(true);
    }
    expect([...after.keys()].some((k) => k.startsWith('nodejs_gc_duration_seconds_count'))).toBe(true);
    // No label carries a user id or a notification id.
    for (const key of after.keys()) expect(key).not.toMatch(/m-a|m-b|m-slow|m-nobody|m-0/);
  });
});

describe('the Grafana dashboard', () => {
  it('queries only metrics this server exports', async () => {
    const dashboard = JSON.parse(readFileSync(new URL('../../docs/grafana/herald-dashboard.json', import.meta.url), 'utf8')) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    // Every family the server exports, whether or not it has samples yet; a histogram's series carry suffixes.
    const families = new Set([...(await res.text()).matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] as string));
    const family = (name: string) => name.replace(/_(bucket|count|sum)$/, '');
    const queried = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/\b(?:herald|nodejs|process)_[a-z0-9_]+/g) ?? []));
    expect(queried.length).toBeGreaterThan(10);
    for (const name of new Set(queried)) expect(families.has(name) || families.has(family(name)), name).toBe(true);
  });
});
