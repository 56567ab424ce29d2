import type { Page } from '@playwright/test';
import {
  expect,
  expectUnread,
  feedItems,
  inboxItems,
  inboxPanel,
  openInbox,
  test,
  toasts,
  waitForNoConnections,
} from './support/fixtures';

const lastSeqOf = (page: Page, userId: string) =>
  page.evaluate((key) => window.localStorage.getItem(key), `herald:lastSeq:${userId}`);

test.describe('Catching up after an absence', () => {
  test('a user who was never online sees the unread count and one summary toast, not one toast each', async ({
    openAs,
    user,
    pushTo,
  }) => {
    const maya = user('maya');
    for (let i = 1; i <= 5; i++) {
      expect(await pushTo(maya, { data: `While offline ${i}` })).toMatchObject({ recipients: 1, online: 0 });
    }

    const page = await openAs(maya);
    await expectUnread(page, 5);
    await expect(toasts(page)).toHaveCount(1);
    await expect(toasts(page).first()).toHaveAttribute('data-kind', 'summary');
    await expect(toasts(page).first()).toContainText('You have 5 unread notifications');
    await expect(page.getByTestId('toast-more')).toHaveCount(0);
    await expect(feedItems(page)).toHaveCount(0);

    await openInbox(page);
    await expect(inboxItems(page)).toHaveCount(5);
    await expect(inboxItems(page).first()).toContainText('While offline 5');
    await expect(inboxItems(page).and(page.locator('[data-read="false"]'))).toHaveCount(5);
    // No toasts while the inbox is open, and none after: history never turns into toasts.
    await expect(toasts(page)).toHaveCount(0);
    await page.keyboard.press('Escape');
    await expect(inboxPanel(page)).toHaveCount(0);
    await expect(toasts(page)).toHaveCount(0);
  });

  test('a returning user gets what they missed as one “while you were away” toast', async ({ browser, herald, openAs, user, pushTo }) => {
    const noah = user('noah');
    const context = await browser.newContext();
    try {
      const before = await openAs(noah, { context });
      await pushTo(noah, { data: 'Seen live' });
      await expect(toasts(before).first()).toContainText('Seen live');
      await expect.poll(() => lastSeqOf(before, noah)).not.toBeNull();
      await before.close();
      await waitForNoConnections(herald);

      for (let i = 1; i <= 4; i++) {
        expect(await pushTo(noah, { data: `Missed ${i}` })).toMatchObject({ online: 0 });
      }

      const after = await openAs(noah, { context });
      await expect(toasts(after)).toHaveCount(1);
      await expect(toasts(after).first()).toHaveAttribute('data-kind', 'summary');
      await expect(toasts(after).first()).toContainText('4 new notifications while you were away');
      await expectUnread(after, 5);
      await expect(feedItems(after)).toHaveCount(0);

      // The summary's own button opens the inbox and goes away.
      await toasts(after).first().getByRole('button', { name: 'Open inbox' }).click();
      await expect(inboxPanel(after)).toBeVisible();
      await expect(toasts(after)).toHaveCount(0);
      await expect(inboxItems(after)).toHaveText([/Missed 4/, /Missed 3/, /Missed 2/, /Missed 1/, /Seen live/]);
    } finally {
      await context.close();
    }
  });
});

test.describe('Read state across tabs', () => {
  test('“Mark all as read” in one tab clears the badge in the other', async ({ browser, openAs, user, pushTo }) => {
    const olga = user('olga');
    const context = await browser.newContext();
    try {
      const first = await openAs(olga, { context });
      const second = await openAs(olga, { context });
      for (let i = 1; i <= 3; i++) await pushTo(olga, { data: `Unread ${i}` });
      await expectUnread(first, 3);
      await expectUnread(second, 3);

      const panel = await openInbox(first);
      await panel.getByRole('button', { name: 'Mark all as read' }).click();

      await expectUnread(second, 0);
      await expectUnread(first, 0);
      await expect(inboxItems(first)).toHaveCount(3);
      await expect(inboxItems(first).and(first.locator('[data-read="true"]'))).toHaveCount(3);
      await expect(panel.getByRole('button', { name: 'Mark all as read' })).toBeDisabled();
    } finally {
      await context.close();
    }
  });

  test('marking one notification read updates the other tab’s badge and list', async ({ browser, openAs, user, pushTo }) => {
    const pia = user('pia');
    const context = await browser.newContext();
    try {
      const first = await openAs(pia, { context });
      const second = await openAs(pia, { context });
      await pushTo(pia, { data: 'Alpha' });
      await pushTo(pia, { data: 'Beta' });
      await expectUnread(second, 2);

      await openInbox(second);
      await expect(inboxItems(second)).toHaveCount(2);
      await openInbox(first);
      await inboxPanel(first).getByRole('button', { name: 'Mark read: Alpha' }).click();

      await expectUnread(second, 1);
      await expect(inboxItems(second).filter({ hasText: 'Alpha' })).toHaveAttribute('data-read', 'true');
      await expect(inboxItems(second).filter({ hasText: 'Beta' })).toHaveAttribute('data-read', 'false');
      await expect(inboxPanel(second).getByRole('button', { name: 'Mark read: Alpha' })).toHaveCount(0);
      await expect(inboxPanel(second).getByRole('button', { name: 'Mark read: Beta' })).toBeVisible();
      await expectUnread(first, 1);
    } finally {
      await context.close();
    }
  });
});

test.describe('History', () => {
  test('the inbox loads older pages as it scrolls, through 60 notifications, newest first', async ({ openAs, user, pushTo }) => {
    const total = 60;
    const quinn = user('quinn');
    for (let i = 1; i <= total; i++) await pushTo(quinn, { data: `Notification ${i}` });

    const page = await openAs(quinn);
    await expectUnread(page, total);
    const panel = await openInbox(page);
    const first = await inboxItems(page).count();
    expect(first, 'the first page is not everything').toBeLessThan(total);
    const done = panel.getByText('That is everything.');
    const scroller = panel.getByTestId('inbox-scroll');

    for (let scrolls = 0; !(await done.isVisible()); scrolls++) {
      expect(scrolls, 'more scrolls than 60 notifications need').toBeLessThanOrEqual(20);
      const before = await inboxItems(page).count();
      await scroller.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
      await expect.poll(async () => (await inboxItems(page).count()) > before || (await done.isVisible())).toBe(true);
    }

    await expect(inboxItems(page)).toHaveCount(total);
    await expect(panel.getByRole('button', { name: 'Load older' })).toHaveCount(0);
    const seqs = await inboxItems(page).evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-seq'))));
    expect(seqs.every((seq, i) => Number.isSafeInteger(seq) && (i === 0 || seq < seqs[i - 1]!))).toBe(true);
    await expect(inboxItems(page).first().getByText(`Notification ${total}`, { exact: true })).toBeAttached();
    await expect(inboxItems(page).last().getByText('Notification 1', { exact: true })).toBeAttached();
    await expect(inboxItems(page).first().locator('time')).toHaveText('just now');
  });
});
