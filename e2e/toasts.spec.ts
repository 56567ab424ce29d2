import type { Locator, Page } from '@playwright/test';
import { TOAST_LIFETIME_MS } from '../app/components/ToastFeed';
import { VISIBLE_TOASTS } from '../store/toasts/slice';
import {
  announcedCount,
  expect,
  expectUnread,
  feedItems,
  inboxButton,
  inboxItems,
  inboxPanel,
  mouseAway,
  openInbox,
  recordAnnouncements,
  recordMostToasts,
  test,
  toastRegion,
  toasts,
} from './support/fixtures';

/** Issue 19's toasts: countdowns that resume, focus that stays, bursts that fold, a stack that fits the screen. */

/** Gone within a toast's lifetime plus 2 seconds of slack. */
const GONE = { timeout: TOAST_LIFETIME_MS + 2_000 };

const box = async (l: Locator) => {
  const b = await l.boundingBox();
  if (!b) throw new Error('not rendered');
  return b;
};
const overlaps = (a: { x: number; y: number; width: number; height: number }, b: typeof a) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

async function pushThree(page: Page, userId: string, pushTo: (u: string, b: object) => Promise<unknown>) {
  for (const text of ['First', 'Second', 'Third']) await pushTo(userId, { data: text });
  await expect(toasts(page)).toHaveCount(3);
}

test.describe('Toast countdowns after a dismissal', () => {
  test('after dismissing one toast with the mouse, the others disappear within their lifetime plus 2 s once the pointer leaves', async ({
    openAs,
    user,
    pushTo,
  }) => {
    const u = user('mouse');
    const page = await openAs(u);
    await pushThree(page, u, pushTo);

    await toasts(page).first().getByRole('button', { name: 'Dismiss: Third' }).click();
    await expect(toasts(page)).toHaveCount(2);
    // The click's focus went on to the next toast rather than to the page.
    await expect(toasts(page).first().getByRole('button', { name: 'Dismiss: Second' })).toBeFocused();

    await mouseAway(page);
    await expect(toasts(page)).toHaveCount(0, GONE);
    await expect(feedItems(page)).toHaveCount(3);
  });

  test('after dismissing one toast from the keyboard, focus moves to the next; once focus leaves, the rest disappear within their lifetime plus 2 s', async ({
    openAs,
    user,
    pushTo,
  }) => {
    const u = user('keys');
    const page = await openAs(u);
    await pushThree(page, u, pushTo);

    await toasts(page).first().getByRole('button', { name: 'Dismiss: Third' }).focus();
    await page.keyboard.press('Enter');
    await expect(toasts(page)).toHaveCount(2);
    const next = toasts(page).first().getByRole('button', { name: 'Dismiss: Second' });
    await expect(next).toBeFocused();
    // Keyboard focus inside holds the toasts (and shows them all).
    await expect(toastRegion(page)).toHaveAttribute('data-expanded', 'true');

    // Escape leaves the toasts for the bell; they count down again.
    await page.keyboard.press('Escape');
    await expect(inboxButton(page)).toBeFocused();
    await expect(toastRegion(page)).toHaveAttribute('data-expanded', 'false');
    await expect(toasts(page)).toHaveCount(0, GONE);
  });

  test('dismissing the last toast from the keyboard puts focus on the bell, not the page', async ({ openAs, user, pushTo }) => {
    const u = user('last');
    const page = await openAs(u);
    await pushTo(u, { data: 'Only one' });
    await toasts(page).first().getByRole('button', { name: 'Dismiss: Only one' }).focus();
    await page.keyboard.press('Enter');
    await expect(toasts(page)).toHaveCount(0);
    await expect(inboxButton(page)).toBeFocused();
  });

  test('toasts that do not fit on the screen count down too', async ({ openAs, user, pushTo }) => {
    const u = user('queue');
    const page = await openAs(u);
    for (let i = 1; i <= 6; i++) await pushTo(u, { data: `Queued ${i}` });
    await expect(toasts(page)).toHaveCount(VISIBLE_TOASTS + 1);
    await expect(toasts(page)).toHaveCount(0, GONE);
  });
});

