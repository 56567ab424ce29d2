import { TOAST_LIFETIME_MS } from '../app/components/ToastFeed';
import { VISIBLE_TOASTS } from '../store/toasts/slice';
import {
  announcedCount,
  connectionStatus,
  expect,
  expectUnread,
  feedItems,
  inboxPanel,
  mouseAway,
  openInbox,
  recordAnnouncements,
  test,
  toastRegion,
  toasts,
} from './support/fixtures';

test.describe('Delivery to the right browser', () => {
  test('a notification pushed to one user shows only in that user’s browser', async ({ openAs, user, pushTo }) => {
    const alice = user('alice');
    const bob = user('bob');
    const alicePage = await openAs(alice);
    const bobPage = await openAs(bob);

    const answer = await pushTo(alice, { data: 'Only for Alice' });
    expect(answer).toMatchObject({ recipients: 1, online: 1 });
    await expect(toasts(alicePage)).toHaveCount(1);
    await expect(toasts(alicePage).first()).toContainText('Only for Alice');
    await expect(feedItems(alicePage)).toHaveCount(1);

    // Bob's socket gets his own later push: had Alice's reached him, it would have come first.
    await pushTo(bob, { data: 'For Bob' });
    await expect(toasts(bobPage)).toHaveCount(1);
    await expect(toasts(bobPage).first()).toContainText('For Bob');
    await expect(feedItems(bobPage)).toHaveCount(1);
    await expect(bobPage.getByText('Only for Alice')).toHaveCount(0);
    await expect(alicePage.getByText('For Bob')).toHaveCount(0);
  });

  test('a user with two tabs sees the notification in both, once each, and one toast between them', async ({ browser, openAs, user, pushTo }) => {
    const carol = user('carol');
    const context = await browser.newContext();
    try {
      const first = await openAs(carol, { context });
      const second = await openAs(carol, { context });

      const answer = await pushTo(carol, { entityType: 'like', data: { actor: 'Dave', target: 'Shipping Herald' } });
      expect(answer).toMatchObject({ recipients: 1, online: 1 });
      for (const page of [first, second]) {
        await expect(feedItems(page)).toHaveCount(1);
        await expect(feedItems(page).first()).toContainText('Dave liked “Shipping Herald”');
      }
      // The browser shows it as a toast once, in one of its tabs (e2e/tabs.spec.ts: the one the user looks at).
      await expect.poll(async () => (await toasts(first).count()) + (await toasts(second).count())).toBe(1);
      const shown = (await toasts(first).count()) === 1 ? first : second;
      await expect(toasts(shown).first()).toContainText('Dave liked “Shipping Herald”');
    } finally {
      await context.close();
    }
  });

  test('a user signed in with a token from the backend receives their notifications', async ({ launchServer, openAs, user, pushTo }) => {
    const production = await launchServer({ mode: 'production' });
    const erin = user('erin');
    const page = await openAs(erin, { target: production });
    await expect(page.getByRole('button', { name: 'Send' })).toHaveCount(0);

    await pushTo(erin, { entityType: 'follow', data: { actor: 'Frank' } }, production);
    await expect(toasts(page).first()).toContainText('Frank started following you');
  });

  test('the demo form sends the signed-in user a sample notification', async ({ openAs, user }) => {
    const page = await openAs(user('gina'));
    await page.getByLabel('Send yourself').selectOption('comment');
    await page.getByRole('button', { name: 'Send' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Accepted' })).toHaveText('Accepted: delivered to 1 online user(s).');
    await expect(toasts(page).first()).toContainText('Bob commented on “Shipping Herald”');
    await expect(feedItems(page).first()).toContainText('This is exactly what we needed.');
  });
});

test.describe('Toasts', () => {
  test('a toast waits while hovered, then dismisses itself', async ({ openAs, user, pushTo }) => {
    const page = await openAs(user('hal'));
    await pushTo(user('hal'), { data: 'Read me slowly' });
    const toast = toasts(page).first();
    await expect(toast).toContainText('Read me slowly');

    // Hovered for longer than its lifetime: still there.
    await toast.hover();
    await page.waitForTimeout(TOAST_LIFETIME_MS + 1_000);
    await expect(toast).toBeVisible();

    // Left alone: gone within its lifetime (plus slack), while the list keeps it.
    await mouseAway(page);
    await expect(toasts(page)).toHaveCount(0, { timeout: TOAST_LIFETIME_MS + 5_000 });
    await expect(feedItems(page).first()).toContainText('Read me slowly');
  });

  test('the dismiss button removes a toast, by mouse and by keyboard', async ({ openAs, user, pushTo }) => {
    const ivy = user('ivy');
    const page = await openAs(ivy);
    await pushTo(ivy, { data: 'First' });
    await expect(toasts(page)).toHaveCount(1);
    await pushTo(ivy, { data: 'Second' });
    await expect(toasts(page)).toHaveCount(2);
    await expect(toasts(page).first()).toContainText('Second');

    // Clicking leaves the pointer over the feed, which pauses the other toast: only the click removes one.
    await toasts(page).first().getByRole('button', { name: 'Dismiss: Second' }).click();
    await expect(toasts(page)).toHaveCount(1);
    await expect(toasts(page).first()).toContainText('First');

    const dismiss = toasts(page).first().getByRole('button', { name: 'Dismiss: First' });
    await dismiss.focus();
    await expect(dismiss).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(toasts(page)).toHaveCount(0);
    await expect(feedItems(page)).toHaveCount(2);
  });

  test('five notifications at once show the newest three and one summary of the other two', async ({ openAs, user, pushTo }) => {
    const jay = user('jay');
    const page = await openAs(jay);
    const announced = await recordAnnouncements(page);
    for (let i = 1; i <= 5; i++) await pushTo(jay, { data: `Burst ${i}` });

    await expect(feedItems(page)).toHaveCount(5);
    await expect(toasts(page)).toHaveCount(VISIBLE_TOASTS + 1);
    await expect(toasts(page)).toContainText(['Burst 5', 'Burst 4', 'Burst 3', '2 more new notifications']);
    await expect(toasts(page).last()).toHaveAttribute('data-kind', 'summary');
    // The region is not a live region: the announcer speaks for it, once per burst, and counts every arrival.
    await expect(toastRegion(page)).not.toHaveAttribute('aria-live', /.+/);
    await expect.poll(() => announcedCount(announced)).toBe(5);

    // Hover to hold the stack still, then dismiss the newest: the rest stay as they were.
    await toasts(page).first().hover();
    await toasts(page).first().getByRole('button', { name: 'Dismiss: Burst 5' }).click();
    await expect(toasts(page)).toContainText(['Burst 4', 'Burst 3', '2 more new notifications']);
  });
});

test.describe('Untrusted content', () => {
  const payloads = [
    { entityType: 'message', data: '<img src=x onerror=alert(1)>', shows: '<img src=x onerror=alert(1)>' },
    {
      entityType: 'like',
      data: { actor: '<script>alert(2)</script>', target: '<img src=x onerror=alert(3)>' },
      shows: '<script>alert(2)</script> liked “<img src=x onerror=alert(3)>”',
    },
    {
      entityType: 'comment',
      data: { actor: '<b onmouseover=alert(4)>Mallory</b>', text: '<svg/onload=alert(5)>' },
      shows: '<b onmouseover=alert(4)>Mallory</b> commented on your post<svg/onload=alert(5)>',
    },
    { entityType: 'mention', data: { text: '"><iframe src="javascript:alert(6)"></iframe>' }, shows: '"><iframe src="javascript:alert(6)"></iframe>' },
    {
      entityType: 'follow',
      data: { actor: '<img src=x onerror="window.__heraldXss=1">' },
      shows: '<img src=x onerror="window.__heraldXss=1"> started following you',
    },
    { entityType: 'message', data: { html: '<img src=x onerror=alert(7)>' }, shows: 'New notificationHtml: <img src=x onerror=alert(7)>' },
  ] as const;

  test('HTML and script in a notification show as literal text and run nothing', async ({ openAs, user, pushTo }) => {
    const kim = user('kim');
    const page = await openAs(kim);
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss();
    });

    for (const { entityType, data } of payloads) await pushTo(kim, { entityType, data });

    // Newest first, each one word for word.
    await expect(feedItems(page)).toHaveText(payloads.map((p) => new RegExp(`^${escapeRegExp(p.shows)}`)).reverse());
    await expect(toasts(page)).toHaveText([...payloads.slice(-3).map((p) => p.shows).reverse(), /^3 more new notifications/]);
    await openInbox(page);
    await expect(inboxPanel(page).getByTestId('inbox-item')).toHaveCount(payloads.length);
    await expect(inboxPanel(page).getByText('<img src=x onerror=alert(1)>', { exact: true })).toBeVisible();

    // Pass the pointer over every toast (for onmouseover), then let a benign push through as a barrier.
    for (const toast of await toasts(page).all()) await toast.hover();
    await pushTo(kim, { data: 'barrier' });
    await expect(feedItems(page).first()).toContainText('barrier');

    const injected = page.locator('main, header, [aria-label="Notifications"], [data-testid="inbox-panel"]').locator(
      'img, script, iframe, b, svg[onload], [onerror], [onload], [onmouseover]',
    );
    await expect(injected).toHaveCount(0);
    expect(await page.evaluate(() => (window as unknown as { __heraldXss?: unknown }).__heraldXss)).toBeUndefined();
    expect(dialogs).toEqual([]);
  });
});

