import { TOAST_LIFETIME_MS } from '../app/components/ToastFeed';
import { request, TEST_PUSH_KEY } from '../tests/support/server';
import {
  connectionStatus,
  expect,
  expectUnread,
  feedItems,
  inboxItems,
  inboxPanel,
  openInbox,
  pushOrFail,
  recordMostToasts,
  setTab,
  signInAs,
  tabContext,
  test,
  toasts,
  type Herald,
} from './support/fixtures';

/**
 * Issue 23 on screen: notifications that change after delivery. A collapse
 * updates the toast and the inbox item in place, a PATCH rewrites them, a DELETE
 * and an expiry take them away, archiving moves them in every tab, and a muted
 * type is listed but never toasted.
 */

const asBackend = { authorization: `Bearer ${TEST_PUSH_KEY}`, 'content-type': 'application/json' };

async function changeNotification(herald: Herald, method: 'PATCH' | 'DELETE', id: string, body?: unknown): Promise<void> {
  const res = await request(herald.server.url, `/api/notifications/${encodeURIComponent(id)}`, { method, headers: asBackend, body });
  expect(res.status, `${method} answered ${res.status}: ${JSON.stringify(res.body)}`).toBe(200);
}

test('20 likes with one collapse key within 5 s show one toast that updates, one inbox item “… and 18 others”, and a badge of 1', async ({
  openAs,
  user,
  pushTo,
}) => {
  const u = user('likes');
  const page = await openAs(u);
  const mostToasts = await recordMostToasts(page);
  const started = Date.now();
  const first = await pushTo(u, { entityType: 'like', collapseKey: 'post:42:likes', data: { actor: 'Fan 1', target: 'Shipping Herald' } });
  await expect(toasts(page).first()).toContainText('Fan 1 liked “Shipping Herald”');
  for (let i = 2; i <= 20; i++) {
    await pushTo(u, { entityType: 'like', collapseKey: 'post:42:likes', data: { actor: `Fan ${i}`, target: 'Shipping Herald' } });
  }
  expect(Date.now() - started).toBeLessThan(5_000);

  const title = 'Fan 20, Fan 19 and 18 others liked “Shipping Herald”';
  await expect(toasts(page)).toHaveCount(1);
  await expect(toasts(page).first()).toContainText(title);
  // The same toast, updated in place: it still carries the first notification's key.
  await expect(toasts(page).first()).toHaveAttribute('data-focus-item', `n:${first.id}`);
  expect(await mostToasts()).toBe(1);
  await expectUnread(page, 1);
  await expect(feedItems(page)).toHaveCount(1);

  await openInbox(page);
  await expect(inboxItems(page)).toHaveCount(1);
  await expect(inboxItems(page).first()).toContainText(title);
  await expect(inboxItems(page).first()).toHaveAttribute('data-read', 'false');
});

test('a PATCH turns “Export 40 %” into “Export ready” in the toast, the feed and the inbox', async ({ herald, openAs, user, pushTo }) => {
  const u = user('export');
  const page = await openAs(u);
  const { id } = await pushTo(u, { entityType: 'export', data: 'Export 40 %' });
  await expect(toasts(page).first()).toContainText('Export 40 %');

  await changeNotification(herald, 'PATCH', id, { data: 'Export ready' });
  await expect(toasts(page)).toHaveCount(1);
  await expect(toasts(page).first()).toContainText('Export ready');
  await expect(feedItems(page).first()).toContainText('Export ready');
  await expectUnread(page, 1);

  await openInbox(page);
  await expect(inboxItems(page)).toHaveCount(1);
  await expect(inboxItems(page).first()).toContainText('Export ready');
  await expect(inboxItems(page).first()).not.toContainText('40 %');
});

test('a DELETE removes a visible toast and its inbox row, live, and corrects the badge', async ({ herald, openAs, user, pushTo }) => {
  const u = user('retract');
  const page = await openAs(u);
  await pushTo(u, { data: 'Keep me' });
  const mistake = await pushTo(u, { data: 'Sent by mistake' });
  await expect(toasts(page)).toHaveCount(2);
  await expectUnread(page, 2);

  await changeNotification(herald, 'DELETE', mistake.id);
  await expect(toasts(page)).toHaveCount(1);
  await expect(toasts(page).first()).toContainText('Keep me');
  await expect(feedItems(page)).toHaveCount(1);
  await expectUnread(page, 1);

  // With the inbox open, the row goes while it is looked at.
  await openInbox(page);
  await expect(inboxItems(page)).toHaveText([/Keep me/]);
  const another = await pushTo(u, { data: 'Also a mistake' });
  await expect(inboxItems(page)).toHaveText([/Also a mistake/, /Keep me/]);
  await changeNotification(herald, 'DELETE', another.id);
  await expect(inboxItems(page)).toHaveText([/Keep me/]);
  await expectUnread(page, 1);
});

