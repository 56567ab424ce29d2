import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import {
  connectionStatus,
  expect,
  expectUnread,
  feedItems,
  inboxItems,
  inboxPanel,
  mouseAway,
  openInbox,
  test,
  toastRegion,
  toasts,
  type PushBody,
} from './support/fixtures';

/**
 * What a user sees, saved as PNGs in docs/screenshots/ for people to review
 * (not compared pixel by pixel: fonts differ between machines). Each shot first
 * asserts that what it shows is there.
 */

const SHOTS_DIR = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
const PHONE = { width: 390, height: 844 };
const SMALL_PHONE = { width: 375, height: 667 };

async function shoot(page: Page, name: string, { fullPage = false } = {}): Promise<void> {
  await page.screenshot({ path: `${SHOTS_DIR}${name}.png`, fullPage, animations: 'disabled', caret: 'hide' });
}

const SAMPLES: PushBody[] = [
  { entityType: 'message', data: 'Your export is ready to download.' },
  { entityType: 'mention', data: { actor: 'Dan', target: 'Release notes' } },
  { entityType: 'follow', data: { actor: 'Carol' } },
  {
    entityType: 'comment',
    data: {
      actor: 'Bob',
      target: 'Shipping Herald',
      text: 'This is exactly what we needed. One question though: does the inbox keep notifications for users who were offline for a whole week while the server restarted twice?',
    },
  },
  { entityType: 'like', data: { actor: 'Alice', target: 'Shipping Herald', link: 'https://example.com/posts/42' } },
];

/** Pushes the samples and waits until the stack shows the newest three and a summary of the rest. */
async function pushSamples(page: Page, userId: string, pushTo: (u: string, b: PushBody) => Promise<unknown>): Promise<void> {
  for (const sample of SAMPLES) await pushTo(userId, sample);
  await expect(feedItems(page)).toHaveCount(SAMPLES.length);
  await expect(toasts(page)).toHaveCount(4);
  await expect(toasts(page).first()).toContainText('Alice liked “Shipping Herald”');
  await expect(toasts(page).last()).toContainText('2 more new notifications');
}

