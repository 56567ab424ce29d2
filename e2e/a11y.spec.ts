import { AxeBuilder } from '@axe-core/playwright';
import type { Page, TestInfo } from '@playwright/test';
import { expect, inboxItems, inboxPanel, mouseAway, openInbox, signInAs, test, toasts, type PushBody } from './support/fixtures';

/**
 * axe-core's automated checks (WCAG 2.x A and AA, and best practices) on the
 * three states people spend time in, in light and dark, on a desktop and a
 * phone. No serious or critical violation may remain; every finding is attached
 * to the test's report.
 */

const SAMPLES: PushBody[] = [
  { entityType: 'like', data: { actor: 'Alice', target: 'Shipping Herald', link: 'https://example.com/p/1' } },
  { entityType: 'comment', data: { actor: 'Bob', text: 'Looks good to me. '.repeat(30) } },
  { entityType: 'deploy', data: { service: 'api', version: '2.4.1' } },
  { entityType: 'follow', data: { actor: 'Carol' } },
  { data: 'مرحبا بالعالم' },
];

async function audit(page: Page, testInfo: TestInfo, name: string, only?: string): Promise<void> {
  const builder = new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']);
  const results = await (only ? builder.include(only) : builder).analyze();
  await testInfo.attach(`axe-${name}.json`, { body: JSON.stringify(results.violations, null, 2), contentType: 'application/json' });
  const blocking = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  const minor = results.violations.filter((v) => v.impact !== 'serious' && v.impact !== 'critical').map((v) => `${v.impact} ${v.id}`);
  if (minor.length > 0) console.log(`axe ${name}: minor findings: ${minor.join('; ')}`);
  expect(blocking, `axe on ${name}`).toEqual([]);
}

for (const colorScheme of ['light', 'dark'] as const) {
  for (const [device, viewport] of [
    ['desktop', { width: 1280, height: 720 }],
    ['phone', { width: 390, height: 844 }],
  ] as const) {
    test(`axe finds no serious or critical violations signed out, with toasts, and in the open inbox (${device}, ${colorScheme})`, async ({
      browser,
      herald,
      user,
      pushTo,
    }, testInfo) => {
      const context = await browser.newContext({ viewport, colorScheme });
      try {
        const page = await context.newPage();
        await page.goto(herald.server.url);
        await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
        await audit(page, testInfo, 'signed-out');

        const u = user(`axe-${device}-${colorScheme}`);
        await signInAs(page, u, herald);
        await mouseAway(page);
        for (const sample of SAMPLES) await pushTo(u, sample);
        await expect(toasts(page)).toHaveCount(4);
        // The pointer over the stack expands it (every toast drawn in full) and holds it while axe reads the page.
        await toasts(page).first().hover();
        await expect(page.getByTestId('toast-feed')).toHaveAttribute('data-expanded', 'true');
        await audit(page, testInfo, 'toasts-expanded');
        // Collapsed, the countdowns run again: only the toasts are read, which is quick.
        await mouseAway(page);
        await expect(page.getByTestId('toast-feed')).toHaveAttribute('data-expanded', 'false');
        await expect(toasts(page)).toHaveCount(4);
        // The stack takes 260 ms to fold: axe reads it settled, not with the back toasts half faded over the front one.
        await page.getByTestId('toast-feed').evaluate((feed) => Promise.all(feed.getAnimations({ subtree: true }).map((a) => a.finished)));
        await audit(page, testInfo, 'toasts-collapsed', '[data-testid="toast-feed"]');

        await openInbox(page);
        await expect(inboxItems(page)).toHaveCount(SAMPLES.length);
        await inboxPanel(page).getByRole('button', { name: /^Mark read: Carol/ }).click();
        await audit(page, testInfo, 'inbox');
        await inboxPanel(page).getByRole('button', { name: /^Unread: New notification/ }).click();
        await expect(inboxPanel(page).getByTestId('inbox-detail')).toBeVisible();
        await audit(page, testInfo, 'inbox-detail');
      } finally {
        await context.close();
      }
    });
  }
}