test('an expired notification disappears from the toasts, the feed and the inbox', async ({ openAs, user, pushTo }) => {
  const u = user('expire');
  const page = await openAs(u);
  await pushTo(u, { data: 'Stays' });
  await pushTo(u, { data: 'Flash sale, two seconds only', ttl: 2 });
  await expect(toasts(page).first()).toContainText('Flash sale');
  await expectUnread(page, 2);
  // Well before a toast's own countdown (6 s) could have taken it.
  await expect(toasts(page).filter({ hasText: 'Flash sale' })).toHaveCount(0, { timeout: TOAST_LIFETIME_MS - 1_000 });
  await expect(feedItems(page)).toHaveText([/Stays/]);
  await expectUnread(page, 1);
  await openInbox(page);
  await expect(inboxItems(page)).toHaveText([/Stays/]);
});

test('archiving in one tab moves the item in another; unarchiving there moves it back', async ({ browser, herald, user, pushTo }) => {
  const u = user('archive');
  const context = await browser.newContext();
  try {
    const [one, two] = [await context.newPage(), await context.newPage()];
    await signInAs(one, u, herald);
    await signInAs(two, u, herald);
    await pushTo(u, { data: 'Quarterly report' });
    await pushTo(u, { data: 'Lunch menu' });
    for (const p of [one, two]) await expectUnread(p, 2);

    const panelOne = await openInbox(one);
    const panelTwo = await openInbox(two);
    await expect(inboxItems(two)).toHaveText([/Lunch menu/, /Quarterly report/]);

    await panelOne.getByRole('button', { name: 'Archive: Lunch menu' }).click();
    await expect(inboxItems(one)).toHaveText([/Quarterly report/]);
    await expect(inboxItems(two)).toHaveText([/Quarterly report/]);
    for (const p of [one, two]) await expectUnread(p, 1);

    await panelTwo.getByRole('tab', { name: 'Archived' }).click();
    await expect(panelTwo.getByRole('tab', { name: 'Archived' })).toHaveAttribute('aria-selected', 'true');
    await expect(inboxItems(two)).toHaveText([/Lunch menu/]);
    await panelTwo.getByRole('button', { name: 'Unarchive: Lunch menu' }).click();
    await expect(inboxItems(two)).toHaveCount(0);
    await expect(panelTwo.getByText('Nothing archived.', { exact: false })).toBeVisible();
    await expect(inboxItems(one)).toHaveText([/Lunch menu/, /Quarterly report/]);
    for (const p of [one, two]) await expectUnread(p, 2);

    // From the detail view too: opening it reads the item, Archive moves it, in both tabs.
    await panelOne.getByRole('button', { name: 'Unread: Quarterly report', exact: true }).click();
    await panelOne.getByTestId('detail-archive').click();
    await expect(panelOne.getByTestId('inbox-detail')).toContainText('Archived');
    await expect(panelOne.getByTestId('detail-archive')).toHaveText('Unarchive');
    await panelOne.getByRole('button', { name: 'Back to the inbox' }).click();
    await expect(inboxItems(one)).toHaveText([/Lunch menu/]);
    await panelTwo.getByRole('tab', { name: 'All' }).click();
    await expect(inboxItems(two)).toHaveText([/Lunch menu/]);
    for (const p of [one, two]) await expectUnread(p, 1);
  } finally {
    await context.close();
  }
});

test('the inbox’s views are tabs: arrow keys move between Unread, All and Archived', async ({ openAs, user, pushTo }) => {
  const u = user('tabs');
  const page = await openAs(u);
  await pushTo(u, { data: 'Read one' });
  await pushTo(u, { data: 'Unread one' });
  const panel = await openInbox(page);
  await panel.getByRole('button', { name: 'Mark read: Read one' }).click();
  const tab = (name: string) => panel.getByRole('tab', { name, exact: true });
  await expect(panel.getByRole('tablist', { name: 'Show' })).toBeVisible();
  await expect(tab('All')).toHaveAttribute('aria-selected', 'true');
  await tab('All').focus();
  await page.keyboard.press('ArrowLeft');
  await expect(tab('Unread')).toBeFocused();
  await expect(tab('Unread')).toHaveAttribute('aria-selected', 'true');
  await expect(panel.getByRole('tabpanel', { name: 'Unread' })).toBeVisible();
  await expect(inboxItems(page)).toHaveText([/Unread one/]);
  await page.keyboard.press('End');
  await expect(tab('Archived')).toBeFocused();
  await expect(inboxItems(page)).toHaveCount(0);
  await page.keyboard.press('ArrowRight');
  await expect(tab('Unread')).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('ArrowRight');
  await expect(tab('All')).toHaveAttribute('aria-selected', 'true');
  await expect(inboxItems(page)).toHaveText([/Unread one/, /Read one/]);
});

