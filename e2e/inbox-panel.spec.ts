import type { Browser, Locator, Page } from '@playwright/test';
import {
  expect,
  expectUnread,
  feedItems,
  inboxButton,
  inboxItems,
  inboxPanel,
  openInbox,
  signInAs,
  test,
  toasts,
  type Herald,
} from './support/fixtures';

/** Issue 19's inbox: phones, focus, names, filters, links, the detail view, mark unread, times. */

const MIN_TARGET_PX = 44;

async function expectTarget(l: Locator, what: string) {
  // A trial click waits until the element has stopped moving (a toast slides in), and clicks nothing.
  await l.click({ trial: true });
  const b = await l.boundingBox();
  expect(b, `${what} is rendered`).not.toBeNull();
  expect(b!.width, `${what} width`).toBeGreaterThanOrEqual(MIN_TARGET_PX);
  expect(b!.height, `${what} height`).toBeGreaterThanOrEqual(MIN_TARGET_PX);
}

async function phone(browser: Browser, herald: Herald, userId: string, viewport: { width: number; height: number }): Promise<Page> {
  const context = await browser.newContext({ viewport, hasTouch: true, isMobile: true });
  const page = await context.newPage();
  await signInAs(page, userId, herald);
  return page;
}

test.describe('On a phone', () => {
  for (const viewport of [
    { width: 375, height: 667 },
    { width: 390, height: 844 },
  ]) {
    test(`at ${viewport.width}×${viewport.height} the header is one row, targets are 44 px, and the open inbox lies wholly on screen with no toast over it`, async ({
      browser,
      herald,
      user,
      pushTo,
    }) => {
      const u = user(`phone${viewport.width}`);
      const page = await phone(browser, herald, u, viewport);
      try {
        const header = page.getByRole('banner');
        expect((await header.boundingBox())!.height).toBeLessThanOrEqual(64);
        for (const control of [inboxButton(page), page.getByRole('button', { name: 'Sign out' }), page.getByTestId('connection-status')]) {
          await expect(control).toBeInViewport({ ratio: 1 });
        }
        await expectTarget(inboxButton(page), 'the bell');
        await expectTarget(page.getByRole('button', { name: 'Sign out' }), 'Sign out');

        for (let i = 1; i <= 5; i++) await pushTo(u, { entityType: 'like', data: { actor: `Fan ${i}`, target: 'Photo' } });
        await expect(toasts(page)).toHaveCount(4);
        await expect(toasts(page).first()).toBeInViewport({ ratio: 1 });
        await expectTarget(toasts(page).first().getByRole('button', { name: /^Dismiss: / }), 'a toast’s dismiss button');

        await inboxButton(page).tap();
        const panel = inboxPanel(page);
        await expect(panel.getByText('That is everything.')).toBeAttached();
        await expect(panel).toBeInViewport({ ratio: 1 });
        const b = (await panel.boundingBox())!;
        expect([b.x, b.y]).toEqual([0, 0]);
        expect(b.width).toBe(viewport.width);
        expect(b.height).toBeLessThanOrEqual(viewport.height);
        await expect(toasts(page)).toHaveCount(0);
        await pushTo(u, { data: 'While the sheet is open' });
        await expect(inboxItems(page).first()).toContainText('While the sheet is open');
        await expect(toasts(page)).toHaveCount(0);

        await expectTarget(panel.getByRole('button', { name: 'Mark all as read' }), 'Mark all as read');
        await expectTarget(panel.getByRole('button', { name: 'Close inbox' }), 'Close inbox');
        await expectTarget(panel.getByRole('tab', { name: 'Unread', exact: true }), 'the Unread tab');
        await expectTarget(panel.getByRole('button', { name: /^Mark read: / }).first(), 'an item’s Mark read');
        await panel.getByRole('button', { name: /^Mark read: / }).first().tap();
        await expectTarget(inboxItems(page).first().locator('[data-focus-role="main"]'), 'an item');
      } finally {
        await page.context().close();
      }
    });
  }
});

