import 'server-only';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import next from 'next';
import packageJson from '../package.json';
import { AdminMonitor } from './admin/monitor';
import { AdminSessions } from './admin/session';
import { tailed } from './admin/tail';
import { signUserToken } from './auth';
import type { Config } from './config';
import type { AdminAccess } from './contract';
import { adminRoutes } from './http/admin';
import { devTokenRoutes } from './http/devToken';
import { healthHandler } from './http/health';
import { historyRoutes } from './http/history';
import { metricsRoutes } from './http/metrics';
import { openapiRoutes } from './http/openapi';
import { pushRoutes } from './http/push';
import { sendJson } from './http/respond';
import { apiHandler, type Route } from './http/router';
import { statusRoutes } from './http/status';
import { changeRoutes } from './http/changes';
import { announcePreferences } from './realtime/preferences';
import { createChangeService } from './changes';
import { webhookRoutes } from './http/webhooks';
import { applySecurityHeaders } from './http/security';
import { SIGNATURE_WINDOW_SECONDS } from './http/signature';
import { answerIgnoredUpgrades } from './http/upgrade';
import { openInbox } from './inbox';
import { WatchedInbox } from './inbox/watched';
import { ReplayMemory, TokenBucket } from './limits';
import type { Logger } from './log';
import { createMetrics, pushResult } from './metrics';
import { createPushService } from './push';
import { orAfter } from './timeout';
import { attachRealtime } from './realtime';
import { setPageSettings } from './runtime';
import { WebhookDispatcher } from './webhooks/dispatcher';

/** Slowloris guard: a client must send its whole request head within this. */
const HEADERS_TIMEOUT_MS = 10_000;
/** …and its whole request within this. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Node checks those timeouts this often: a slowloris client is cut soon after HEADERS_TIMEOUT_MS. */
const TIMEOUT_CHECK_MS = 2_000;
/** Replay memory for signed pushes; while this many are live, further signed pushes get 429. */
const MAX_REMEMBERED_SIGNATURES = 200_000;
/** Admin sign-in attempts per second on this node (bursts of twice that). */
const ADMIN_SIGN_IN_PER_SECOND = 5;
/** The API's version in the OpenAPI document: the package's. */
const HERALD_VERSION = packageJson.version;
/** A scrape waits this long at most for the database's answer. */
const DEPENDENCY_PING_MS = 1_000;

export interface Herald {
  server: Server;
  port: number;
  /** Stops accepting, closes sockets, lets in-flight requests finish (bounded), closes the inbox. */
  shutdown(): Promise<void>;
}

