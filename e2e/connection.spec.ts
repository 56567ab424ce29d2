import { connectionStatus, expect, signInAs, test, toasts } from './support/fixtures';

/**
 * How the page answers handshakes refused with `rate_limited`. The server does
 * not refuse any yet (docs/ui.md, "Server gaps"): the refusals are written into
 * the page's real WebSocket, on its way to the real server, as socket.io writes
 * a middleware's `next(new Error('rate_limited'))`.
 */
test('a handshake refused with rate_limited is retried with the same token after a growing, jittered delay, and the page stays “Reconnecting…”, not offline', async ({
  page,
  herald,
  user,
  pushTo,
}) => {
  const REFUSALS = 3;
  const handshakes: number[] = [];
  await page.routeWebSocket(/\/socket\.io\//, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((message) => {
      // "40" opens the main namespace, with the handshake's auth.
      if (typeof message === 'string' && message.startsWith('40')) {
        handshakes.push(Date.now());
        if (handshakes.length <= REFUSALS) {
          ws.send('44{"message":"rate_limited"}');
          return;
        }
      }
      server.send(message);
    });
    server.onMessage((message) => ws.send(message));
  });
  const tokenRequests: number[] = [];
  page.on('request', (req) => {
    if (new URL(req.url()).pathname === '/api/dev/token') tokenRequests.push(Date.now());
  });
  const statuses = new Set<string>();
  const u = user('limited');

  await page.goto(herald.server.url);
  await page.getByLabel('User id').fill(u);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Watch every status the badge takes until the page is live.
  await expect
    .poll(
      async () => {
        const status = (await connectionStatus(page).getAttribute('data-status')) ?? '';
        statuses.add(status);
        return status;
      },
      { timeout: 30_000, intervals: [50] },
    )
    .toBe('live');

  expect(handshakes).toHaveLength(REFUSALS + 1);
  expect(statuses).toContain('reconnecting');
  expect(statuses).not.toContain('offline');
  // One token for the sign-in form's check and one for the socket: none asked again for rate_limited.
  expect(tokenRequests).toHaveLength(2);
  // Full jitter under 1 s, 2 s, 4 s: never longer than the ceiling of its attempt.
  const gaps = handshakes.slice(1).map((t, i) => t - handshakes[i]!);
  gaps.forEach((gap, i) => expect(gap).toBeLessThan(1_000 * 2 ** i + 500));

  await pushTo(u, { data: 'Through at last' });
  await expect(toasts(page).first()).toContainText('Through at last');
});

test('a token refused as unauthorized still asks for a fresh token', async ({ page, herald, user }) => {
  let refused = false;
  await page.routeWebSocket(/\/socket\.io\//, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((message) => {
      if (typeof message === 'string' && message.startsWith('40') && !refused) {
        refused = true;
        ws.send('44{"message":"unauthorized"}');
        return;
      }
      server.send(message);
    });
    server.onMessage((message) => ws.send(message));
  });
  const tokenRequests: string[] = [];
  page.on('request', (req) => {
    if (new URL(req.url()).pathname === '/api/dev/token') tokenRequests.push(req.method());
  });
  await signInAs(page, user('refused'), herald);
  expect(refused).toBe(true);
  expect(tokenRequests).toHaveLength(3);
});