test.describe('Focus', () => {
  test('Escape and Close return focus to the bell; a click outside closes the panel', async ({ openAs, user, pushTo }) => {
    const u = user('focus');
    const page = await openAs(u);
    await pushTo(u, { data: 'Something' });

    await openInbox(page);
    await expect(inboxPanel(page).getByRole('heading', { name: /^Inbox/ })).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(inboxPanel(page)).toHaveCount(0);
    await expect(inboxButton(page)).toBeFocused();

    await openInbox(page);
    await inboxPanel(page).getByRole('button', { name: 'Close inbox' }).click();
    await expect(inboxPanel(page)).toHaveCount(0);
    await expect(inboxButton(page)).toBeFocused();

    await openInbox(page);
    await page.getByRole('heading', { name: 'Received since this page opened' }).click();
    await expect(inboxPanel(page)).toHaveCount(0);
  });

  test('marking an item read keeps focus on that item; in the Unread view it moves to the next one', async ({ openAs, user, pushTo }) => {
    const u = user('markread');
    const page = await openAs(u);
    for (const text of ['Oldest', 'Middle', 'Newest']) await pushTo(u, { data: text });
    const panel = await openInbox(page);

    await panel.getByRole('button', { name: 'Mark read: Newest' }).focus();
    await page.keyboard.press('Enter');
    await expect(inboxItems(page).first()).toHaveAttribute('data-read', 'true');
    // "Mark read" became "Mark unread" in the same place.
    await expect(panel.getByRole('button', { name: 'Mark unread: Newest' })).toBeFocused();

    await panel.getByRole('tab', { name: 'Unread', exact: true }).click();
    await expect(inboxItems(page)).toHaveCount(2);
    await panel.getByRole('button', { name: 'Mark read: Middle' }).focus();
    await page.keyboard.press('Enter');
    await expect(inboxItems(page)).toHaveCount(1);
    await expect(panel.getByRole('button', { name: 'Mark read: Oldest' })).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(inboxItems(page)).toHaveCount(0);
    await expect(panel.getByText('No unread notifications.')).toBeVisible();
    await expect(panel.getByRole('heading', { name: /^Inbox/ })).toBeFocused();

    await panel.getByRole('tab', { name: 'All', exact: true }).click();
    await expect(inboxItems(page)).toHaveCount(3);
  });

  test('“Load older”, reached from the keyboard, brings the next page and moves focus to its first item', async ({ openAs, user, pushTo }) => {
    const u = user('older');
    for (let i = 1; i <= 25; i++) await pushTo(u, { data: `Item ${i}` });
    const page = await openAs(u);
    const panel = await openInbox(page);
    await expect(inboxItems(page)).toHaveCount(20);
    // Focus scrolls the button into view, which is what loads the next page.
    await panel.getByRole('button', { name: 'Load older' }).focus();
    await expect(inboxItems(page)).toHaveCount(25);
    await expect(panel.getByRole('button', { name: 'Unread: Item 5', exact: true })).toBeFocused();
    await expect(panel.getByText('That is everything.')).toBeVisible();
  });

  test('signing in puts focus on the bell; signing out puts it on the user id field', async ({ page, signIn, user }) => {
    await signIn(page, user('signin'));
    await expect(inboxButton(page)).toBeFocused();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page.getByLabel('User id')).toBeFocused();
  });
});

test.describe('Names and structure', () => {
  test('the accessibility tree names unread items as unread, and read ones without it', async ({ openAs, user, pushTo }) => {
    const u = user('names');
    const page = await openAs(u);
    await pushTo(u, { data: 'Alpha' });
    await pushTo(u, { data: 'Beta' });
    const panel = await openInbox(page);
    await expect(panel.getByRole('button', { name: 'Unread: Alpha', exact: true })).toBeVisible();
    await expect(panel.getByRole('button', { name: 'Unread: Beta', exact: true })).toBeVisible();
    await panel.getByRole('button', { name: 'Mark read: Alpha' }).click();
    await expect(panel.getByRole('button', { name: 'Alpha', exact: true })).toBeVisible();
    await expect(panel.getByRole('button', { name: 'Unread: Alpha', exact: true })).toHaveCount(0);
    await expect(panel.getByRole('button', { name: 'Unread: Beta', exact: true })).toBeVisible();
  });

  test('each page has one h1, and the open panel adds no page landmarks', async ({ page, herald, signIn, user, pushTo }) => {
    await page.goto(herald.server.url);
    await expect(page.getByRole('heading', { level: 1 })).toHaveCount(1);
    const u = user('landmarks');
    await pushTo(u, { data: 'Hello' });
    await signIn(page, u);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Herald');
    await openInbox(page);
    await expect(page.getByRole('banner')).toHaveCount(1);
    await expect(page.getByRole('contentinfo')).toHaveCount(0);
    await expect(page.getByRole('main')).toHaveCount(1);
    await expect(inboxPanel(page).getByRole('heading', { name: 'Today' })).toBeVisible();
  });
});

