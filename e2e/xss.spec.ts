import type { Locator, Page } from '@playwright/test';
import { describe, type Described } from '../app/components/describe';
import { push as pushRaw } from '../tests/support/server';
import { expect, feedItems, inboxItems, openInbox, test, toasts } from './support/fixtures';

/**
 * Untrusted notification content in a real browser. Thirty payloads spread over
 * every field the UI reads (a string `data`, `actor`, `target`, `text`,
 * `message`, fields it does not know, entity types named after Object.prototype
 * members) are rendered in the toasts, the live feed and the inbox. None may
 * run (no dialog, no write to `window.__xss`, no CSP violation, which would mean
 * markup was parsed), none may add an element or an on* attribute, and each must
 * show as the literal text describe() makes of it.
 *
 * e2e/delivery.spec.ts has six classic payloads; these are the rest of the zoo.
 */

interface Payload {
  entityType?: string;
  data: unknown;
  /** A fragment of the payload that must appear in the rendered text word for word. */
  literal: string;
}

const payloads: Payload[] = [
  // data as a string
  { data: '<script>window.__xss.push(1)</script>', literal: '<script>window.__xss.push(1)</script>' },
  { data: '<img src=x onerror="window.__xss.push(2)">', literal: 'onerror="window.__xss.push(2)"' },
  { data: '<svg onload="window.__xss.push(3)"><circle r=9></svg>', literal: '<svg onload=' },
  { data: '<iframe srcdoc="<script>parent.__xss.push(4)</script>"></iframe>', literal: '<iframe srcdoc=' },
  { data: 'javascript:window.__xss.push(5)', literal: 'javascript:window.__xss.push(5)' },
  { data: '"><script>window.__xss.push(6)</script><p x="', literal: '"><script>' },
  { data: "{{constructor.constructor('window.__xss.push(7)')()}}", literal: '{{constructor.constructor(' },
  { data: '<a href="javascript:window.__xss.push(8)">claim your prize</a>', literal: '<a href="javascript:' },
  // data.actor
  { entityType: 'like', data: { actor: '<img src=x onerror=window.__xss.push(9)>', target: 'Launch' }, literal: 'onerror=window.__xss.push(9)>' },
  { entityType: 'like', data: { actor: { name: '<script>window.__xss.push(10)</script>' } }, literal: '<script>window.__xss.push(10)</script>' },
  // data.target
  { entityType: 'like', data: { actor: 'Mallory', target: '<svg/onload=window.__xss.push(11)>' }, literal: '<svg/onload=' },
  {
    entityType: 'comment',
    data: { actor: 'Eve', target: '</p><script>window.__xss.push(12)</script>', text: '<b onmouseover=window.__xss.push(12)>hover me</b>' },
    literal: '</p><script>',
  },
  // data.text
  { entityType: 'comment', data: { actor: 'Trent', text: '<details open ontoggle=window.__xss.push(13)>' }, literal: '<details open ontoggle=' },
  {
    entityType: 'mention',
    data: { actor: 'Peggy', text: '<math><mtext><table><mglyph><style><img src=x onerror=window.__xss.push(14)>' },
    literal: '<math><mtext>',
  },
  // data.message
  { data: { message: '<body onload=window.__xss.push(15)>' }, literal: '<body onload=' },
  { data: { message: '<object data="javascript:window.__xss.push(16)"></object>' }, literal: '<object data=' },
  // keys the UI does not know
  { data: { html: '<img src=x onerror=window.__xss.push(17)>' }, literal: 'Html: <img src=x onerror=' },
  { data: { dangerouslySetInnerHTML: { __html: '<img src=x onerror=window.__xss.push(18)>' } }, literal: 'Dangerously set inner HTML › Html: <img' },
  { data: { constructor: '<script>window.__xss.push(19)</script>' }, literal: 'Constructor: <script>' },
  { data: { $$typeof: 'Symbol(react.element)', type: 'script', props: { children: 'window.__xss.push(20)' } }, literal: '$$typeof: Symbol(react.element)' },
  // entity types named after Object.prototype members (the only markup-free field)
  { entityType: 'constructor', data: '<img src=x onerror=window.__xss.push(21)>', literal: '<img src=x onerror=' },
  { entityType: '__proto__', data: { actor: '<script>window.__xss.push(22)</script>' }, literal: '<script>window.__xss.push(22)</script>' },
  { entityType: 'toString', data: { text: '<iframe src=javascript:window.__xss.push(23)>' }, literal: '<iframe src=javascript:' },
  { entityType: 'follow', data: { actor: '<style>*{display:none!important}</style>' }, literal: '<style>*{display:none!important}</style>' },
  {
    entityType: 'reply',
    data: { actor: '<marquee onstart=window.__xss.push(25)>', text: '<video><source onerror=window.__xss.push(25)></video>' },
    literal: '<marquee onstart=',
  },
  // encodings and filter evasions
  { data: '&lt;script&gt;window.__xss.push(26)&lt;/script&gt;', literal: '&lt;script&gt;' },
  { data: '\u202e<img src=x onerror=window.__xss.push(27)>', literal: 'onerror=window.__xss.push(27)>' },
  { data: '%3Cscript%3Ewindow.__xss.push(28)%3C/script%3E', literal: '%3Cscript%3E' },
  { data: '<scr<script>ipt>window.__xss.push(29)</scr</script>ipt>', literal: '<scr<script>ipt>' },
  { data: '<!--<img src="--><img src=x onerror=window.__xss.push(30)//">', literal: '<!--<img src="-->' },
];

