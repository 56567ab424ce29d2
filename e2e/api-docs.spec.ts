import { expect, test } from './support/fixtures';

/**
 * /api/docs in a real Chromium: Redoc, served by Herald itself, renders the
 * document under the page's own Content-Security-Policy. Nothing leaves the
 * origin but the one image Redoc asks its CDN for, which the policy refuses
 * (Redoc then drops it), and nothing else is refused.
 */

test('the API reference renders from Herald alone, its search works, and the policy refuses only the CDN logo', async ({ page, herald }) => {
  const origin = new URL(herald.server.url).origin;
  const outside: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.origin !== origin && url.protocol !== 'blob:' && url.protocol !== 'data:') outside.push(r.url());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.effectiveDirective} ${e.blockedURI}`));
  });

  await page.goto(`${herald.server.url}/api/docs`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Herald \(/);
  await expect(page.getByRole('heading', { name: 'Push a notification' })).toBeVisible();

  await page.getByPlaceholder('Search...').fill('history');
  await expect(page.getByRole('menuitem').filter({ hasText: "A user's history, for backends" }).first()).toBeVisible();

  const violations = await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);
  expect(violations.filter((v) => !v.startsWith('img-src https://cdn.redoc.ly/'))).toEqual([]);
  expect(outside.filter((u) => !u.startsWith('https://cdn.redoc.ly/'))).toEqual([]);
  expect(errors).toEqual([]);
});