test.describe('What an item shows and does', () => {
  test('a notification of an unknown shape shows no brace anywhere, but its fields as labelled text', async ({ openAs, user, pushTo }) => {
    const u = user('shape');
    const page = await openAs(u);
    await pushTo(u, { entityType: 'deploy', data: { build: { id: 42, status: 'green' }, tags: ['api', 'web'], ok: true } });
    await pushTo(u, { entityType: 'message', data: { actor: 'Frank', target: 'Design review' } });
    await pushTo(u, { entityType: 'follow', data: {} });

    await expect(toasts(page)).toHaveCount(3);
    const texts = async (l: Locator) => (await l.allTextContents()).join('\n');
    expect(await texts(toasts(page))).not.toContain('{');
    expect(await texts(feedItems(page))).not.toContain('{');
    await expect(toasts(page).nth(2)).toContainText('Build › Id: 42 · Build › Status: green · Tags: api, web · Ok: yes');
    await expect(toasts(page).nth(1)).toContainText('New notification from FrankAbout “Design review”');
    await expect(toasts(page).first()).toHaveText(/^New follower$/);

    const panel = await openInbox(page);
    expect(await texts(inboxItems(page))).not.toContain('{');
    await panel.getByRole('button', { name: 'Unread: New notification', exact: true }).click();
    const fields = panel.getByTestId('detail-fields');
    await expect(fields.locator('dt')).toHaveText(['Build › Id', 'Build › Status', 'Tags', 'Ok']);
    await expect(fields.locator('dd')).toHaveText(['42', 'green', 'api, web', 'yes']);
    expect(await texts(panel)).not.toContain('{');
  });

  test('an item with a link opens it and is marked read; its host and time read apart', async ({ openAs, user, pushTo }) => {
    const u = user('link');
    const page = await openAs(u);
    await pushTo(u, { data: { text: 'Your order shipped', link: 'https://shop.example/orders/42' } });
    const panel = await openInbox(page);
    const link = inboxItems(page).first().getByRole('link', { name: 'Unread: Your order shipped' });
    await expect(link.locator('.item-meta')).toHaveText('shop.example ↗ · just now');
    // Nothing listens at shop.example: the new tab's request is answered here.
    await page.context().route('https://shop.example/**', (route) => route.fulfill({ body: 'order page', contentType: 'text/plain' }));
    const [popup] = await Promise.all([page.waitForEvent('popup'), link.click()]);
    expect(popup.url()).toBe('https://shop.example/orders/42');
    await popup.close();
    await expect(inboxItems(page).first()).toHaveAttribute('data-read', 'true');
    await expectUnread(page, 0);
    await expect(panel.getByRole('link', { name: 'Your order shipped', exact: true })).toBeVisible();
  });

  test('an item without a link opens its detail view and is marked read; Back returns focus to it', async ({ openAs, user, pushTo }) => {
    const u = user('detail');
    const page = await openAs(u);
    const text = `${'Sixteen kilobytes of words. '.repeat(580)}Last words.`;
    expect(text.length).toBeGreaterThan(16_000);
    await pushTo(u, { entityType: 'comment', data: { actor: 'Zoe', text } });
    await pushTo(u, { data: 'Another' });
    const panel = await openInbox(page);
    // The list shows the start, clipped.
    await expect(inboxItems(page).nth(1).locator('.item-detail')).toHaveText(/…$/);
    await panel.getByRole('button', { name: 'Unread: Zoe commented on your post', exact: true }).click();
    await expect(panel.getByRole('heading', { name: 'Notification' })).toBeFocused();
    await expect(panel.getByTestId('detail-text')).toHaveText(text);
    await expectUnread(page, 1);

    await panel.getByRole('button', { name: 'Back to the inbox' }).click();
    await expect(panel.getByRole('button', { name: 'Zoe commented on your post', exact: true })).toBeFocused();
    // Escape from the detail view steps back to the list first.
    await page.keyboard.press('Enter');
    await expect(panel.getByTestId('inbox-detail')).toBeVisible();
    await page.keyboard.press('Escape');
    await expect(panel.getByTestId('inbox-detail')).toHaveCount(0);
    await expect(panel.getByRole('button', { name: 'Zoe commented on your post', exact: true })).toBeFocused();
  });

  test('the Unread view shows only unread items, and All shows everything again', async ({ openAs, user, pushTo }) => {
    const u = user('filter');
    const page = await openAs(u);
    for (const text of ['One', 'Two', 'Three']) await pushTo(u, { data: text });
    const panel = await openInbox(page);
    await panel.getByRole('button', { name: 'Mark read: Two' }).click();
    const unreadFilter = panel.getByRole('tab', { name: 'Unread', exact: true });
    await unreadFilter.click();
    await expect(unreadFilter).toHaveAttribute('aria-selected', 'true');
    await expect(inboxItems(page)).toHaveText([/Three/, /One/]);
    await panel.getByRole('tab', { name: 'All', exact: true }).click();
    await expect(inboxItems(page)).toHaveText([/Three/, /Two/, /One/]);
  });
});

