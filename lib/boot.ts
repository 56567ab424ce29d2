import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import next from 'next';
import { signUserToken } from './auth';
import type { Config } from './config';
import { handleHealth, healthPath } from './http/health';
import { servePush } from './http/node';
import { sendJson } from './http/respond';
import { HttpError } from './errors';
import { ErrorCodes } from './contract';
import { answerIgnoredUpgrades } from './http/upgrade';
import { applySecurityHeaders } from './http/security';
import { SIGNATURE_WINDOW_SECONDS } from './http/signature';
import { ReplayMemory, TokenBucket } from './limits';
import { openInbox } from './inbox';
import type { Logger } from './log';
import { createPushService } from './push';
import { attachRealtime } from './realtime';
import { setRuntime, type HeraldRuntime } from './runtime';

/** Slowloris guard: a client must send its whole request head within this. */
const HEADERS_TIMEOUT_MS = 10_000;
/** …and its whole request within this. */
const REQUEST_TIMEOUT_MS = 30_000;
const TIMEOUT_CHECK_MS = 2_000;
const PUSH_PATH = '/api/push';
/** Routes that exist only in dev auth mode (the demo's token minting). */
const DEV_ROUTES = '/api/dev';
/** Replay memory for signed pushes; while this many are live, further signed pushes get 429. */
const MAX_REMEMBERED_SIGNATURES = 200_000;

export interface Herald {
  server: Server;
  runtime: HeraldRuntime;
  port: number;
  /** Stops accepting, closes sockets, lets in-flight requests finish (bounded), closes the inbox. */
  shutdown(): Promise<void>;
}

/** Builds every service, attaches them to one HTTP server and listens. */
export async function startHerald(config: Config, log: Logger): Promise<Herald> {
  if (config.devAuth) {
    log.warn('DEV AUTH: no AUTH_SECRET, tokens are signed with a per-boot random secret (POST /api/dev/token)');
  }
  if (config.pushApiKey === undefined) {
    log.warn('OPEN PUSH API: PUSH_API_KEY is unset, anyone who can reach this port can push. Never run like this in production.');
  }

  // NODE_ENV=test serves the built app with dev auth: what the test suites use.
  const app = next({ dev: config.env === 'development', dir: process.cwd(), hostname: 'localhost', port: config.port });
  await app.prepare();
  const handle = app.getRequestHandler();
  const inbox = await openInbox(config);
  const devRoutes = config.devAuth && !config.production;

  const server = createServer(
    // Node checks these timeouts every connectionsCheckingInterval (30 s by default): check often enough
    // that a slowloris client is cut soon after HEADERS_TIMEOUT_MS, not up to 30 s later.
    { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: TIMEOUT_CHECK_MS }, (req, res) => {
    void (async () => {
      // Requests arrive only after listen(), by which time `runtime` is set.
      if (healthPath(req.url) !== undefined && (await handleHealth(req, res, runtime))) return;
      if (req.method === 'POST' && (req.url === PUSH_PATH || req.url?.startsWith(`${PUSH_PATH}?`))) {
        // The route's own handler (acceptPush, as in app/api/push/route.ts), minus Next's router
        // and the Web Request/Response around it: see docs/benchmarks.md.
        await servePush(req, res, runtime);
        return;
      }
      if (!devRoutes && (req.url === DEV_ROUTES || req.url?.startsWith(`${DEV_ROUTES}/`) || req.url?.startsWith(`${DEV_ROUTES}?`))) {
        // Outside dev auth the dev routes do not exist, whatever the method.
        sendJson(res, 404, new HttpError(404, ErrorCodes.notFound, 'not found').toBody());
        return;
      }
      applySecurityHeaders(req, res, { dev: config.env === 'development' });
      await handle(req, res);
    })().catch((err: unknown) => {
      log.error('request failed', { url: req.url, err });
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'internal_error', message: 'internal error' } }));
    });
  });

  const realtime = attachRealtime(server, { config, inbox, log });
  // WebSocket upgrades go on to socket.io (and Next); any other offer (Java's
  // default "Upgrade: h2c") is answered as the HTTP/1.1 request it also is.
  answerIgnoredUpgrades(server);
  const runtime: HeraldRuntime = {
    config,
    log,
    inbox,
    realtime,
    push: createPushService({ inbox, realtime, log }),
    signToken: (userId) => signUserToken(config.authSecret, userId, config.tokenTtlSeconds),
    pushLimiter:
      config.limits.pushPerSecond > 0 ? new TokenBucket(config.limits.pushPerSecond, config.limits.pushPerSecond * 2) : undefined,
    seenSignatures: new ReplayMemory(SIGNATURE_WINDOW_SECONDS, MAX_REMEMBERED_SIGNATURES),
    startedAt: Date.now(),
    accepting: true,
  };
  setRuntime(runtime);

  const sweep = setInterval(() => {
    inbox
      .sweep()
      .then((r) => {
        if (r.deliveriesDeleted + r.notificationsDeleted + r.idempotencyDeleted > 0) log.info('retention sweep', { ...r });
      })
      .catch((err: unknown) => log.error('retention sweep failed', { err }));
  }, config.inbox.sweepIntervalMs);
  sweep.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.info('listening', { port, url: `http://localhost:${port}`, socketPath: config.socketPath, inbox: inbox.kind, mode: config.env });

  let closing: Promise<void> | undefined;
  const shutdown = () =>
    (closing ??= (async () => {
      runtime.accepting = false;
      clearInterval(sweep);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await realtime.close();
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
      timer.unref();
      await closed;
      clearTimeout(timer);
      await inbox.close();
      await app.close().catch(() => undefined);
      setRuntime(undefined);
    })());

  return { server, runtime, port, shutdown };
}