/**
 * Builds every service, hands each route the services it uses, and serves them
 * all from one HTTP server: the probes and the API from node:http, socket.io on
 * its path, and every page through Next.
 */
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
  const handlePage = app.getRequestHandler();
  const startedAt = Date.now();
  let accepting = true;

  // The request listener is given before socket.io attaches: engine.io wraps the listeners it
  // finds, so that its own paths never reach them. It is set below, once the routes exist.
  let serve: RequestListener = () => undefined;
  const server = createServer(
    { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: TIMEOUT_CHECK_MS },
    (req, res) => serve(req, res),
  );
  const metrics = createMetrics();
  const inbox = new WatchedInbox(
    await openInbox(config, {
      onCommit: (seconds, appends) => {
        metrics.inboxCommit.observe(seconds);
        metrics.inboxBatch.observe(appends);
      },
    }),
    log,
  );
  const realtime = attachRealtime(server, { config, inbox, log, metrics });
  metrics.sources.dependencies = async () => ({
    [inbox.kind]: await orAfter(inbox.ping().then(() => inbox.writeFailure() === undefined, () => false), DEPENDENCY_PING_MS, false),
    ...(realtime.cluster ? { redis: realtime.cluster.healthy() } : {}),
  });
  // WebSocket upgrades go on to socket.io (and Next); any other offer (Java's
  // default "Upgrade: h2c") is answered as the HTTP/1.1 request it also is.
  answerIgnoredUpgrades(server);

  // Receipts and escalations leave through the outbox, off the push path (lib/webhooks).
  const webhooks = config.webhooks
    ? new WebhookDispatcher({ outbox: inbox.outbox, url: config.webhooks.url, secret: config.webhooks.secret, owner: config.nodeId, log, metrics, timeScale: config.timeScale })
    : undefined;
  if (webhooks) metrics.sources.outbox = () => inbox.outbox.stats();

  // Like /metrics: behind ADMIN_TOKEN, open in development without it, absent in production without it.
  const adminAccess: AdminAccess = config.adminToken !== undefined ? 'token' : config.production ? 'off' : 'open';
  const admin =
    adminAccess === 'off'
      ? undefined
      : new AdminMonitor({
          nodeId: config.nodeId,
          startedAt,
          metrics,
          inbox,
          io: realtime.io,
          board: realtime.cluster?.adminBoard,
          outbox: webhooks ? () => inbox.outbox.stats() : undefined,
          log,
        });
  const changes = createChangeService({ inbox, realtime, log });
  const pushService = createPushService({ inbox, realtime, log, escalateMsPerSecond: 1000 * config.timeScale });
  const push = admin ? tailed(pushService, admin.tail) : pushService;
  const routes: Route[] = [
    ...pushRoutes({
      pushApiKey: config.pushApiKey,
      pushPerSecond: config.limits.pushPerSecond,
      limiter: config.limits.pushPerSecond > 0 ? new TokenBucket(config.limits.pushPerSecond, config.limits.pushPerSecond * 2) : undefined,
      replay: new ReplayMemory(SIGNATURE_WINDOW_SECONDS, MAX_REMEMBERED_SIGNATURES),
      claimOnce: realtime.cluster?.claimOnce,
      push,
    }),
    ...historyRoutes({ inbox, pushApiKey: config.pushApiKey, authSecret: config.authSecret }),
    ...statusRoutes({ inbox, pushApiKey: config.pushApiKey }),
    ...changeRoutes({
      changes,
      inbox,
      preferencesChanged: (userId, prefs) => {
        announcePreferences(realtime.io, inbox, userId, prefs).catch((err: unknown) => log.warn('preferences stored but not announced to the tabs', { userId, err }));
      },
      pushApiKey: config.pushApiKey,
    }),
    ...webhookRoutes({ pushApiKey: config.pushApiKey, resume: webhooks && (() => webhooks.resume()) }),
    // Without a token, /metrics is open in development and absent in production.
    ...(config.metricsToken !== undefined || !config.production ? metricsRoutes({ metrics, token: config.metricsToken }) : []),
    ...(admin
      ? adminRoutes({
          sessions: config.adminToken !== undefined ? new AdminSessions(config.adminToken, config.production) : undefined,
          adminToken: config.adminToken,
          signInLimit: new TokenBucket(ADMIN_SIGN_IN_PER_SECOND, ADMIN_SIGN_IN_PER_SECOND * 2),
          monitor: admin,
        })
      : []),
    // Outside dev auth the dev routes do not exist, whatever the method.
    ...(config.devAuth && !config.production
      ? devTokenRoutes({ signToken: (userId) => signUserToken(config.authSecret, userId, config.tokenTtlSeconds), tokenTtlSeconds: config.tokenTtlSeconds })
      : []),
  ];
  // The document describes the table as it stands once complete: these routes included. The admin
  // API serves the admin view and changes with it; it is not part of what backends integrate
  // against, so the document leaves it out.
  const documented = routes.filter((r) => !r.path.startsWith('/api/admin/'));
  const documentRoutes = openapiRoutes({ routes: documented, openPushApi: config.pushApiKey === undefined, version: HERALD_VERSION });
  documented.push(...documentRoutes);
  routes.push(...documentRoutes);
  const serveApi = apiHandler(routes, log, (route, status, ms, answer) => {
    metrics.httpRequests.inc({ route, status });
    if (route !== 'push') return;
    metrics.pushes.inc({ result: pushResult(status, answer.headers?.['idempotent-replayed'] === 'true'), status });
    metrics.pushDuration.observe(ms / 1000);
    if (status === 429) metrics.rateLimited.inc({ limit: 'push' });
  });
  const serveHealth = healthHandler({
    inbox,
    redisHealthy: realtime.cluster?.healthy,
    connections: realtime.connections,
    outbound: realtime.outbound,
    accepting: () => accepting,
    nodeId: config.nodeId,
    operatorKeys: [config.pushApiKey, config.metricsToken],
    startedAt,
    webhooks: webhooks && (() => inbox.outbox.stats()),
  });
  setPageSettings({
    socketPath: config.socketPath,
    devAuth: config.devAuth && !config.production,
    openPushApi: config.pushApiKey === undefined,
    idleDisconnectMs: config.clientIdleDisconnectMs,
    admin: adminAccess,
  });

  serve = (req, res) => {
    void (async () => {
      if ((await serveHealth(req, res)) || (await serveApi(req, res))) return;
      applySecurityHeaders(req, res, { dev: config.env === 'development' });
      await handlePage(req, res);
    })().catch((err: unknown) => {
      log.error('request failed', { url: req.url, err });
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal_error', message: 'internal error' } });
      else res.end();
    });
  };

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
  webhooks?.start();
  log.info('listening', { port, url: `http://localhost:${port}`, socketPath: config.socketPath, inbox: inbox.kind, mode: config.env });

  let closing: Promise<void> | undefined;
  const shutdown = () =>
    (closing ??= (async () => {
      accepting = false;
      clearInterval(sweep);
      // Before the Redis link closes: the node leaves the cluster's admin view at once.
      await admin?.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      changes.stop();
      await realtime.close();
      await webhooks?.stop();
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
      timer.unref();
      await closed;
      clearTimeout(timer);
      await inbox.close();
      await app.close().catch(() => undefined);
      setPageSettings(undefined);
    })());

  return { server, port, shutdown };
}