test.describe('Mark unread', () => {
  test('marking a read item unread makes it unread again, on the server too', async ({ page, signIn, user, pushTo }) => {
    const u = user('unread');
    await signIn(page, u);
    await pushTo(u, { data: 'Again' });
    const panel = await openInbox(page);
    await panel.getByRole('button', { name: 'Mark read: Again' }).click();
    await expectUnread(page, 0);
    await panel.getByRole('button', { name: 'Mark unread: Again' }).click();
    await expect(inboxItems(page).first()).toHaveAttribute('data-read', 'false');
    await expectUnread(page, 1);
    await expect(panel.getByRole('button', { name: 'Mark read: Again' })).toBeFocused();
    // The server holds it unread: the page opened and signed in afresh says so.
    await signIn(page, u);
    await expectUnread(page, 1);
  });

  test('on a server that refuses notifications:unread, the control hides itself and says why', async ({ page, signIn, user, pushTo }) => {
    // A server without the event (an older Herald) answers with an error: given here on the socket's way to the server.
    await page.routeWebSocket(/\/socket\.io\//, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((message) => {
        const m = typeof message === 'string' ? /^42(\d+)\["notifications:unread",/.exec(message) : null;
        if (!m) return server.send(message);
        ws.send(`43${m[1]}[${JSON.stringify({ ok: false, error: 'internal_error', message: 'internal error' })}]`);
      });
      server.onMessage((message) => ws.send(message));
    });
    const u = user('nounread');
    await signIn(page, u);
    await pushTo(u, { data: 'Keep me' });
    const panel = await openInbox(page);
    await panel.getByRole('button', { name: 'Mark read: Keep me' }).click();
    await panel.getByRole('button', { name: 'Mark unread: Keep me' }).click();
    await expect(panel.getByRole('alert')).toHaveText('This server cannot mark notifications unread yet.');
    await expect(panel.getByRole('button', { name: /^Mark unread/ })).toHaveCount(0);
    await expect(inboxItems(page).first()).toHaveAttribute('data-read', 'true');
    // Focus stayed on the item.
    await expect(panel.getByRole('button', { name: 'Keep me', exact: true })).toBeFocused();
  });
});

test.describe('Theme', () => {
  test('the page follows a dark system theme, and a light one', async ({ page, signIn, user }) => {
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const luminance = (rgb: string) => {
      const [r, g, b] = (rgb.match(/\d+/g) ?? []).map(Number);
      return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0);
    };
    await page.emulateMedia({ colorScheme: 'dark' });
    await signIn(page, user('dark'));
    expect(luminance(await background())).toBeLessThan(40);
    expect(await page.evaluate(() => getComputedStyle(document.documentElement).colorScheme)).toBe('light dark');
    await page.emulateMedia({ colorScheme: 'light' });
    expect(luminance(await background())).toBeGreaterThan(200);
  });
});

test.describe('Times', () => {
  for (const [skew, label] of [
    [10 * 60_000, 'ten minutes fast'],
    [-5 * 60_000, 'five minutes slow'],
  ] as const) {
    test(`with the browser’s clock ${label}, what just arrived reads “just now”`, async ({ page, signIn, user, pushTo }) => {
      await page.clock.install({ time: Date.now() + skew });
      const u = user(`clock${skew > 0 ? 'fast' : 'slow'}`);
      await signIn(page, u);
      await pushTo(u, { data: 'On time' });
      await expect(feedItems(page).first().locator('time')).toHaveText('just now');
      const panel = await openInbox(page);
      await expect(panel.locator('time').first()).toHaveText('just now');
    });
  }
});