/** What the page must show for a payload: describe() is plain text in, plain text out. */
const expected = (p: Payload): Described => describe(p.entityType ?? 'message', p.data as never);

/** Records anything a payload could do, from before the page's own scripts run. */
async function instrument(page: Page): Promise<{ dialogs: string[] }> {
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  await page.addInitScript(() => {
    const w = window as unknown as { __xss: unknown[]; __cspViolations: string[] };
    w.__xss = [];
    w.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      // Every violation counts: the page's own bundle ships no eval() probe (zod stays on the server).
      w.__cspViolations.push(`${e.effectiveDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}: ${e.sample}`);
    });
  });
  return { dialogs };
}

/** Elements and attributes no notification may add, inside the feed, toasts and inbox. */
async function injected(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const found: string[] = [];
    const roots = document.querySelectorAll('main, [aria-label="Notifications"], [data-testid="inbox-panel"]');
    const forbidden = new Set(['SCRIPT', 'IMG', 'IFRAME', 'OBJECT', 'EMBED', 'STYLE', 'LINK', 'META', 'BASE', 'MATH', 'DETAILS', 'MARQUEE', 'VIDEO', 'AUDIO', 'SOURCE', 'TABLE', 'B', 'BODY', 'TEMPLATE', 'FORM', 'CIRCLE']);
    for (const root of roots) {
      for (const el of root.querySelectorAll('*')) {
        const tag = el.tagName.toUpperCase();
        if (forbidden.has(tag)) found.push(el.outerHTML.slice(0, 120));
        if (tag === 'A' && el.getAttribute('data-testid') !== 'notification-link') found.push(el.outerHTML.slice(0, 120));
        // Icons are the only SVG: <svg aria-hidden viewBox="0 0 24 24"><path/></svg>.
        if (tag === 'SVG' && (el.getAttribute('aria-hidden') !== 'true' || el.children.length !== 1 || el.children[0]?.tagName.toUpperCase() !== 'PATH')) {
          found.push(el.outerHTML.slice(0, 120));
        }
        for (const attr of el.getAttributeNames()) if (/^on/i.test(attr) || /^srcdoc$/i.test(attr)) found.push(`${tag}[${attr}]`);
      }
    }
    for (const script of document.scripts) if (/__xss|alert\(/.test(script.textContent ?? '')) found.push(`script: ${script.textContent?.slice(0, 80)}`);
    return found;
  });
}

