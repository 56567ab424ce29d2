import { startExampleServer } from '../examples/react-app/server.mjs';
import { request, TEST_AUTH_SECRET, TEST_PUSH_KEY } from '../tests/support/server';
import { expect, expectUnread, inboxButton, inboxPanel, pushOrFail, test, toasts, type Herald } from './support/fixtures';

/**
 * herald/react in an app on another origin: examples/react-app (built by
 * `npm run build:example`), served with its own backend, which mints Herald
 * tokens with herald/server. Herald runs with real secrets and lists only the
 * app's origin in ALLOWED_ORIGINS.
 */

type Example = Awaited<ReturnType<typeof startExampleServer>>;

/** Herald, and the example app on another port, told where Herald is. */
async function startBoth(launchServer: (opts: { mode: 'production'; env: Record<string, string> }) => Promise<Herald>) {
  const options = { authSecret: TEST_AUTH_SECRET, heraldUrl: '' };
  const acme = await startExampleServer(options);
  const herald = await launchServer({ mode: 'production', env: { ALLOWED_ORIGINS: acme.url } });
  options.heraldUrl = herald.server.url;
  return { acme, herald };
}

const signInToAcme = async (page: import('@playwright/test').Page, url: string, userId: string) => {
  await page.goto(url);
  await page.getByLabel('User id').fill(userId);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('acme-user')).toHaveText(`Signed in as ${userId}`);
};

test.describe('the example app on another origin', () => {
  let acme: Example | null = null;
  test.afterEach(async () => {
    await acme?.close();
    acme = null;
  });

  test('signs in through its own backend, shows one toast for a push, and marks it read through Herald', async ({ page, launchServer, user }) => {
    const both = await startBoth(launchServer);
    acme = both.acme;
    const { herald } = both;
    expect(new URL(acme.url).port).not.toBe(new URL(herald.server.url).port);
    const alice = user('alice');

    await signInToAcme(page, acme.url, alice);
    await expect(page.getByTestId('herald-status')).toHaveAttribute('data-status', 'live');
    await expectUnread(page, 0);

    const pushed = await pushOrFail(herald, alice, { entityType: 'comment', data: { actor: 'Bob', target: 'Acme roadmap', text: 'Ship it' } });
    await expect(toasts(page)).toHaveCount(1);
    await expect(toasts(page).first()).toContainText('Bob');
    await expectUnread(page, 1);
    await expect(page.getByTestId('acme-unread')).toHaveText('1 unread');

    await inboxButton(page).click();
    const panel = inboxPanel(page);
    await expect(panel).toBeVisible();
    await panel.getByRole('button', { name: /^Mark read: / }).first().click();
    await expectUnread(page, 0);
    await expect(page.getByTestId('acme-unread')).toHaveText('You are all caught up.');

    // Herald holds the read: its status route (with the push key) says when.
    await expect
      .poll(async () => {
        const res = await request(herald.server.url, `/api/notifications/${encodeURIComponent(pushed.id)}`, {
          headers: { authorization: `Bearer ${TEST_PUSH_KEY}` },
        });
        return (res.body as { recipients?: Array<{ userId: string; readAt: string | null }> }).recipients?.find((r) => r.userId === alice)?.readAt ?? null;
      })
      .not.toBeNull();
  });

  test('a page whose origin Herald does not allow is refused, and never connects', async ({ page, launchServer, user }) => {
    const both = await startBoth(launchServer);
    acme = both.acme;
    const { herald } = both;
    // The same app reached by another name is another origin: http://localhost:<port> is not listed.
    const otherOrigin = acme.url.replace('127.0.0.1', 'localhost');
    const bob = user('bob');

    await signInToAcme(page, otherOrigin, bob);
    await expect
      .poll(() => herald.server.logs.some((line) => line.includes('origin not allowed') && line.includes(new URL(otherOrigin).origin)))
      .toBe(true);
    await expect(page.getByTestId('herald-status')).not.toHaveAttribute('data-status', 'live');

    // A push finds the user offline: no socket was admitted.
    const pushed = await pushOrFail(herald, bob, { entityType: 'like', data: { actor: 'Carol' } });
    expect(pushed.online).toBe(0);
    await expect(toasts(page)).toHaveCount(0);
  });
});
