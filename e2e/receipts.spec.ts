import { expect, expectUnread, inboxPanel, mouseAway, openInbox, setTab, tabContext, test, toasts, type Herald } from './support/fixtures';

/**
 * Receipts from a real browser: a toast shown in a visible tab makes the
 * notification seen (GET /api/notifications/:id says when), and one that
 * arrives while the tab is hidden is delivered but not seen until the user
 * looks at it.
 */

interface RecipientStatus {
  userId: string;
  deliveredAt: string | null;
  seenAt: string | null;
  readAt: string | null;
}

/** The recipient's receipts, from the status route (test-mode servers have an open push API). */
async function receiptsOf(herald: Herald, id: string): Promise<RecipientStatus | undefined> {
  const res = await fetch(`${herald.server.url}/api/notifications/${encodeURIComponent(id)}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { recipients: RecipientStatus[] };
  return body.recipients[0];
}

test('a toast shown in a visible tab is seen; one that arrives while the tab is hidden is delivered, and seen only once the user looks', async ({
  browser,
  herald,
  pushTo,
  signIn,
  user,
}) => {
  const context = await browser.newContext();
  await tabContext(context);
  try {
    const u = user('receipts');
    const page = await context.newPage();
    await signIn(page, u);
    await mouseAway(page);
    await setTab(page, true, true);

    const shown = await pushTo(u, { entityType: 'like', data: { actor: 'Bob', target: 'Receipts' } });
    await expect(toasts(page)).toHaveCount(1);
    await expect.poll(async () => (await receiptsOf(herald, shown.id))?.seenAt ?? null).not.toBeNull();
    const first = await receiptsOf(herald, shown.id);
    expect(first?.deliveredAt).not.toBeNull();
    expect(first?.readAt).toBeNull();

    // Hidden: the notification arrives (the badge counts it, the receipt says delivered), but no toast shows it.
    await setTab(page, false, false);
    const hidden = await pushTo(u, { entityType: 'comment', data: { actor: 'Carol', target: 'Receipts' } });
    await expectUnread(page, 2);
    await expect.poll(async () => (await receiptsOf(herald, hidden.id))?.deliveredAt ?? null).not.toBeNull();
    // A barrier: a later notification delivered means any seen report for the hidden one had its chance too.
    const barrier = await pushTo(u, { entityType: 'barrier' });
    await expect.poll(async () => (await receiptsOf(herald, barrier.id))?.deliveredAt ?? null).not.toBeNull();
    await page.waitForTimeout(600);
    expect((await receiptsOf(herald, hidden.id))?.seenAt).toBeNull();

    // Back in view, the user opens the inbox: the item is on screen, and seen.
    await setTab(page, true, true);
    await openInbox(page);
    await expect.poll(async () => (await receiptsOf(herald, hidden.id))?.seenAt ?? null).not.toBeNull();
  } finally {
    await context.close();
  }
});

test('the demo lists what it sent with live receipts: delivered and seen at once, read when the user reads it', async ({ browser, signIn, user }) => {
  const context = await browser.newContext();
  await tabContext(context);
  try {
    const page = await context.newPage();
    await signIn(page, user('ticks'));
    await mouseAway(page);
    await setTab(page, true, true);
    await page.getByLabel('Send yourself').selectOption('follow');
    await page.getByRole('button', { name: 'Send' }).click();
    const sent = page.getByTestId('sent-push').first();
    await expect(sent).toContainText('a follow');
    const tick = (name: string) => sent.locator(`[data-receipt="${name}"]`);
    await expect(tick('delivered')).toHaveAttribute('data-reached', 'true');
    await expect(tick('seen')).toHaveAttribute('data-reached', 'true');
    await expect(tick('read')).toHaveAttribute('data-reached', 'false');

    const panel = await openInbox(page);
    await panel.getByRole('button', { name: /^Mark read: / }).first().click();
    await expect(tick('read')).toHaveAttribute('data-reached', 'true');
    await expect(inboxPanel(page)).toBeVisible();
  } finally {
    await context.close();
  }
});