// Readable ids for the pictures; other specs' users always carry a per-test suffix, so these never collide.
test.describe('Screenshots', () => {
  test('the sign-in page', async ({ page, herald }) => {
    await page.goto(herald.server.url);
    await expect(page.getByRole('heading', { name: 'Sign in to see your notifications live' })).toBeVisible();
    await expect(page.getByLabel('User id')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Sign in' })).toBeEnabled();
    await shoot(page, 'sign-in');
  });

  test('the desktop with a collapsed stack of toasts, then expanded', async ({ page, signIn, pushTo }) => {
    await signIn(page, 'alice');
    await mouseAway(page);
    await pushSamples(page, 'alice', pushTo);
    await expect(toastRegion(page)).toHaveAttribute('data-expanded', 'false');
    await shoot(page, 'toasts');

    await toasts(page).first().hover();
    await expect(toastRegion(page)).toHaveAttribute('data-expanded', 'true');
    for (const toast of await toasts(page).all()) await expect(toast).toBeInViewport();
    await shoot(page, 'desktop-toasts-expanded');
  });

  test('the open inbox with read and unread items, grouped by day', async ({ page, signIn, pushTo }) => {
    for (const sample of SAMPLES) await pushTo('ben', sample);
    await pushTo('ben', { entityType: 'deploy', data: { service: 'api', version: '2.4.1', region: 'eu-west-1' } });
    await signIn(page, 'ben');
    await mouseAway(page);
    await expectUnread(page, SAMPLES.length + 1);

    // The summary toast's button is how a returning user gets there.
    const summary = toasts(page).first();
    await expect(summary).toContainText('You have 6 unread notifications');
    await summary.getByRole('button', { name: 'Open inbox' }).click();
    const panel = inboxPanel(page);
    await expect(panel).toBeVisible();
    await expect(inboxItems(page)).toHaveCount(SAMPLES.length + 1);
    await panel.getByRole('button', { name: 'Mark read: Carol started following you' }).click();
    await panel.getByRole('button', { name: 'Mark read: Your export is ready to download.' }).click();
    await expectUnread(page, SAMPLES.length - 1);
    await expect(inboxItems(page).and(page.locator('[data-read="true"]'))).toHaveCount(2);
    await expect(panel.getByRole('heading', { name: 'Today' })).toBeVisible();
    await expect(panel.getByText('That is everything.')).toBeVisible();
    await expect(panel).toBeInViewport({ ratio: 1 });
    // Clicking scrolled the list to the buttons; show it from the newest, as it opens.
    await panel.getByTestId('inbox-scroll').evaluate((el) => el.scrollTo({ top: 0 }));
    await mouseAway(page);
    await shoot(page, 'inbox');
  });

  test('the open inbox after a burst of 200', async ({ page, signIn, pushTo }) => {
    await signIn(page, 'bea');
    await mouseAway(page);
    await Promise.all(Array.from({ length: 200 }, (_, i) => pushTo('bea', { entityType: 'comment', data: { actor: `Reviewer ${i + 1}`, target: 'Release 2.4', text: `Check ${i + 1} passed.` } })));
    await expectUnread(page, 200);
    await expect(toasts(page)).toHaveCount(4);
    await page.getByTestId('inbox-button').click();
    await expect(inboxPanel(page)).toBeVisible();
    await expect(toasts(page)).toHaveCount(0);
    await expect(inboxItems(page).first()).toBeVisible();
    await shoot(page, 'inbox-burst');
  });

  test('the inbox’s three views, with a collapsed group of likes, and the muted types', async ({ page, signIn, pushTo }) => {
    // Thirteen people like one post: one item, "Bob, Alice and 11 others".
    for (const actor of ['Mia', 'Leo', 'Ivy', 'Kai', 'Zoe', 'Eli', 'Ada', 'Max', 'Noa', 'Sam', 'Carol', 'Alice', 'Bob']) {
      await pushTo('gus', { entityType: 'like', collapseKey: 'post:7:likes', data: { actor, target: 'Shipping Herald' } });
    }
    await pushTo('gus', { entityType: 'follow', data: { actor: 'Carol' } });
    await pushTo('gus', { entityType: 'message', data: 'Your export is ready to download.' });
    await pushTo('gus', { entityType: 'comment', data: { actor: 'Dan', target: 'Release notes', text: 'Shipped. Thanks all!' } });
    await pushTo('gus', { entityType: 'deploy', priority: 'high', data: { actor: 'CI', text: 'Production deploy failed' } });
    await signIn(page, 'gus');
    await mouseAway(page);
    await expectUnread(page, 5);
    const panel = await openInbox(page);
    const group = inboxItems(page).filter({ hasText: 'Bob, Alice and 11 others liked “Shipping Herald”' });
    await expect(group).toHaveCount(1);
    await panel.getByRole('button', { name: 'Mark read: Carol started following you' }).click();
    await panel.getByRole('button', { name: 'Archive: Your export is ready to download.' }).click();
    await expect(inboxItems(page)).toHaveCount(4);
    await panel.getByTestId('inbox-scroll').evaluate((el) => el.scrollTo({ top: 0 }));
    await mouseAway(page);
    await shoot(page, 'inbox-grouped');

    await panel.getByRole('tab', { name: 'Unread' }).click();
    await expect(inboxItems(page)).toHaveCount(3);
    await mouseAway(page);
    await shoot(page, 'inbox-unread');

    await panel.getByRole('tab', { name: 'Archived' }).click();
    await expect(inboxItems(page)).toHaveText([/Your export is ready/]);
    await mouseAway(page);
    await shoot(page, 'inbox-archived');

    await panel.getByRole('tab', { name: 'All' }).click();
    await panel.getByRole('button', { name: 'Notification settings' }).click();
    await panel.getByRole('checkbox', { name: 'Mute follow' }).check();
    await expect(panel.getByRole('checkbox', { name: 'Mute follow' })).toBeChecked();
    await mouseAway(page);
    await shoot(page, 'inbox-settings');
  });

  test('the detail view of a long notification', async ({ page, signIn, pushTo }) => {
    const text = Array.from({ length: 12 }, (_, i) => `Paragraph ${i + 1}: the nightly export finished with warnings that need a look before Monday.`).join('\n\n');
    await pushTo('bo', { entityType: 'comment', data: { actor: 'Grace', target: 'Quarterly report', text } });
    await signIn(page, 'bo');
    const panel = await openInbox(page);
    await panel.getByRole('button', { name: /^Unread: Grace commented/ }).click();
    await expect(panel.getByTestId('detail-text')).toHaveText(text, { useInnerText: true });
    await shoot(page, 'inbox-detail');
  });

  test('the live feed of notifications received since the page opened', async ({ page, signIn, pushTo }) => {
    await signIn(page, 'cleo');
    await mouseAway(page);
    for (const sample of SAMPLES) await pushTo('cleo', sample);
    await expect(feedItems(page)).toHaveCount(SAMPLES.length);
    // Clear the toasts so the list itself is in view.
    while ((await toasts(page).count()) > 0) await toasts(page).first().getByRole('button', { name: /^Dismiss: / }).click();
    await expect(feedItems(page).first()).toContainText('Alice liked “Shipping Herald”');
    await expect(feedItems(page).nth(1)).toContainText('Bob commented on “Shipping Herald”');
    await expect(page.getByRole('heading', { name: 'Received since this page opened' })).toBeVisible();
    await expect(connectionStatus(page)).toHaveText('Live');
    await mouseAway(page);
    await shoot(page, 'live-feed', { fullPage: true });
  });

  for (const scheme of ['light', 'dark'] as const) {
    test(`a phone in ${scheme} mode, with toasts and then the inbox`, async ({ browser, herald, pushTo }) => {
      const context = await browser.newContext({ viewport: PHONE, colorScheme: scheme, hasTouch: true, isMobile: true, deviceScaleFactor: 2 });
      try {
        const page = await context.newPage();
        const userId = `dora-${scheme}`;
        await page.goto(herald.server.url);
        await page.getByLabel('User id').fill(userId);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await expect(connectionStatus(page)).toHaveAttribute('data-status', 'live');
        await pushSamples(page, userId, pushTo);
        await shoot(page, `phone-${scheme}`);

        await page.setViewportSize(SMALL_PHONE);
        await page.getByTestId('inbox-button').click();
        const panel = inboxPanel(page);
        await expect(panel.getByText('That is everything.')).toBeAttached();
        await expect(panel).toBeInViewport({ ratio: 1 });
        await shoot(page, `phone-inbox-${scheme}`);
      } finally {
        await context.close();
      }
    });
  }

  test('the desktop in dark mode', async ({ browser, herald, pushTo }) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, colorScheme: 'dark' });
    try {
      const page = await context.newPage();
      await page.goto(herald.server.url);
      await page.getByLabel('User id').fill('dina');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(connectionStatus(page)).toHaveAttribute('data-status', 'live');
      await mouseAway(page);
      await pushSamples(page, 'dina', pushTo);
      await toasts(page).first().hover();
      await expect(toastRegion(page)).toHaveAttribute('data-expanded', 'true');
      await shoot(page, 'desktop-dark');
    } finally {
      await context.close();
    }
  });
});
