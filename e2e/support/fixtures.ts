import { test as base, expect, type Browser, type BrowserContext, type Locator, type Page } from '@playwright/test';
import { push as pushRaw, startServer, tokenFor, type ServerOptions, type TestServer } from '../../tests/support/server';

/**
 * Herald's Playwright fixtures. Each worker boots one real server (server.ts on
 * a free port, its own data directory) and stops and deletes it when the worker
 * ends; tests that must restart or reconfigure a server launch their own with
 * `launchServer`, which stops and cleans up after the test.
 *
 * Tests in a worker share its server, so every test names its users with
 * `user(label)`: unique per test, so no test sees another's notifications.
 *
 * Fixture callbacks call Playwright's `use` argument `provide`, so the React
 * hooks lint rule does not take them for hooks.
 */

export type ServerMode = 'test' | 'production';

export interface LaunchOptions {
  /** test (default): the built app with dev auth and an open push API. production: real AUTH_SECRET and PUSH_API_KEY. */
  mode?: ServerMode;
  /** Bind this port (to restart a server where the browser expects it). */
  port?: number;
  /** Reuse a data directory (to restart on the same inbox). */
  dataDir?: string;
  env?: ServerOptions['env'];
}

export interface Herald {
  server: TestServer;
  mode: ServerMode;
}

export interface PushBody {
  entityType?: string;
  data?: unknown;
  id?: string;
  collapseKey?: string;
  /** Seconds until the notification expires. */
  ttl?: number;
  /** ISO 8601. */
  expiresAt?: string;
  priority?: 'high';
}

export interface PushAnswer {
  id: string;
  recipients: number;
  online: number;
}

type TestFixtures = {
  /** The server for this test (the worker's). */
  herald: Herald;
  /** Starts an extra server owned by this test; stopped and deleted when the test ends. */
  launchServer: (opts?: LaunchOptions) => Promise<Herald>;
  /** A user id unique to this test: `user('alice')`. */
  user: (label: string) => string;
  /** Pushes through the real push API to the test's server; fails the test unless it answers 202. */
  pushTo: (userIds: string | string[], body?: PushBody, target?: Herald) => Promise<PushAnswer>;
  /** Opens the demo in `page` and signs in as `userId`; resolves once the connection is live. */
  signIn: (page: Page, userId: string, target?: Herald) => Promise<void>;
  /** A new browser context (a separate browser profile) with a page signed in as `userId`. */
  openAs: (userId: string, opts?: { context?: BrowserContext; target?: Herald }) => Promise<Page>;
};

type WorkerFixtures = {
  /** Mode of the worker's server; `test.use({ serverMode: 'production' })` per file. */
  serverMode: ServerMode;
  workerServer: Herald;
};

async function launch(opts: LaunchOptions = {}): Promise<Herald> {
  const mode = opts.mode ?? 'test';
  const server = await startServer({
    mode,
    dataDir: opts.dataDir,
    env: { ...(opts.port !== undefined ? { PORT: String(opts.port) } : {}), ...opts.env },
  });
  return { server, mode };
}

export async function pushOrFail(target: Herald, userIds: string | string[], body: PushBody = {}): Promise<PushAnswer> {
  const res = await pushRaw(target.server.url, { tokens: Array.isArray(userIds) ? userIds : [userIds], ...body });
  expect(res.status, `push answered ${res.status}: ${JSON.stringify(res.body)}`).toBe(202);
  return res.body as PushAnswer;
}

export async function signInAs(page: Page, userId: string, target: Herald): Promise<void> {
  await page.goto(target.server.url);
  await page.getByLabel('User id').fill(userId);
  if (target.mode === 'production') {
    await page.getByLabel('Token').fill(await tokenFor(userId));
  }
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('signed-in-user')).toContainText(`User ${userId}`);
  await expect(connectionStatus(page)).toHaveAttribute('data-status', 'live');
}

