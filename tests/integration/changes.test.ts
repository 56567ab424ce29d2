import { describe, expect, it } from 'vitest';
import type { Ack, ArchiveState, ListPage, NotificationRemove, NotificationUpdate, PreferencesState, WireNotification } from '../../lib/contract';
import { push, request, TEST_PUSH_KEY, tokenFor } from '../support/server';
import { connectClient, waitFor, waitForId, type ConnectedClient } from '../support/socket';
import { serverSuite } from '../support/suite';

/**
 * Notifications that change, end to end over HTTP and socket.io: collapse
 * (one item, the toast updated in place), PATCH, DELETE, expiry, archive
 * across tabs, mute, each live and after a catch-up, and the refusals
 * (404, 400) that leave the server running.
 */

const ACK_TIMEOUT_MS = 5_000;
const suite = serverSuite();
const connect = (userId: string): Promise<ConnectedClient> => suite.connect(userId);
const key = { 'content-type': 'application/json', authorization: `Bearer ${TEST_PUSH_KEY}` };

const api = (method: string, path: string, body?: unknown) =>
  request(suite.server.url, path, { method, headers: body === undefined ? { authorization: key.authorization } : key, body });
const list = (c: ConnectedClient, req: object) =>
  c.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('notifications:list', req) as Promise<Ack<ListPage>>;
const pageIds = async (c: ConnectedClient, req: object = { limit: 50 }) => ((await list(c, req)) as ListPage).items.map((i) => i.id);

async function pushOk(body: object): Promise<string> {
  const res = await push(suite.server.url, body);
  expect(res.status).toBe(202);
  return res.body.id as string;
}

describe('collapse', () => {
  it('replaces the unread item live, with the group and the id it replaces', async () => {
    const tab = await connect('ch-collapse');
    const first = await pushOk({ tokens: ['ch-collapse'], collapseKey: 'post-1', entityType: 'like', data: { actor: 'Bob' } });
    await waitForId(tab, first);
    const second = await pushOk({ tokens: ['ch-collapse'], collapseKey: 'post-1', entityType: 'like', data: { actor: 'Alice' } });
    await waitForId(tab, second);
    const live = tab.received.find((n) => n.id === second) as WireNotification;
    expect(live).toMatchObject({ collapseKey: 'post-1', replaces: [first], group: { actors: ['Alice', 'Bob'], count: 2, pushes: 2 } });
    expect(await pageIds(tab)).toEqual([second]);
    const later = await connect('ch-collapse');
    expect(later.synced[0]).toMatchObject({ unread: 1 });
  });

  it('replays the removal to a tab that slept through it', async () => {
    const first = await pushOk({ tokens: ['ch-sleep'], collapseKey: 'k' });
    const tab = await connectClient(suite.server.url, { token: await tokenFor('ch-sleep'), lastSeq: 0 });
    const seq = tab.received.find((n) => n.id === first)?.seq as number;
    tab.close();
    const second = await pushOk({ tokens: ['ch-sleep'], collapseKey: 'k' });
    const back = await connectClient(suite.server.url, { token: await tokenFor('ch-sleep'), lastSeq: seq });
    try {
      expect(back.received.map((n) => n.id)).toEqual([second]);
      const removal = back.events.find((e) => e.event === 'notification:remove')?.payload as NotificationRemove;
      expect(removal).toMatchObject({ ids: [first], reason: 'collapsed', replay: true });
    } finally {
      back.close();
    }
  });

  it('never touches another user through a crafted key', async () => {
    const victim = await pushOk({ tokens: ['ch-victim'], collapseKey: 'shared-key' });
    await pushOk({ tokens: ['ch-attacker'], collapseKey: 'shared-key' });
    const tab = await connect('ch-victim');
    expect(await pageIds(tab)).toEqual([victim]);
  });
});

