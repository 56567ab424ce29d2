import { describe, expect, it } from 'vitest';
import type { WireNotification } from '../../lib/contract';
import { push, request, TEST_PUSH_KEY } from '../support/server';
import { idsOf, waitForId, type ConnectedClient } from '../support/socket';
import { serverSuite } from '../support/suite';

/**
 * A backend that retries (a timeout, a crash before it read the answer) must not
 * notify twice: the same `id` or `Idempotency-Key` returns the first answer and
 * delivers nothing new; the same key with another body is a 409.
 */

const suite = serverSuite();
const connect = (userId: string): Promise<ConnectedClient> => suite.connect(userId);

/** Pushes a marker and waits for it: anything sent before it has arrived by then. */
async function barrier(client: ConnectedClient, userId: string): Promise<string> {
  const res = await push(suite.server.url, { tokens: [userId], entityType: 'barrier' });
  expect(res.status).toBe(202);
  await waitForId(client, res.body.id as string);
  return res.body.id as string;
}

async function stored(userId: string): Promise<WireNotification[]> {
  const res = await request(suite.server.url, `/api/notifications?userId=${userId}&limit=100`, {
    headers: { authorization: `Bearer ${TEST_PUSH_KEY}` },
  });
  expect(res.status).toBe(200);
  return res.body.items as WireNotification[];
}

describe('idempotent pushes', () => {
  it('delivers once when the same id is sent three times at once, and answers all three alike', async () => {
    const client = await connect('idem-id');
    const body = { tokens: ['idem-id'], id: 'invoice-1001:paid', data: { amount: 12 } };
    const answers = await Promise.all([push(suite.server.url, body), push(suite.server.url, body), push(suite.server.url, body)]);

    for (const a of answers) expect(a.status).toBe(202);
    expect(answers[0].body).toEqual({ id: 'invoice-1001:paid', recipients: 1, online: 1 });
    expect(answers[1].body).toEqual(answers[0].body);
    expect(answers[2].body).toEqual(answers[0].body);
    expect(answers.filter((a) => a.headers.get('idempotent-replayed') === 'true')).toHaveLength(2);

    const marker = await barrier(client, 'idem-id');
    expect(idsOf(client)).toEqual(['invoice-1001:paid', marker]);
    expect((await stored('idem-id')).filter((n) => n.id === 'invoice-1001:paid')).toHaveLength(1);
  });

  it('delivers once when the same Idempotency-Key is sent three times at once', async () => {
    const client = await connect('idem-key');
    const body = { tokens: ['idem-key'], entityType: 'comment', data: 'first!' };
    const headers = { 'idempotency-key': 'retry-7f3a' };
    const answers = await Promise.all([push(suite.server.url, body, headers), push(suite.server.url, body, headers), push(suite.server.url, body, headers)]);

    for (const a of answers) expect(a.status).toBe(202);
    expect(answers[0].body).toEqual({ id: expect.any(String), recipients: 1, online: 1 });
    expect(answers[1].body).toEqual(answers[0].body);
    expect(answers[2].body).toEqual(answers[0].body);

    const marker = await barrier(client, 'idem-key');
    expect(idsOf(client)).toEqual([answers[0].body.id, marker]);
    expect(await stored('idem-key')).toHaveLength(2);
  });

  it('returns the first answer to a later retry and delivers nothing new', async () => {
    const body = { tokens: ['idem-later'], id: 'welcome-idem-later' };
    const first = await push(suite.server.url, body);
    expect(first.body).toEqual({ id: 'welcome-idem-later', recipients: 1, online: 0 });

    // The user is online now; the retry still answers what the first push answered.
    const client = await connect('idem-later');
    const retry = await push(suite.server.url, body);
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');

    const marker = await barrier(client, 'idem-later');
    expect(idsOf(client)).toEqual([marker]);
    expect((await stored('idem-later')).map((n) => n.id)).toEqual([marker, 'welcome-idem-later']);
  });

  it('treats the same recipients in another order as the same push', async () => {
    const first = await push(suite.server.url, { tokens: ['idem-a', 'idem-b'], id: 'same-set' });
    const retry = await push(suite.server.url, { tokens: ['idem-b', 'idem-a'], id: 'same-set' });
    expect(first.status).toBe(202);
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual(first.body);
  });

  it.each([
    ['another data', { data: 'changed' }],
    ['other recipients', { tokens: ['idem-conflict', 'someone-else'] }],
    ['another entityType', { entityType: 'follow' }],
  ])('answers the same id with %s with 409 idempotency_conflict and delivers nothing', async (_, change) => {
    const id = `conflict-${Object.keys(change)[0]}`;
    const client = await connect('idem-conflict');
    const original = { tokens: ['idem-conflict'], id, entityType: 'like', data: 'original' };
    const first = await push(suite.server.url, original);
    expect(first.status).toBe(202);

    const conflict = await push(suite.server.url, { ...original, ...change });
    expect(conflict.status).toBe(409);
    expect(conflict.body).toEqual({ error: { code: 'idempotency_conflict', message: expect.any(String) } });

    const marker = await barrier(client, 'idem-conflict');
    expect(idsOf(client)).toEqual([id, marker]);
  });

  it('answers the same Idempotency-Key with another body with 409, even when sent at once', async () => {
    const client = await connect('idem-key-conflict');
    const headers = { 'idempotency-key': 'retry-conflict' };
    const [a, b] = await Promise.all([
      push(suite.server.url, { tokens: ['idem-key-conflict'], data: 'one' }, headers),
      push(suite.server.url, { tokens: ['idem-key-conflict'], data: 'two' }, headers),
    ]);
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    const conflict = a.status === 409 ? a : b;
    expect(conflict.body.error.code).toBe('idempotency_conflict');

    const winner = a.status === 202 ? a : b;
    const marker = await barrier(client, 'idem-key-conflict');
    expect(idsOf(client)).toEqual([winner.body.id, marker]);

    const later = await push(suite.server.url, { tokens: ['idem-key-conflict'], data: 'three' }, headers);
    expect(later.status).toBe(409);
  });

  it('refuses to reuse the id of an earlier notification under another Idempotency-Key', async () => {
    const first = await push(suite.server.url, { tokens: ['idem-reuse'], id: 'reused-id' }, { 'idempotency-key': 'key-one' });
    expect(first.status).toBe(202);
    const second = await push(suite.server.url, { tokens: ['idem-reuse'], id: 'reused-id' }, { 'idempotency-key': 'key-two' });
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('idempotency_conflict');
    expect(await stored('idem-reuse')).toHaveLength(1);
  });
});