export const connectionStatus = (page: Page): Locator => page.getByTestId('connection-status');
export const toastRegion = (page: Page): Locator => page.getByRole('region', { name: 'Notifications' });
export const toasts = (page: Page): Locator => toastRegion(page).getByTestId('toast');
export const feedItems = (page: Page): Locator => page.getByTestId('feed-item');
export const unreadBadge = (page: Page): Locator => page.getByTestId('unread-badge');
export const inboxButton = (page: Page): Locator => page.getByTestId('inbox-button');
export const inboxPanel = (page: Page): Locator => page.getByRole('dialog').and(page.getByTestId('inbox-panel'));
export const inboxItems = (page: Page): Locator => inboxPanel(page).getByTestId('inbox-item');

/** Opens the inbox panel from the bell and waits for its first page. */
export async function openInbox(page: Page): Promise<Locator> {
  await inboxButton(page).click();
  const panel = inboxPanel(page);
  await expect(panel).toBeVisible();
  // The first page is in once the footer offers older items or says there are none.
  await expect(panel.getByRole('button', { name: 'Load older' }).or(panel.getByText('That is everything.'))).toBeVisible();
  return panel;
}

/** The badge shows `count` (no badge at all for 0) and the bell's accessible name agrees. */
export async function expectUnread(page: Page, count: number): Promise<void> {
  if (count === 0) {
    await expect(unreadBadge(page)).toHaveCount(0);
    await expect(inboxButton(page)).toHaveAccessibleName('Inbox, no unread notifications');
  } else {
    await expect(unreadBadge(page)).toHaveText(count > 99 ? '99+' : String(count));
    await expect(inboxButton(page)).toHaveAccessibleName(`Inbox, ${count} unread notification${count === 1 ? '' : 's'}`);
  }
}

/** Waits until the server holds no sockets (a closed tab's disconnect reaches the server a moment later). */
export async function waitForNoConnections(target: Herald): Promise<void> {
  await expect
    .poll(async () => {
      const res = await fetch(`${target.server.url}/readyz`);
      const body = (await res.json()) as { checks?: { realtime?: { connections?: number } } };
      return body.checks?.realtime?.connections;
    })
    .toBe(0);
}

/**
 * Records every sentence the page's live announcer says from now on (a
 * MutationObserver in the page); read it with `announcedCount` or `.texts()`.
 */
export async function recordAnnouncements(page: Page): Promise<{ texts: () => Promise<string[]> }> {
  await expect(page.getByTestId('announcer')).toBeAttached();
  await page.evaluate(() => {
    const w = window as unknown as { __announced: string[] };
    w.__announced = [];
    const region = document.querySelector('[data-testid="announcer"]');
    if (!region) return;
    new MutationObserver((records) => {
      for (const r of records) for (const node of r.addedNodes) w.__announced.push(node.textContent ?? '');
    }).observe(region, { childList: true, subtree: true });
  });
  return { texts: () => page.evaluate(() => (window as unknown as { __announced: string[] }).__announced) };
}

/** From now on, the most toasts the page shows at once (a MutationObserver in the page); read it with the function returned. */
export async function recordMostToasts(page: Page): Promise<() => Promise<number>> {
  await page.evaluate(() => {
    const w = window as unknown as { __mostToasts: number };
    w.__mostToasts = 0;
    new MutationObserver(() => {
      w.__mostToasts = Math.max(w.__mostToasts, document.querySelectorAll('[data-testid="toast"]').length);
    }).observe(document.body, { childList: true, subtree: true });
  });
  return () => page.evaluate(() => (window as unknown as { __mostToasts: number }).__mostToasts);
}

/** How many notifications the recorded announcements speak of: "5 new notifications" counts 5, a title counts 1. */
export async function announcedCount(recorder: { texts: () => Promise<string[]> }): Promise<number> {
  const texts = await recorder.texts();
  return texts.reduce((sum, t) => sum + (/^(\d+) new notifications$/.exec(t) ? Number(/^(\d+)/.exec(t)?.[1]) : 1), 0);
}

/** Parks the mouse away from the toasts, so hovering never pauses their countdown. */
declare global {
  interface Window {
    __setTab?: (visible: boolean, focused: boolean) => void;
  }
}