describe('PATCH /api/notifications/:id', () => {
  it('changes the content on every tab, in place', async () => {
    const tab = await connect('ch-patch');
    const id = await pushOk({ tokens: ['ch-patch'], entityType: 'export', data: { text: 'Export 40 %' } });
    await waitForId(tab, id);
    const update = waitFor<NotificationUpdate>(tab.socket, 'notification:update');
    const res = await api('PATCH', `/api/notifications/${id}`, { data: { text: 'Export ready' } });
    expect(res).toMatchObject({ status: 200, body: { id, recipients: 1 } });
    expect(await update).toMatchObject({ id, entityType: 'export', data: { text: 'Export ready' } });
    expect(((await list(tab, { limit: 5 })) as ListPage).items[0]).toMatchObject({ id, data: { text: 'Export ready' } });
  });

  it('refuses an unknown id with 404 and a malformed body with 400', async () => {
    expect(await api('PATCH', '/api/notifications/never-pushed', { data: 1 })).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    const id = await pushOk({ tokens: ['ch-bad'] });
    for (const body of [{}, { data: 1, extra: true }, { entityType: 'bad type!' }, { data: { link: 'javascript:alert(1)' } }, [1], '"text"']) {
      const res = await api('PATCH', `/api/notifications/${id}`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
    expect(await api('PATCH', `/api/notifications/${id}`, '{"data":')).toMatchObject({ status: 400, body: { error: { code: 'invalid_json' } } });
    expect((await request(suite.server.url, `/api/notifications/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: { data: 1 } })).status).toBe(401);
  });
});

describe('DELETE /api/notifications/:id', () => {
  it('removes the item live with the corrected count, and from the inbox', async () => {
    const tab = await connect('ch-del');
    const keep = await pushOk({ tokens: ['ch-del'] });
    const gone = await pushOk({ tokens: ['ch-del', 'ch-del-2'] });
    await waitForId(tab, gone);
    const removal = waitFor<NotificationRemove>(tab.socket, 'notification:remove');
    expect(await api('DELETE', `/api/notifications/${gone}`)).toMatchObject({ status: 200, body: { id: gone, recipients: 2 } });
    expect(await removal).toMatchObject({ ids: [gone], reason: 'retracted', unread: 1 });
    expect(await pageIds(tab)).toEqual([keep]);
    expect(await api('DELETE', `/api/notifications/${gone}`)).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });

  it('removes one recipient only with ?userId=, and refuses bad queries', async () => {
    const id = await pushOk({ tokens: ['ch-one-a', 'ch-one-b'] });
    expect(await api('DELETE', `/api/notifications/${id}?userId=ch-one-b`)).toMatchObject({ status: 200, body: { recipients: 1 } });
    expect(await api('DELETE', `/api/notifications/${id}?userId=ch-one-b`)).toMatchObject({ status: 404 });
    expect(await pageIds(await connect('ch-one-a'))).toEqual([id]);
    expect((await api('DELETE', `/api/notifications/${id}?user=x`)).status).toBe(400);
    expect((await api('DELETE', `/api/notifications/${id}?userId=`)).status).toBe(400);
  });
});

describe('expiry', () => {
  it('removes an item once its ttl passes, live and from the inbox', async () => {
    const tab = await connect('ch-ttl');
    const id = await pushOk({ tokens: ['ch-ttl'], ttl: 1 });
    await waitForId(tab, id);
    expect(tab.received.find((n) => n.id === id)?.expiresAt).toEqual(expect.any(String));
    const removal = await waitFor<NotificationRemove>(tab.socket, 'notification:remove', 5_000);
    expect(removal).toMatchObject({ ids: [id], reason: 'expired', unread: 0 });
    expect(await pageIds(tab)).toEqual([]);
  });

  it('refuses ttl and expiresAt together, and an expiresAt in the past', async () => {
    for (const body of [
      { tokens: ['x'], ttl: 5, expiresAt: new Date(Date.now() + 60_000).toISOString() },
      { tokens: ['x'], expiresAt: '2001-01-01T00:00:00Z' },
      { tokens: ['x'], ttl: 0 },
      { tokens: ['x'], expiresAt: 'tomorrow' },
      { tokens: ['x'], priority: 'urgent' },
      { tokens: ['x'], collapseKey: 'has space' },
    ]) {
      const res = await push(suite.server.url, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
  });
});

describe('archive', () => {
  it('moves an item in every tab and between views', async () => {
    const [tabA, tabB] = await Promise.all([connect('ch-arch'), connect('ch-arch')]);
    const id = await pushOk({ tokens: ['ch-arch'] });
    await waitForId(tabB, id);
    const moved = waitFor<ArchiveState>(tabB.socket, 'notifications:archived');
    const ack = (await tabA.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('notifications:archive', { ids: [id] })) as Ack<ArchiveState>;
    expect(ack).toMatchObject({ ok: true, ids: [id], archived: true, unread: 0 });
    expect(await moved).toMatchObject({ ids: [id], archived: true });
    expect(await pageIds(tabB)).toEqual([]);
    expect(await pageIds(tabB, { limit: 5, view: 'archived' })).toEqual([id]);
    const bad = (await tabA.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('notifications:archive', { ids: 'x' } as never)) as Ack<ArchiveState>;
    expect(bad).toMatchObject({ ok: false, error: 'validation_failed' });
    expect(await list(tabA, { view: 'bin' })).toMatchObject({ ok: false, error: 'validation_failed' });
  });
});

describe('mute', () => {
  it('keeps a muted type out of the badge, tells every tab, and lets the backend read it', async () => {
    const tab = await connect('ch-mute');
    const told = waitFor<PreferencesState>(tab.socket, 'notifications:preferences');
    expect(await api('PUT', '/api/users/ch-mute/preferences', { mutedTypes: ['marketing'] })).toMatchObject({ status: 200, body: { mutedTypes: ['marketing'] } });
    expect(await told).toEqual({ mutedTypes: ['marketing'], unread: 0, headSeq: 0 });
    expect(await api('GET', '/api/users/ch-mute/preferences')).toMatchObject({ status: 200, body: { mutedTypes: ['marketing'] } });
    await pushOk({ tokens: ['ch-mute'], entityType: 'marketing' });
    const like = await pushOk({ tokens: ['ch-mute'], entityType: 'like' });
    await waitForId(tab, like);
    const later = await connect('ch-mute');
    expect(later.synced[0]).toMatchObject({ unread: 1, preferences: { mutedTypes: ['marketing'] } });
    expect((await pageIds(later)).length).toBe(2);
    const viaSocket = (await later.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('notifications:preferences', {})) as Ack<PreferencesState>;
    expect(viaSocket).toEqual({ ok: true, mutedTypes: ['marketing'], unread: 1, headSeq: later.synced[0]?.headSeq });
    // Unmuting counts the muted item again, though no tab was sent it as unread: every tab is told the new count.
    const recounted = waitFor<PreferencesState>(tab.socket, 'notifications:preferences');
    const unmuted = (await later.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('notifications:preferences', { mutedTypes: [] })) as Ack<PreferencesState>;
    expect(unmuted).toMatchObject({ ok: true, mutedTypes: [], unread: 2 });
    expect(await recounted).toMatchObject({ mutedTypes: [], unread: 2 });
    for (const body of [{ mutedTypes: 'x' }, { mutedTypes: ['bad type!'] }, { mutedTypes: [], more: 1 }]) {
      expect((await api('PUT', '/api/users/ch-mute/preferences', body)).status, JSON.stringify(body)).toBe(400);
    }
  });

  it('sends the new count with an update that moves an item into a muted type, to the user who mutes it only', async () => {
    const muter = await connect('ch-mute-up');
    const other = await connect('ch-mute-other');
    expect((await api('PUT', '/api/users/ch-mute-up/preferences', { mutedTypes: ['marketing'] })).status).toBe(200);
    const id = await pushOk({ tokens: ['ch-mute-up', 'ch-mute-other'], entityType: 'like' });
    await Promise.all([waitForId(muter, id), waitForId(other, id)]);
    const toMuter = waitFor<NotificationUpdate>(muter.socket, 'notification:update');
    const toOther = waitFor<NotificationUpdate>(other.socket, 'notification:update');
    expect((await api('PATCH', `/api/notifications/${id}`, { entityType: 'marketing' })).status).toBe(200);
    expect(await toMuter).toMatchObject({ id, entityType: 'marketing', unread: 0 });
    const seen = await toOther;
    expect(seen).toMatchObject({ id, entityType: 'marketing' });
    expect(seen.unread).toBeUndefined();
  });
});
