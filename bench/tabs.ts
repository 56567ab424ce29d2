import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { signUserToken } from '../lib/auth';
import { AUTH_SECRET } from './config';
import { emptyServerResult, metric, type ScenarioResult } from './lib/results';
import { sleep } from './lib/proc';
import { startHerald } from './targets';

/**
 * One user with TABS tabs open in one browser profile, in real Chromium, on
 * Herald's own page: the sockets the server holds for them, with the tabs
 * sharing one connection (the page as it is) and with every tab connecting on
 * its own (the page without BroadcastChannel, which makes the client fall back
 * to that). With the tabs sharing, it then closes the leader tab, again and
 * again, and times the handover: from the close until another tab holds the
 * leader lock (the badge's data-leader), on the browser's clock, which is this
 * process's.
 */

export const TABS = 8;

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/** Debian's Chromium where it is installed, else Playwright's own. */
function launchChromium(): Promise<Browser> {
  const debian = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  return chromium.launch({ executablePath: existsSync(debian) ? debian : undefined, args: CHROMIUM_ARGS });
}

/** Leader closes timed in the shared variant, each with the tabs left after the previous. */
export const HANDOVERS = 4;

async function openTabs(context: BrowserContext, url: string, userId: string, token: string): Promise<Page[]> {
  const pages: Page[] = [];
  for (let i = 0; i < TABS; i++) {
    const page = await context.newPage();
    await page.goto(url);
    await page.getByLabel('User id').fill(userId);
    await page.getByLabel('Token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('connection-status').and(page.locator('[data-status="live"]')).waitFor({ timeout: 30_000 });
    pages.push(page);
  }
  return pages;
}

async function isLeader(page: Page): Promise<boolean> {
  return (await page.getByTestId('connection-status').getAttribute('data-leader')) === 'true';
}

/** Closes the leader tab and returns the milliseconds until another tab took the lock (bounded: 15 s, NaN past it). */
async function timeHandover(pages: Page[]): Promise<number> {
  const flags = await Promise.all(pages.map(isLeader));
  const leader = pages[flags.indexOf(true)];
  if (!leader) return NaN;
  const rest = pages.filter((p) => p !== leader);
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
  const goneAt = Date.now();
  await leader.close();
  pages.splice(pages.indexOf(leader), 1);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const times = await Promise.all(rest.map((p) => p.evaluate(() => (window as unknown as { __leaderAt?: number }).__leaderAt ?? 0)));
    const at = times.find((t) => t > 0);
    if (at !== undefined) return at - goneAt;
    await sleep(20);
  }
  return NaN;
}

/** The server's socket count once it has held still for a second (bounded: 15 s). */
async function settledCount(read: () => Promise<number>): Promise<number> {
  let last = await read();
  let stableSince = Date.now();
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    await sleep(200);
    const now = await read();
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= 1_000) break;
  }
  return last;
}

export async function runTabs(result: ScenarioResult): Promise<void> {
  const herald = await startHerald({ name: 'herald-tabs', profile: false });
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const url = `http://127.0.0.1:${herald.port}/`;
    for (const variant of ['shared', 'perTab'] as const) {
      const userId = `tabs-${variant}`;
      const context = await browser.newContext();
      if (variant === 'perTab') {
        await context.addInitScript(() => {
          delete (window as { BroadcastChannel?: unknown }).BroadcastChannel;
        });
      }
      const pages = await openTabs(context, url, userId, await signUserToken(AUTH_SECRET, userId, 3600));
      const sockets = await settledCount(() => herald.connections());
      const slot = (result.variants ??= {})[variant] ?? emptyServerResult();
      slot.metrics.sockets = metric([sockets], 'sockets');
      if (variant === 'shared') {
        const handovers: number[] = [];
        for (let i = 0; i < HANDOVERS; i++) handovers.push(await timeHandover(pages));
        slot.metrics.handoverMs = metric(handovers, 'ms');
        if (handovers.some((h) => !Number.isFinite(h))) slot.errors.push('a leader close was not followed by a new leader within 15 s');
      }
      result.variants[variant] = slot;
      await context.close();
      await settledCount(() => herald.connections());
    }
  } finally {
    await browser?.close();
    await herald.dispose();
  }
}