/**
 * Lets a test say what each page of `context` reports as its visibility and
 * focus (`document.visibilityState`, `document.hasFocus()`), through `setTab`,
 * which fires the events a browser fires when they change: headless pages are
 * always visible and never focused otherwise.
 */
export async function tabContext(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    let visible = true;
    let focused = false;
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (visible ? 'visible' : 'hidden') });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => !visible });
    document.hasFocus = () => focused;
    window.__setTab = (v, f) => {
      const visibilityChanged = v !== visible;
      const focusChanged = f !== focused;
      visible = v;
      focused = f;
      if (visibilityChanged) document.dispatchEvent(new Event('visibilitychange'));
      if (focusChanged) window.dispatchEvent(new Event(f ? 'focus' : 'blur'));
    };
  });
}

export const setTab = (page: Page, visible: boolean, focused: boolean) => page.evaluate(([v, f]) => window.__setTab?.(v, f), [visible, focused] as const);

/** Focuses one page (visible, focused) and leaves the others visible and unfocused. */
export async function focusOnly(pages: Page[], focused: Page): Promise<void> {
  for (const p of pages) if (p !== focused) await setTab(p, true, false);
  await setTab(focused, true, true);
}

export async function mouseAway(page: Page): Promise<void> {
  await page.mouse.move(5, (page.viewportSize()?.height ?? 720) - 5);
}

async function newPage(browser: Browser, contexts: BrowserContext[], context?: BrowserContext): Promise<Page> {
  if (context) return context.newPage();
  const created = await browser.newContext();
  contexts.push(created);
  return created.newPage();
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  serverMode: ['test', { scope: 'worker', option: true }],

  workerServer: [
    async ({ serverMode }, provide) => {
      const herald = await launch({ mode: serverMode });
      try {
        await provide(herald);
      } finally {
        await herald.server.stop();
        herald.server.cleanup();
      }
    },
    { scope: 'worker', timeout: 90_000 },
  ],

  herald: async ({ workerServer }, provide, testInfo) => {
    const from = workerServer.server.logs.length;
    await provide(workerServer);
    if (testInfo.status !== testInfo.expectedStatus) {
      await testInfo.attach('server.log', { body: workerServer.server.logs.slice(from).join('\n'), contentType: 'text/plain' });
    }
  },

  // Playwright reads fixture dependencies from the destructured first argument; this one has none.
  // eslint-disable-next-line no-empty-pattern
  launchServer: async ({}, provide, testInfo) => {
    const started: Herald[] = [];
    await provide(async (opts) => {
      const herald = await launch(opts);
      started.push(herald);
      return herald;
    });
    for (const { server } of started) await server.stop();
    for (const { server } of started) server.cleanup();
    if (testInfo.status !== testInfo.expectedStatus) {
      for (const [i, { server }] of started.entries()) {
        await testInfo.attach(`server-${i}.log`, { body: server.logs.join('\n'), contentType: 'text/plain' });
      }
    }
  },

  // eslint-disable-next-line no-empty-pattern
  user: async ({}, provide, testInfo) => {
    // Short and unique: the test's id, the retry, and a label for humans reading logs.
    const tag = `${testInfo.testId.slice(0, 10)}r${testInfo.retry}`;
    await provide((label) => `${label}-${tag}`);
  },

  pushTo: async ({ herald }, provide) => {
    await provide((userIds, body, target) => pushOrFail(target ?? herald, userIds, body));
  },

  signIn: async ({ herald }, provide) => {
    await provide((page, userId, target) => signInAs(page, userId, target ?? herald));
  },

  openAs: async ({ browser, herald }, provide) => {
    const contexts: BrowserContext[] = [];
    await provide(async (userId, opts = {}) => {
      const page = await newPage(browser, contexts, opts.context);
      await signInAs(page, userId, opts.target ?? herald);
      await mouseAway(page);
      return page;
    });
    for (const c of contexts) await c.close();
  },
});

export { expect };
