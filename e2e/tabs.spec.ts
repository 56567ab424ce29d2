import type { BrowserContext, Page } from '@playwright/test';
import {
  connectionStatus,
  expect,
  expectUnread,
  feedItems,
  focusOnly,
  mouseAway,
  openInbox,
  setTab,
  signInAs,
  tabContext,
  test,
  toasts,
  type Herald,
} from './support/fixtures';

/**
 * One browser, one connection, one toast: the tabs of one user in one browser
 * profile share the connection the leader tab holds, see one toast (in the tab
 * the user looks at), hand the connection over without loss when the leader
 * goes, and let it close while every tab is hidden.
 *
 * Each test has a server of its own, so the server's connection count is this
 * test's. Tab visibility and focus are set through `setTab` (e2e/support/fixtures.ts).
 */

/** Sockets the server holds (its /readyz checks; test-mode servers show them to anyone). */
async function serverSockets(herald: Herald): Promise<number> {
  const res = await fetch(`${herald.server.url}/readyz`);
  const body = (await res.json()) as { checks: { realtime: { connections: number } } };
  return body.checks.realtime.connections;
}

async function tabsOf(context: BrowserContext, userId: string, herald: Herald, count: number): Promise<Page[]> {
  const pages: Page[] = [];
  for (let i = 0; i < count; i++) {
    const page = await context.newPage();
    await signInAs(page, userId, herald);
    await mouseAway(page);
    pages.push(page);
  }
  return pages;
}

const leaderOf = async (pages: Page[]): Promise<Page> => {
  await expect.poll(async () => (await Promise.all(pages.map((p) => connectionStatus(p).getAttribute('data-leader')))).filter((l) => l === 'true').length).toBe(1);
  for (const p of pages) if ((await connectionStatus(p).getAttribute('data-leader')) === 'true') return p;
  throw new Error('no leader');
};

test('four tabs of one user hold one socket; a push shows one toast, in the focused tab, and every tab’s badge counts it', async ({ browser, launchServer, user }) => {
  const herald = await launchServer();
  const context = await browser.newContext();
  await tabContext(context);
  const u = user('four');
  const pages = await tabsOf(context, u, herald, 4);
  await expect.poll(() => serverSockets(herald)).toBe(1);
  await leaderOf(pages);

  await focusOnly(pages, pages[2]!);
  const res = await fetch(`${herald.server.url}/api/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tokens: [u], data: { actor: 'Alice', target: 'Tabs' } }),
  });
  expect(res.status).toBe(202);
  for (const p of pages) await expectUnread(p, 1);
  await expect(toasts(pages[2]!)).toHaveCount(1);
  for (const p of [pages[0]!, pages[1]!, pages[3]!]) await expect(toasts(p)).toHaveCount(0);

  // Dismissed in the tab that shows it, it is gone everywhere: focusing another tab shows nothing.
  await toasts(pages[2]!).first().getByRole('button', { name: /^Dismiss/ }).click();
  await focusOnly(pages, pages[0]!);
  await expect(toasts(pages[0]!)).toHaveCount(0);
  await context.close();
});

test('two users in two browser profiles hold two sockets', async ({ browser, launchServer, user }) => {
  const herald = await launchServer();
  const contexts = [await browser.newContext(), await browser.newContext()];
  for (const [i, c] of contexts.entries()) await tabsOf(c, user(`profile-${i}`), herald, 2);
  await expect.poll(() => serverSockets(herald)).toBe(2);
  for (const c of contexts) await c.close();
});

for (const how of ['closed', 'crashed'] as const) {
  test.describe.configure({ timeout: 120_000 });
  test(`when the leader tab is ${how} in the middle of 50 pushes, the other tabs show all 50, once each`, async ({ browser, launchServer, user }) => {
    const herald = await launchServer();
    const context = await browser.newContext();
    await tabContext(context);
    const u = user(`handover-${how}`);
    const pages = await tabsOf(context, u, herald, 3);
    const leader = await leaderOf(pages);
    const rest = pages.filter((p) => p !== leader);
    await focusOnly(pages, rest[0]!);

    // Each remaining tab notes when it takes the connection over (the browser's clock is the test's).
    for (const p of rest) {
      await p.evaluate(() => {
        const badge = document.querySelector('[data-testid="connection-status"]');
        const w = window as unknown as { __leaderAt?: number };
        if (!badge) return;
        new MutationObserver(() => {
          if (badge.getAttribute('data-leader') === 'true') w.__leaderAt ??= Date.now();
        }).observe(badge, { attributes: true, attributeFilter: ['data-leader'] });
      });
    }
    let goneAt = 0;
    const pushes: Array<Promise<Response>> = [];
    for (let i = 0; i < 50; i++) {
      if (i === 15) {
        goneAt = Date.now();
        if (how === 'closed') await leader.close();
        else {
          // The renderer dies at once; the command itself never answers.
          const crashed = new Promise<void>((resolve) => leader.once('crash', () => resolve()));
          const cdp = await context.newCDPSession(leader);
          void cdp.send('Page.crash').catch(() => undefined);
          await crashed;
        }
      }
      pushes.push(
        fetch(`${herald.server.url}/api/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tokens: [u], data: `n${i}` }) }),
      );
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const r of await Promise.all(pushes)) expect(r.status).toBe(202);

    // Another tab took the connection over as the lock was released, not after a socket.io
    // heartbeat ran out (25 s + 20 s), and caught up. How fast is measured by the bench's
    // tabs scenario; on a quiet machine it is well under a second.
    const newLeader = await leaderOf(rest);
    const takenOverAt = await newLeader.evaluate(() => (window as unknown as { __leaderAt?: number }).__leaderAt ?? 0);
    expect(takenOverAt - goneAt).toBeGreaterThanOrEqual(0);
    expect(takenOverAt - goneAt).toBeLessThanOrEqual(10_000);
    await expect(connectionStatus(rest[0]!)).toHaveAttribute('data-status', 'live');
    for (const p of rest) {
      await expectUnread(p, 50);
      const panel = await openInbox(p);
      // Older pages load as the list scrolls to its end.
      const rows = panel.getByTestId('inbox-item');
      for (let i = 0; i < 20 && (await rows.count()) < 50; i++) {
        await rows.last().scrollIntoViewIfNeeded();
        await p.waitForTimeout(200);
      }
      const items = await rows.allTextContents();
      expect(items).toHaveLength(50);
      expect(new Set(items).size).toBe(50);
    }
    await expect.poll(() => serverSockets(herald)).toBe(1);
    await context.close();
  });
}

