import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext } from '@playwright/test';
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
 * to that).
 */

export const TABS = 8;

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/** Debian's Chromium where it is installed, else Playwright's own. */
function launchChromium(): Promise<Browser> {
  const debian = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  return chromium.launch({ executablePath: existsSync(debian) ? debian : undefined, args: CHROMIUM_ARGS });
}

async function openTabs(context: BrowserContext, url: string, userId: string, token: string): Promise<void> {
  for (let i = 0; i < TABS; i++) {
    const page = await context.newPage();
    await page.goto(url);
    await page.getByLabel('User id').fill(userId);
    await page.getByLabel('Token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('connection-status').and(page.locator('[data-status="live"]')).waitFor({ timeout: 30_000 });
  }
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
      await openTabs(context, url, userId, await signUserToken(AUTH_SECRET, userId, 3600));
      const sockets = await settledCount(() => herald.connections());
      const slot = (result.variants ??= {})[variant] ?? emptyServerResult();
      slot.metrics.sockets = metric([sockets], 'sockets');
      result.variants[variant] = slot;
      await context.close();
      await settledCount(() => herald.connections());
    }
  } finally {
    await browser?.close();
    await herald.dispose();
  }
}
