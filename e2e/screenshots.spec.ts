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
  test,
  toasts,
  type PushBody,
} from './support/fixtures';

/**
 * What a user sees, saved as full-page PNGs in e2e/screenshots/ for people to
 * review (not compared pixel by pixel: fonts differ between machines). Each
 * shot first asserts that what it shows is there.
 */

const SHOTS_DIR = fileURLToPath(new URL('./screenshots/', import.meta.url));

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${SHOTS_DIR}${name}.png`, fullPage: true, animations: 'disabled', caret: 'hide' });
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
  { entityType: 'like', data: { actor: 'Alice', target: 'Shipping Herald' } },
];

// Readable ids for the pictures; other specs' users always carry a per-test suffix, so these never collide.
test.describe('Screenshots', () => {
  test('the sign-in page', async ({ page, herald }) => {
    await page.goto(herald.server.url);
    await expect(page.getByRole('heading', { name: 'Sign in to see your notifications live' })).toBeVisible();
    await expect(page.getByLabel('User id')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Sign in' })).toBeEnabled();
    await shoot(page, 'sign-in');
  });

  test('the demo with three toasts and “+2 more”', async ({ page, signIn, pushTo }) => {
    await signIn(page, 'alice');
    await mouseAway(page);
    for (const sample of SAMPLES) await pushTo('alice', sample);
    await expect(feedItems(page)).toHaveCount(SAMPLES.length);
    await expect(toasts(page)).toHaveCount(3);
    await expect(toasts(page).first()).toContainText('Alice liked “Shipping Herald”');
    await expect(page.getByTestId('toast-more')).toHaveText('+2 more');
    for (const toast of await toasts(page).all()) await expect(toast).toBeInViewport();
    await shoot(page, 'toasts');
  });

  test('the open inbox with read and unread items', async ({ page, signIn, pushTo }) => {
    for (const sample of SAMPLES) await pushTo('ben', sample);
    await pushTo('ben', { entityType: 'like', data: { actor: 'Eve', target: 'Weekly report' } });
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
    await expect(panel.getByText('That is everything.')).toBeVisible();
    await expect(panel).toBeInViewport();
    // Clicking scrolled the list to the buttons; show it from the newest, as it opens.
    await inboxItems(page).first().scrollIntoViewIfNeeded();
    await expect(inboxItems(page).first()).toBeInViewport();
    await mouseAway(page);
    await shoot(page, 'inbox');
  });

  test('the live feed of notifications received since the page opened', async ({ page, signIn, pushTo }) => {
    await signIn(page, 'cleo');
    await mouseAway(page);
    for (const sample of SAMPLES) await pushTo('cleo', sample);
    await expect(feedItems(page)).toHaveCount(SAMPLES.length);
    // Clear the toasts so the list itself is in view.
    for (let i = 0; i < SAMPLES.length && (await toasts(page).count()) > 0; i++) {
      await toasts(page).first().getByRole('button', { name: 'Dismiss notification' }).click();
    }
    await expect(toasts(page)).toHaveCount(0);
    await expect(feedItems(page).first()).toContainText('Alice liked “Shipping Herald”');
    await expect(feedItems(page).nth(1)).toContainText('Bob commented on “Shipping Herald”');
    await expect(page.getByRole('heading', { name: 'Received since this page opened' })).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Push a notification' })).toBeVisible();
    await expect(connectionStatus(page)).toHaveText('Live');
    await mouseAway(page);
    await shoot(page, 'live-feed');
  });
});