test('a muted type shows no toast but appears in the inbox, uncounted; a high-priority one is toasted still, and stays', async ({
  herald,
  openAs,
  user,
  pushTo,
}) => {
  const u = user('mute');
  const page = await openAs(u);
  await pushTo(u, { entityType: 'like', data: { actor: 'Alice', target: 'Holiday photos' } });
  await expectUnread(page, 1);

  // Muted from the inbox's settings.
  const panel = await openInbox(page);
  await panel.getByRole('button', { name: 'Notification settings' }).click();
  const mute = panel.getByRole('checkbox', { name: 'Mute like' });
  await mute.check();
  await expect(mute).toBeChecked();
  await expectUnread(page, 0);
  const prefs = await request(herald.server.url, `/api/users/${encodeURIComponent(u)}/preferences`, { headers: asBackend });
  expect(prefs.body).toMatchObject({ mutedTypes: ['like'] });
  await page.keyboard.press('Escape');
  await expect(inboxPanel(page)).toHaveCount(0);

  await pushTo(u, { entityType: 'like', data: { actor: 'Bob', target: 'Holiday photos' } });
  await pushTo(u, { entityType: 'comment', data: { actor: 'Carol', target: 'Holiday photos', text: 'Lovely' } });
  await expect(toasts(page)).toHaveCount(1);
  await expect(toasts(page).first()).toContainText('Carol commented');
  // The feed lists what arrived, muted or not: Alice's like, Bob's, Carol's comment.
  await expect(feedItems(page)).toHaveCount(3);
  await expectUnread(page, 1);

  await pushTo(u, { entityType: 'like', priority: 'high', data: { actor: 'Dan', target: 'Holiday photos' } });
  const urgent = toasts(page).filter({ hasText: 'Dan liked' });
  await expect(urgent).toContainText('High priority');
  await expect(urgent).toHaveAttribute('data-sticky', 'true');
  // Past every countdown: the comment's toast went, the high-priority one stays until dismissed.
  await page.waitForTimeout(TOAST_LIFETIME_MS + 1_500);
  await expect(toasts(page)).toHaveCount(1);
  await expect(urgent).toBeVisible();
  await urgent.getByRole('button', { name: /^Dismiss: / }).click();
  await expect(toasts(page)).toHaveCount(0);

  await openInbox(page);
  await expect(inboxItems(page)).toHaveCount(4);
  await expect(inboxItems(page).filter({ hasText: 'Bob liked' })).toContainText('Muted');
  await expect(inboxItems(page).filter({ hasText: 'Bob liked' })).toHaveAttribute('data-read', 'false');
});

test('preferences set by the backend hold in the page: a type muted with PUT is not toasted', async ({ herald, openAs, user, pushTo }) => {
  const u = user('put');
  const page = await openAs(u);
  const res = await request(herald.server.url, `/api/users/${encodeURIComponent(u)}/preferences`, {
    method: 'PUT',
    headers: asBackend,
    body: { mutedTypes: ['digest'] },
  });
  expect(res.status).toBe(200);
  await pushTo(u, { entityType: 'digest', data: 'Your weekly digest' });
  await pushTo(u, { data: 'A plain message' });
  await expect(toasts(page)).toHaveText([/A plain message/]);
  await expectUnread(page, 1);
  await openInbox(page);
  await expect(inboxItems(page)).toHaveText([/A plain message/, /Your weekly digest/]);
});

test('a tab that was away catches up on the changes: what was retracted is gone, what was updated is current', async ({ browser, launchServer, user }) => {
  // Every tab hidden for a second closes the connection; showing one reconnects with catch-up.
  const herald = await launchServer({ env: { CLIENT_IDLE_DISCONNECT_MS: '1000' } });
  const context = await browser.newContext();
  await tabContext(context);
  try {
    const u = user('away');
    const page = await context.newPage();
    await signInAs(page, u, herald);
    const progress = await pushOrFail(herald, u, { entityType: 'export', data: 'Export 40 %' });
    const mistake = await pushOrFail(herald, u, { data: 'Sent by mistake' });
    await expect(feedItems(page)).toHaveCount(2);
    await expectUnread(page, 2);

    await setTab(page, false, false);
    await expect(connectionStatus(page)).toHaveAttribute('data-status', 'paused');
    await changeNotification(herald, 'PATCH', progress.id, { data: 'Export ready' });
    await changeNotification(herald, 'DELETE', mistake.id);

    await setTab(page, true, true);
    await expect(connectionStatus(page)).toHaveAttribute('data-status', 'live');
    await expect(feedItems(page)).toHaveText([/Export ready/]);
    await expectUnread(page, 1);
    await openInbox(page);
    await expect(inboxItems(page)).toHaveText([/Export ready/]);
  } finally {
    await context.close();
  }
});