test.describe('Connection', () => {
  test('the page shows Reconnecting while the server is down, then Live again with a fresh token', async ({
    launchServer,
    openAs,
    user,
    pushTo,
  }) => {
    const first = await launchServer({ mode: 'test' });
    const lee = user('lee');
    const page = await openAs(lee, { target: first });
    await pushTo(lee, { data: 'Before the restart' }, first);
    await expect(toasts(page).first()).toContainText('Before the restart');
    await expect(connectionStatus(page)).toHaveText('Live');

    const tokenRequests: string[] = [];
    page.on('request', (req) => {
      if (new URL(req.url()).pathname === '/api/dev/token') tokenRequests.push(req.method());
    });

    expect(await first.server.stop()).toBe(0);
    await expect(connectionStatus(page)).toHaveAttribute('data-status', 'reconnecting');
    await expect(connectionStatus(page)).toHaveText('Reconnecting…');

    // Same port and inbox, new per-boot dev secret: the old token is refused and the page must get a new one.
    const second = await launchServer({ mode: 'test', port: first.server.port, dataDir: first.server.dataDir });
    await expect(connectionStatus(page)).toHaveAttribute('data-status', 'live', { timeout: 30_000 });
    await expect(connectionStatus(page)).toHaveText('Live');
    expect(tokenRequests).toContain('POST');

    await pushTo(lee, { data: 'After the restart' }, second);
    await expect(toasts(page).first()).toContainText('After the restart');
    await expect(feedItems(page)).toHaveCount(2);
  });

  test('after the server is killed and restarted, the page comes back and nothing pushed meanwhile is lost', async ({
    launchServer,
    openAs,
    user,
    pushTo,
  }) => {
    const first = await launchServer({ mode: 'test' });
    const mia = user('mia');
    const page = await openAs(mia, { target: first });
    await pushTo(mia, { data: 'Before the crash' }, first);
    await expect(toasts(page).first()).toContainText('Before the crash');

    await first.server.kill();
    await expect(connectionStatus(page)).toHaveAttribute('data-status', 'reconnecting');

    // Pushed as soon as the new server listens: the page gets it live or as catch-up, never not at all.
    const second = await launchServer({ mode: 'test', port: first.server.port, dataDir: first.server.dataDir });
    await pushTo(mia, { data: 'Right after the restart' }, second);
    await expect(connectionStatus(page)).toHaveAttribute('data-status', 'live', { timeout: 30_000 });
    await expectUnread(page, 2);
    await openInbox(page);
    await expect(inboxPanel(page).getByTestId('inbox-item')).toHaveText([/Right after the restart/, /Before the crash/]);
  });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
