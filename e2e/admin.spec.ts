import { fileURLToPath } from 'node:url';
import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, BrowserContext, Page, TestInfo } from '@playwright/test';
import { startServer } from '../tests/support/server';
import { expect, mouseAway, pushOrFail, signInAs, test, type Herald } from './support/fixtures';

/**
 * The admin live view at /admin in real Chromium, against one server of this
 * file's own started with ADMIN_TOKEN (the worker's server has none): sign-in
 * and its refusals, the node row, a push appearing in the live tail, a user
 * lookup showing that user's socket, axe, and no framing. The last test saves
 * the screenshots in docs/screenshots/admin-*.png.
 */

const ADMIN_TOKEN = 'admin-token-e2e-0123456789';
const SHOTS_DIR = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));

let admin: Herald;

test.beforeAll(async () => {
  admin = { server: await startServer({ mode: 'test', env: { ADMIN_TOKEN } }), mode: 'test' };
});

test.afterAll(async () => {
  await admin?.server.stop();
  admin?.server.cleanup();
});

const adminUrl = () => `${admin.server.url}/admin`;

async function signInAdmin(page: Page): Promise<void> {
  await page.goto(adminUrl());
  await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Nodes' })).toBeVisible();
  await expect(page.getByTestId('admin-status')).toHaveAttribute('data-status', 'live');
}

/** A separate browser profile with the demo page signed in as `userId`: a live socket of that user. */
async function demoTab(browser: Browser, userId: string): Promise<BrowserContext> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signInAs(page, userId, admin);
  await mouseAway(page);
  return context;
}

