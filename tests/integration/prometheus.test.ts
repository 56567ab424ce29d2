import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { push, startServer, tokenFor, type TestServer } from '../support/server';
import { freePort } from '../support/services';
import { connectClient, type ConnectedClient } from '../support/socket';

/**
 * A real Prometheus (Debian's `prometheus`, started here on a free port with
 * its own storage) scrapes two Herald nodes every second with the metrics
 * token, and its query API agrees with what the test did: the sockets it
 * opened, the pushes it sent.
 */

const METRICS_TOKEN = 'metrics-token-0123456789';
let nodes: TestServer[] = [];
let prometheus: ChildProcess | undefined;
let dir: string;
let promUrl: string;
const tabs: ConnectedClient[] = [];
const promLogs: string[] = [];

beforeAll(async () => {
  nodes = await Promise.all([0, 1].map(() => startServer({ mode: 'production', env: { METRICS_TOKEN } })));
  dir = mkdtempSync(path.join(tmpdir(), 'herald-prometheus-'));
  const config = [
    'global: { scrape_interval: 1s, evaluation_interval: 1s }',
    'scrape_configs:',
    '  - job_name: herald',
    '    authorization: { type: Bearer, credentials: ' + JSON.stringify(METRICS_TOKEN) + ' }',
    `    static_configs: [ { targets: [${nodes.map((n) => `"127.0.0.1:${n.port}"`).join(', ')}] } ]`,
  ].join('\n');
  writeFileSync(path.join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  prometheus = spawn(
    'prometheus',
    [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const keep = (c: Buffer) => promLogs.push(...c.toString().split('\n').filter(Boolean).slice(-20));
  prometheus.stdout?.on('data', keep);
  prometheus.stderr?.on('data', keep);
  const spawnFailed = new Promise<never>((_, reject) =>
    prometheus?.once('error', (err) => reject(new Error(`cannot start prometheus (${err.message}): install Debian's prometheus`))),
  );
  for (let i = 0; i < 100; i++) {
    const ready = await Promise.race([fetch(`${promUrl}/-/ready`).then((r) => r.ok, () => false), spawnFailed]);
    if (ready) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`prometheus did not become ready:\n${promLogs.join('\n')}`);
}, 60_000);

afterAll(async () => {
  for (const t of tabs) t.close();
  prometheus?.kill('SIGTERM');
  await Promise.all(nodes.map((n) => n.stop()));
  for (const n of nodes) n.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** One instant query's value (0 when the result is empty). */
async function query(expr: string): Promise<number> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; data: { result: Array<{ value: [number, string] }> } };
  expect(body.status).toBe('success');
  return Number(body.data.result[0]?.value[1] ?? 0);
}

/** Waits (at most 20 s, Prometheus scraping every second) until `expr` evaluates to `want`; resolves the last value. */
async function settlesAt(expr: string, want: number): Promise<number> {
  let value = NaN;
  for (let i = 0; i < 100; i++) {
    value = await query(expr);
    if (value === want) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return value;
}

it('scrapes two nodes: the cluster’s sockets are the tabs the test opened, its accepted pushes the pushes it sent', async () => {
  const [a, b] = nodes as [TestServer, TestServer];
  for (const [node, user] of [
    [a, 'p-1'],
    [a, 'p-1'],
    [a, 'p-2'],
    [b, 'p-3'],
    [b, 'p-4'],
  ] as const) {
    tabs.push(await connectClient(node.url, { token: await tokenFor(user) }));
  }
  for (const [node, count] of [
    [a, 4],
    [b, 3],
  ] as const) {
    for (let i = 0; i < count; i++) expect((await push(node.url, { tokens: ['p-1', 'p-3'] })).status).toBe(202);
  }
  expect(await settlesAt('sum(herald_sockets)', 5)).toBe(5);
  expect(await settlesAt('sum(herald_pushes_total{result="accepted"})', 7)).toBe(7);
  expect(await query('count(up{job="herald"} == 1)')).toBe(2);
}, 60_000);