test('a mark-read from a tab without the connection reaches the server and every tab', async ({ browser, launchServer, user }) => {
  const herald = await launchServer();
  const context = await browser.newContext();
  await tabContext(context);
  const u = user('follower-read');
  const pages = await tabsOf(context, u, herald, 2);
  const leader = await leaderOf(pages);
  const follower = pages.find((p) => p !== leader)!;
  const res = await fetch(`${herald.server.url}/api/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tokens: [u], data: 'Read me' }) });
  expect(res.status).toBe(202);
  for (const p of pages) await expectUnread(p, 1);
  const panel = await openInbox(follower);
  await panel.getByRole('button', { name: 'Mark read: Read me' }).click();
  for (const p of pages) await expectUnread(p, 0);
  // The server holds it read: a browser profile of its own sees no unread.
  const other = await browser.newContext();
  const fresh = await other.newPage();
  await signInAs(fresh, u, herald);
  await expectUnread(fresh, 0);
  await other.close();
  await context.close();
});

test('with every tab hidden the connection closes after the idle delay, and a visible tab reconnects and catches up with one summary', async ({ browser, launchServer, user }) => {
  const herald = await launchServer({ env: { CLIENT_IDLE_DISCONNECT_MS: '1000' } });
  const context = await browser.newContext();
  await tabContext(context);
  const u = user('idle');
  const pages = await tabsOf(context, u, herald, 2);
  await expect.poll(() => serverSockets(herald)).toBe(1);
  for (const p of pages) await setTab(p, false, false);
  await expect.poll(() => serverSockets(herald), { timeout: 10_000 }).toBe(0);
  await expect(connectionStatus(pages[0]!)).toHaveAttribute('data-status', 'paused');

  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${herald.server.url}/api/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tokens: [u], data: `away ${i}` }) });
    expect(res.status).toBe(202);
  }
  await setTab(pages[1]!, true, true);
  await expect.poll(() => serverSockets(herald)).toBe(1);
  for (const p of pages) await expectUnread(p, 3);
  await expect(toasts(pages[1]!)).toHaveCount(1);
  await expect(toasts(pages[1]!).first()).toContainText('3');
  await expect(toasts(pages[0]!)).toHaveCount(0);
  await context.close();
});

test('without BroadcastChannel each tab connects on its own, as before', async ({ browser, launchServer, user }) => {
  const herald = await launchServer();
  const context = await browser.newContext();
  await context.addInitScript(() => {
    delete (window as { BroadcastChannel?: unknown }).BroadcastChannel;
  });
  const u = user('no-channel');
  const pages = await tabsOf(context, u, herald, 2);
  await expect.poll(() => serverSockets(herald)).toBe(2);
  const res = await fetch(`${herald.server.url}/api/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tokens: [u], data: 'Both' }) });
  expect(res.status).toBe(202);
  for (const p of pages) await expect(feedItems(p)).toHaveCount(1);
  await context.close();
});