test.describe('Bursts', () => {
  test('200 pushes in a burst leave at most three toasts and one summary, announced in a few sentences, and no toast of a read notification', async ({
    browser,
    openAs,
    user,
    pushTo,
  }) => {
    test.slow();
    const u = user('burst');
    const context = await browser.newContext();
    try {
      const page = await openAs(u, { context });
      // The other tab is in a browser profile of its own: in the same one, the two would share one
      // stack of toasts, shown in whichever the user looks at (e2e/tabs.spec.ts).
      const other = await openAs(u);
      const announced = await recordAnnouncements(page);
      // Sample the stack while the burst arrives: it never holds more than three toasts and a summary.
      const mostToasts = await recordMostToasts(page);

      await Promise.all(Array.from({ length: 200 }, (_, i) => pushTo(u, { data: `Burst ${i + 1}` })));
      await expectUnread(page, 200);
      await expect(feedItems(page)).toHaveCount(200);
      await expect(toasts(page)).toHaveCount(VISIBLE_TOASTS + 1);
      await expect(toasts(page).last()).toHaveAttribute('data-kind', 'summary');
      await expect(toasts(page).last()).toContainText('197 more new notifications');
      expect(await mostToasts()).toBeLessThanOrEqual(VISIBLE_TOASTS + 1);
      // Every arrival is announced, in a handful of sentences rather than 200.
      await expect.poll(() => announcedCount(announced)).toBe(200);
      expect((await announced.texts()).length).toBeLessThanOrEqual(10);

      // The pointer over the stack holds the toasts while the other tab is used.
      await toasts(page).first().hover();
      // Reading the front notification in the other browser takes its toast away here.
      const front = await toasts(page).first().locator('.toast-title').textContent();
      await openInbox(other);
      await inboxPanel(other).getByRole('button', { name: `Mark read: ${front}`, exact: true }).click();
      await expect(toasts(page).filter({ hasText: front ?? '' })).toHaveCount(0);
      await expect(toasts(page)).toHaveCount(VISIBLE_TOASTS);

      // Read everything there: every toast here goes, the summary too.
      await inboxPanel(other).getByRole('button', { name: 'Mark all as read' }).click();
      await expect(toasts(page)).toHaveCount(0);
    } finally {
      await context.close();
    }
  });

  test('notifications caught up as already read raise no toast and no summary', async ({ browser, openAs, user, pushTo }) => {
    const u = user('read');
    // Seqs are shared by all users: one for someone else first, so this user's start above 1.
    await pushTo(user('someone-else'), { data: 'Elsewhere' });
    const first = await openAs(u);
    await pushTo(u, { data: 'Read elsewhere 1' });
    await pushTo(u, { data: 'Read elsewhere 2' });
    await expect(feedItems(first)).toHaveCount(2);
    const panel = await openInbox(first);
    await panel.getByRole('button', { name: 'Mark all as read' }).click();
    await expectUnread(first, 0);
    const lastSeq = Number(await first.evaluate((key) => localStorage.getItem(key), `herald:lastSeq:${u}`));
    expect(lastSeq).toBeGreaterThan(2);

    // Another browser that last saw the notification before these two: the catch-up replays them, read.
    const context = await browser.newContext();
    try {
      await context.addInitScript(([key, seq]) => localStorage.setItem(key, seq), [`herald:lastSeq:${u}`, String(lastSeq - 2)] as const);
      const second = await openAs(u, { context });
      await pushTo(u, { data: 'Barrier' });
      await expect(toasts(second)).toHaveText([/Barrier/]);
    } finally {
      await context.close();
    }
  });
});