async function audit(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']).analyze();
  await testInfo.attach(`axe-${name}.json`, { body: JSON.stringify(results.violations, null, 2), contentType: 'application/json' });
  expect(
    results.violations.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`),
    `axe on ${name}`,
  ).toEqual([]);
}

test('Without sign-in, /admin shows the sign-in form and the admin API answers 401', async ({ page }) => {
  await page.goto(adminUrl());
  await expect(page.getByRole('heading', { name: 'Sign in to the admin view' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Nodes' })).toHaveCount(0);
  for (const path of ['/api/admin/session', '/api/admin/overview', '/api/admin/users/alice']) {
    const res = await page.request.get(`${admin.server.url}${path}`);
    expect(res.status(), path).toBe(401);
    expect(await res.json(), path).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
  }
});

test('A wrong admin token is refused and the view stays signed out', async ({ page }) => {
  await page.goto(adminUrl());
  await page.getByLabel('Admin token').fill('not-the-admin-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('admin-signin-error')).toHaveText('That admin token is not right.');
  await expect(page.getByRole('heading', { name: 'Nodes' })).toHaveCount(0);
  const res = await page.request.get(`${admin.server.url}/api/admin/overview`);
  expect(res.status()).toBe(401);
});

test('After sign-in the view shows this node, a push in the live tail, and a user lookup with that user’s socket', async ({ page, browser, user }) => {
  await signInAdmin(page);
  await expect(page.getByTestId('node-row')).toHaveCount(1);
  await expect(page.getByTestId('node-row')).toContainText('this node');
  await expect(page.getByTestId('node-row')).toContainText('sqlite ready');

  const alice = user('alice');
  const demo = await demoTab(browser, alice);
  try {
    await expect(page.getByTestId('node-sockets')).not.toHaveText('0');
    const { id } = await pushOrFail(admin, alice, { entityType: 'admin-e2e', data: { text: 'secret body' } });
    const row = page.locator(`[data-testid="tail-row"][data-id="${id}"]`);
    await expect(row).toBeVisible();
    await expect(row).toContainText('admin-e2e');
    await expect(page.getByTestId('tail')).not.toContainText('secret body');

    await page.getByLabel('User id').fill(alice);
    await page.getByRole('button', { name: 'Look up' }).click();
    const result = page.getByTestId('lookup-result');
    await expect(result.getByTestId('socket-row')).toHaveCount(1);
    await expect(result.getByTestId('socket-row')).toContainText('websocket');
    await expect(result.getByTestId('socket-row')).toContainText('Chrome');
    await expect(result.getByTestId('lookup-unread')).toHaveText('1 unread');
    await expect(result.getByTestId('lookup-notification')).toHaveCount(1);
    await expect(result.getByTestId('lookup-notification')).toContainText(id);
    // The demo tab acknowledges what it receives: the lookup shows the receipt (Refresh re-reads it).
    await expect(async () => {
      await page.getByRole('button', { name: 'Refresh' }).click();
      await expect(result.getByTestId('lookup-receipts')).toContainText('delivered', { timeout: 1_000 });
    }).toPass({ timeout: 10_000 });
    await expect(result.getByTestId('socket-last-seq')).not.toHaveText('—');
    await expect(result).not.toContainText('secret body');
  } finally {
    await demo.close();
  }
});

test('Signing out ends the session: the view and the API refuse again', async ({ page }) => {
  await signInAdmin(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in to the admin view' })).toBeVisible();
  expect((await page.request.get(`${admin.server.url}/api/admin/overview`)).status()).toBe(401);
});

test('The admin view cannot be framed: X-Frame-Options DENY and frame-ancestors none', async ({ page }) => {
  const res = await page.goto(adminUrl());
  const headers = res?.headers() ?? {};
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
});

for (const colorScheme of ['light', 'dark'] as const) {
  test(`axe finds no violations on the admin sign-in and the signed-in view, with a user looked up (${colorScheme})`, async ({ browser, user }, testInfo) => {
    const context = await browser.newContext({ colorScheme, viewport: { width: 1280, height: 900 } });
    const bob = user('bob');
    const demo = await demoTab(browser, bob);
    try {
      const page = await context.newPage();
      await page.goto(adminUrl());
      await expect(page.getByLabel('Admin token')).toBeVisible();
      await audit(page, testInfo, `sign-in-${colorScheme}`);
      await signInAdmin(page);
      await pushOrFail(admin, bob, { entityType: 'comment' });
      await page.getByLabel('User id').fill(bob);
      await page.getByRole('button', { name: 'Look up' }).click();
      await expect(page.getByTestId('socket-row')).toHaveCount(1);
      await expect(page.getByTestId('tail-row').first()).toBeVisible();
      // The pointer off the buttons: axe reads the resting colours (a hovered primary button is darker in dark mode).
      await mouseAway(page);
      await audit(page, testInfo, `signed-in-${colorScheme}`);
    } finally {
      await demo.close();
      await context.close();
    }
  });
}

test('Screenshots of the admin view, light and dark, for docs/screenshots', async ({ browser, user }) => {
  // Three demo tabs take every push on a 2-core machine: minutes, not seconds.
  test.setTimeout(240_000);
  const carol = user('carol');
  const dan = user('dan');
  const tabs = [await demoTab(browser, carol), await demoTab(browser, carol), await demoTab(browser, dan)];
  let pumping = true;
  let pump: Promise<void> = Promise.resolve();
  try {
    // Some traffic over a few samples, so the chart has a shape.
    const types = ['like', 'comment', 'follow', 'mention', 'deploy', 'message'];
    for (let round = 0; round < 8; round++) {
      const burst = [2, 5, 9, 4, 12, 7, 3, 10][round] ?? 3;
      for (let i = 0; i < burst; i++) {
        await pushOrFail(admin, i % 3 === 0 ? [carol, dan] : carol, { entityType: types[(round + i) % types.length] });
        // Spaced out: three demo tabs render every push, on a 2-core machine shared with other suites.
        await new Promise((r) => setTimeout(r, 80));
      }
      await new Promise((r) => setTimeout(r, 1_000));
    }
    // Traffic goes on while the shots are taken: the view shows a rate, not the quiet after it.
    pump = (async () => {
      for (let i = 0; pumping; i++) {
        await pushOrFail(admin, i % 4 === 0 ? [carol, dan] : carol, { entityType: types[i % types.length] });
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    for (const colorScheme of ['light', 'dark'] as const) {
      const context = await browser.newContext({ colorScheme, viewport: { width: 1280, height: 1100 } });
      try {
        const page = await context.newPage();
        await signInAdmin(page);
        await page.getByLabel('User id').fill(carol);
        // A demo tab of a loaded 2-core machine may be between reconnects: look again until both are in.
        await expect(async () => {
          await page.getByRole('button', { name: 'Look up' }).click();
          await expect(page.getByTestId('socket-row')).toHaveCount(2, { timeout: 2_000 });
        }).toPass({ timeout: 30_000 });
        await expect(page.getByTestId('tail-row')).toHaveCount(50);
        await expect(page.getByTestId('rate-now')).not.toHaveText('0.0');
        await mouseAway(page);
        await page.screenshot({ path: `${SHOTS_DIR}admin-${colorScheme}.png`, fullPage: true, animations: 'disabled', caret: 'hide' });
      } finally {
        await context.close();
      }
    }
  } finally {
    pumping = false;
    await pump;
    for (const t of tabs) await t.close();
  }
});