const pageState = (page: Page) =>
  page.evaluate(() => {
    const w = window as unknown as { __xss: unknown[]; __cspViolations: string[] };
    return { xss: w.__xss, cspViolations: w.__cspViolations };
  });

test.describe('XSS: notification content is text, never markup', () => {
  test('30 payloads across every field show literally in toasts, the live feed and the inbox, and run nothing', async ({ page, signIn, user, pushTo }) => {
    // Thirty notifications checked in three places: over a minute on a busy 2-core machine.
    test.slow();
    expect(payloads).toHaveLength(30);
    const { dialogs } = await instrument(page);
    const victim = user('xss');
    await signIn(page, victim);

    // Three at a time, so every payload is a toast once: check them, then dismiss them.
    for (let i = 0; i < payloads.length; i += 3) {
      const batch = payloads.slice(i, i + 3);
      for (const [j, p] of batch.entries()) {
        await pushTo(victim, { ...(p.entityType ? { entityType: p.entityType } : {}), data: p.data });
        // The pointer over the feed holds every toast until checked, however slow the machine.
        if (j === 0) await toasts(page).first().hover();
      }
      await expect(toasts(page)).toHaveCount(batch.length);
      const shown = [...batch].reverse();
      await expect(toasts(page).locator('.toast-title')).toHaveText(shown.map((p) => expected(p).title));
      for (const [j, p] of shown.entries()) {
        const { title, detail } = expected(p);
        expect(`${title} ${detail ?? ''}`).toContain(p.literal);
        const toast = toasts(page).nth(j);
        await toast.hover();
        if (detail) await expect(toast.locator('.toast-detail')).toHaveText(detail);
        else await expect(toast.locator('.toast-detail')).toHaveCount(0);
      }
      for (let j = 0; j < batch.length; j++) await toasts(page).first().getByRole('button', { name: /^Dismiss: / }).click();
      await expect(toasts(page)).toHaveCount(0);
    }

    // The live feed, newest first, word for word.
    const newestFirst = [...payloads].reverse();
    await expect(feedItems(page)).toHaveCount(payloads.length);
    await expect(feedItems(page).locator('.item-title')).toHaveText(newestFirst.map((p) => expected(p).title));
    for (const [i, p] of newestFirst.entries()) {
      const { detail } = expected(p);
      const item = feedItems(page).nth(i);
      await item.hover();
      if (detail) await expect(item.locator('.item-detail')).toHaveText(detail);
      else await expect(item.locator('.item-detail')).toHaveCount(0);
    }

    // The inbox.
    await openInbox(page);
    await expect(inboxItems(page)).toHaveCount(payloads.length);
    await expect(inboxItems(page).locator('.item-title')).toHaveText(newestFirst.map((p) => expected(p).title));
    for (const [i, p] of newestFirst.entries()) {
      const { detail } = expected(p);
      const item = inboxItems(page).nth(i);
      await item.hover();
      if (detail) await expect(item.locator('.item-detail')).toHaveText(detail);
    }

    // A benign push as a barrier: anything a payload scheduled has had its chance.
    await pushTo(victim, { data: 'barrier' });
    await expect(feedItems(page).first()).toHaveText(/^barrier/);

    expect(await injected(page)).toEqual([]);
    expect(await pageState(page)).toEqual({ xss: [], cspViolations: [] });
    expect(dialogs).toEqual([]);
  });

  test('javascript: and data: links are refused at push; an https link renders as an anchor that opens without the page', async ({
    herald,
    page,
    signIn,
    user,
    pushTo,
  }) => {
    const { dialogs } = await instrument(page);
    const victim = user('links');
    await signIn(page, victim);

    for (const link of ['javascript:window.__xss.push(31)', ' JavaScript:window.__xss.push(32)', 'data:text/html,<script>window.__xss.push(33)</script>', '//evil.example/']) {
      const res = await pushRaw(herald.server.url, { tokens: [victim], data: { text: 'click me', link } });
      expect({ link, status: res.status, code: res.body?.error?.code }).toEqual({ link, status: 400, code: 'validation_failed' });
    }

    const href = 'https://shop.example/orders/42?ref=<script>window.__xss.push(34)</script>';
    await pushTo(victim, { data: { text: 'Your order shipped', link: href } });
    // A URL anywhere but data.link stays text.
    await pushTo(victim, { data: { text: 'See https://evil.example/ and javascript:window.__xss.push(35)', url: 'javascript:window.__xss.push(36)' } });

    await expect(feedItems(page)).toHaveCount(2);
    const checkAnchor = async (anchor: Locator) => {
      await expect(anchor).toHaveCount(1);
      expect(await anchor.evaluate((a: HTMLAnchorElement) => a.href)).toBe(new URL(href).href);
      await expect(anchor).toHaveAttribute('target', '_blank');
      const rel = ((await anchor.getAttribute('rel')) ?? '').split(/\s+/);
      expect(rel).toEqual(expect.arrayContaining(['noopener', 'noreferrer']));
    };
    for (const item of [toasts(page).nth(1), feedItems(page).nth(1)]) {
      const anchor = item.getByTestId('notification-link');
      await checkAnchor(anchor);
      await expect(anchor).toHaveText('Open shop.example ↗');
    }
    for (const item of [toasts(page).first(), feedItems(page).first()]) {
      await expect(item.getByRole('link')).toHaveCount(0);
      await expect(item).toContainText('See https://evil.example/ and javascript:window.__xss.push(35)');
    }
    expect(await injected(page)).toEqual([]);

    // In the inbox the whole item is the link, named by its title and saying where it goes.
    await openInbox(page);
    const anchor = inboxItems(page).nth(1).getByTestId('notification-link');
    await checkAnchor(anchor);
    await expect(anchor).toHaveAccessibleName('Unread: Your order shipped');
    await expect(anchor).toContainText('shop.example ↗');
    await expect(inboxItems(page).first().getByRole('link')).toHaveCount(0);
    await expect(inboxItems(page).first()).toContainText('See https://evil.example/ and javascript:window.__xss.push(35)');

    expect(await injected(page)).toEqual([]);
    expect(await pageState(page)).toEqual({ xss: [], cspViolations: [] });
    expect(dialogs).toEqual([]);
  });

  test('the page is served with a nonce-based Content-Security-Policy, nosniff and frame denial, and the CSP blocks injected handlers', async ({
    herald,
    page,
  }) => {
    const first = await page.goto(herald.server.url);
    const headers = first!.headers();
    const csp = headers['content-security-policy'] ?? '';
    const nonce = /'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
    expect(nonce, `CSP: ${csp}`).toBeDefined();
    const scriptSrc = csp.split(/;\s*/).find((d) => d.startsWith('script-src ')) ?? '';
    expect(scriptSrc).toMatch(/^script-src 'self' 'nonce-[^']+' 'strict-dynamic'$/);
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("base-uri 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['x-frame-options']).toBe('DENY');

    // Next's own scripts carry this response's nonce; a second load gets a fresh one.
    const nonces = await page.evaluate(() => [...document.scripts].map((s) => s.nonce));
    expect(nonces.length).toBeGreaterThan(0);
    expect(new Set(nonces)).toEqual(new Set([nonce]));
    const second = await page.goto(herald.server.url);
    expect(second!.headers()['content-security-policy']).not.toBe(csp);

    // Second line of defence: markup that did reach the DOM still could not run a handler.
    const blocked = await page.evaluate(
      () =>
        new Promise<{ ran: boolean; directive: string }>((resolve) => {
          const w = window as unknown as { __cspBypass?: boolean };
          document.addEventListener('securitypolicyviolation', (e) => resolve({ ran: w.__cspBypass === true, directive: e.effectiveDirective }), { once: true });
          const div = document.createElement('div');
          div.innerHTML = '<img src="/favicon-missing.png" onerror="window.__cspBypass = true">';
          document.body.append(div);
          setTimeout(() => resolve({ ran: w.__cspBypass === true, directive: 'none' }), 5_000);
        }),
    );
    expect(blocked).toEqual({ ran: false, directive: 'script-src-attr' });
  });
});