test.describe('The stack', () => {
  const LONG = `A very long title ${'that goes on and on '.repeat(40)}`;

  test('collapsed, it shows the newest toast in front; hovering or keyboard focus expands it, and it never reaches above the screen', async ({
    page,
    signIn,
    user,
    pushTo,
  }) => {
    await page.setViewportSize({ width: 1280, height: 720 });
    const u = user('stack');
    await signIn(page, u);
    await mouseAway(page);
    for (let i = 1; i <= 5; i++) await pushTo(u, { entityType: 'comment', data: { actor: `Person ${i}`, text: LONG } });
    await expect(toasts(page)).toHaveCount(VISIBLE_TOASTS + 1);
    await expect(toastRegion(page)).toHaveAttribute('data-expanded', 'false');

    // Collapsed: the front toast is in full, and the stack is barely taller than it.
    const front = await box(toasts(page).first());
    const stack = await box(page.getByTestId('toast-stack'));
    expect(stack.height).toBeLessThan(front.height + 40);
    // Titles and texts are clamped: one toast stays small, however long its text.
    expect(front.height).toBeLessThan(200);

    await toasts(page).first().hover();
    await expect(toastRegion(page)).toHaveAttribute('data-expanded', 'true');
    for (const toast of await toasts(page).all()) {
      const b = await box(toast);
      if (!(await toast.isVisible())) continue;
      expect(b.y).toBeGreaterThanOrEqual(0);
    }
    const expanded = await box(page.getByTestId('toast-stack'));
    expect(expanded.y).toBeGreaterThanOrEqual(0);

    await mouseAway(page);
    await expect(toastRegion(page)).toHaveAttribute('data-expanded', 'false');
  });

  test('on a short screen what does not fit waits behind “+N more”, which opens the inbox', async ({ page, signIn, user, pushTo }) => {
    await page.setViewportSize({ width: 800, height: 360 });
    const u = user('short');
    await signIn(page, u);
    await mouseAway(page);
    for (let i = 1; i <= 5; i++) await pushTo(u, { entityType: 'comment', data: { actor: `Person ${i}`, text: LONG } });
    await expect(feedItems(page)).toHaveCount(5);
    await toasts(page).first().hover();
    const more = page.getByTestId('toast-more');
    await expect(more).toHaveText(/^\+\d more · Open inbox$/);
    // What is drawn and what waits add up to the three newest and the summary.
    const waiting = Number(/\d/.exec((await more.textContent()) ?? '')?.[0]);
    expect((await toasts(page).count()) + waiting).toBe(VISIBLE_TOASTS + 1);
    expect((await box(page.getByTestId('toast-stack'))).y).toBeGreaterThanOrEqual(0);
    expect((await box(more)).y).toBeGreaterThanOrEqual(0);
    await more.click();
    await expect(inboxPanel(page)).toBeVisible();
    await expect(toasts(page)).toHaveCount(0);
  });

  test('at 1280×720 the collapsed stack leaves the demo’s Send button uncovered', async ({ page, signIn, user, pushTo }) => {
    await page.setViewportSize({ width: 1280, height: 720 });
    const u = user('send');
    await signIn(page, u);
    await mouseAway(page);
    for (let i = 1; i <= 5; i++) await pushTo(u, { entityType: 'comment', data: { actor: `Person ${i}`, text: LONG } });
    await expect(toasts(page)).toHaveCount(VISIBLE_TOASTS + 1);
    const send = await box(page.getByRole('button', { name: 'Send' }));
    expect(overlaps(send, await box(page.getByTestId('toast-stack')))).toBe(false);
    await page.getByRole('button', { name: 'Send' }).click({ trial: true });
  });

  test('each toast’s buttons have their own names', async ({ openAs, user, pushTo }) => {
    const u = user('names');
    const page = await openAs(u);
    await pushTo(u, { entityType: 'like', data: { actor: 'Alice', target: 'Launch' } });
    await pushTo(u, { entityType: 'follow', data: { actor: 'Bob' } });
    await expect(page.getByRole('button', { name: 'Dismiss: Alice liked “Launch”', exact: true })).toHaveCount(1);
    await expect(page.getByRole('button', { name: 'Dismiss: Bob started following you', exact: true })).toHaveCount(1);
  });
});

test.describe('Toasts and the inbox', () => {
  test('opening the inbox clears the toasts, and nothing is toasted while it is open or after it closes', async ({ openAs, user, pushTo }) => {
    const u = user('open');
    const page = await openAs(u);
    await pushTo(u, { data: 'Before opening' });
    await expect(toasts(page)).toHaveCount(1);
    await openInbox(page);
    await expect(toasts(page)).toHaveCount(0);

    await pushTo(u, { data: 'While open' });
    await expect(inboxItems(page).first()).toContainText('While open');
    await expect(toasts(page)).toHaveCount(0);
    await page.keyboard.press('Escape');
    await expect(inboxPanel(page)).toHaveCount(0);
    await pushTo(u, { data: 'After closing' });
    await expect(toasts(page)).toHaveText([/After closing/]);

    // The feed still keeps focus after the inbox has come and gone.
    await pushTo(u, { data: 'And another' });
    await toasts(page).first().getByRole('button', { name: 'Dismiss: And another' }).focus();
    await page.keyboard.press('Enter');
    await expect(toasts(page).first().getByRole('button', { name: 'Dismiss: After closing' })).toBeFocused();
  });

  test('a clipped toast offers “Read all”, which opens the whole text in the inbox', async ({ openAs, user, pushTo }) => {
    const u = user('long');
    const page = await openAs(u);
    const text = `${'All of it matters. '.repeat(800)}The end.`;
    await pushTo(u, { entityType: 'comment', data: { actor: 'Ann', text } });
    await toasts(page).first().getByRole('button', { name: /^Read all of Ann commented/ }).click();
    const detail = inboxPanel(page).getByTestId('detail-text');
    await expect(detail).toHaveText(text);
    await expect(inboxPanel(page).getByRole('heading', { name: 'Notification' })).toBeFocused();
  });
});

test.describe('Text from notifications', () => {
  test('right-to-left names are isolated inside the sentence, and right-to-left text takes its own direction', async ({ openAs, user, pushTo }) => {
    const u = user('rtl');
    const page = await openAs(u);
    await pushTo(u, { entityType: 'like', data: { actor: 'אליס', target: 'מסיבה 2024' } });
    await pushTo(u, { data: 'مرحبا بالعالم' });
    const like = toasts(page).filter({ hasText: 'אליס' });
    await expect(like.locator('bdi')).toHaveText(['אליס', 'מסיבה 2024']);
    await expect(like.locator('.toast-title')).toHaveText('אליס liked “מסיבה 2024”');
    await expect(toasts(page).filter({ hasText: 'مرحبا' }).locator('.toast-title')).toHaveAttribute('dir', 'auto');
    await expect(feedItems(page).filter({ hasText: 'אליס' }).locator('bdi')).toHaveCount(2);
  });
});
