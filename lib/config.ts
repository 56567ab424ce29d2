import 'server-only';
import { hostname } from 'node:os';
import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './contract';

/**
 * The one place that reads `process.env`. Parsed once at boot; a bad value stops the
 * process with a message naming the variable, instead of surfacing later as a 500.
 */

const MIN_SECRET_CHARS = 32;
const MIN_API_KEY_CHARS = 16;

const intFrom = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  /** 0 asks the OS for a free port; the bound port is logged (tests rely on it). */
  PORT: intFrom(0, 65535).default(3000),
  SOCKET_PATH: z
    .string()
    .trim()
    .regex(/^\/[A-Za-z0-9._~\-/]*[A-Za-z0-9._~-]$/, 'must start with "/" and contain only URL path characters')
    .default('/socket.io'),
  AUTH_SECRET: z.string().min(MIN_SECRET_CHARS, `must be at least ${MIN_SECRET_CHARS} characters`).optional(),
  PUSH_API_KEY: z.string().min(MIN_API_KEY_CHARS, `must be at least ${MIN_API_KEY_CHARS} characters`).optional(),
  /** Bearer token for GET /metrics (and the checks of /readyz); in production, /metrics exists only with it. */
  METRICS_TOKEN: z.string().min(MIN_API_KEY_CHARS, `must be at least ${MIN_API_KEY_CHARS} characters`).optional(),
  /** Password of the admin view at /admin; in production, /admin exists only with it. */
  ADMIN_TOKEN: z.string().min(MIN_API_KEY_CHARS, `must be at least ${MIN_API_KEY_CHARS} characters`).optional(),
  /** Lifetime of tokens minted by the dev route and `npm run token`. */
  TOKEN_TTL_SECONDS: intFrom(60, 60 * 60 * 24 * 30).default(60 * 60 * 12),
  DATA_DIR: z.string().trim().min(1).default('./data'),
  INBOX_MAX_PER_USER: intFrom(1, 100_000).default(500),
  INBOX_TTL_DAYS: intFrom(1, 3650).default(30),
  /** How often the retention sweep runs. */
  INBOX_SWEEP_INTERVAL_MS: intFrom(1_000, 24 * 60 * 60 * 1000).default(60_000),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  /** postgres:// URL: selects the PostgreSQL inbox shared by every node (else SQLite under DATA_DIR). */
  DATABASE_URL: z
    .string()
    .trim()
    .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  /** PostgreSQL schema holding Herald's tables. */
  DATABASE_SCHEMA: z
    .string()
    .trim()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lowercase SQL identifier')
    .default('herald'),
  /** redis:// URL: fan-out between nodes through Redis (the socket.io Redis adapter). */
  REDIS_URL: z
    .string()
    .trim()
    .regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL')
    .optional(),
  /** This node's name in the cluster (presence keys, logs); default host-pid-random. */
  NODE_ID: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits and . _ - only, at most 64')
    .optional(),
  /** Push requests per second per API key on this node (0 = no limit); bursts of twice that. */
  PUSH_RATE_LIMIT: intFrom(0, 1_000_000).default(1000),
  /** Events a socket may send per second (bursts of twice that) before it is cut off. */
  SOCKET_EVENTS_PER_SECOND: intFrom(1, 10_000).default(20),
  /** Sockets one user may hold on this node (tabs and devices). */
  MAX_CONNECTIONS_PER_USER: intFrom(1, 100_000).default(20),
  /** Sockets one client address may hold on this node. */
  MAX_CONNECTIONS_PER_IP: intFrom(1, 1_000_000).default(500),
  /** Bytes queued in this process for one connection that its client has not read; past it the socket is cut off (slow_consumer). */
  MAX_CLIENT_QUEUE_BYTES: intFrom(16 * 1024, 1024 * 1024 * 1024).default(1024 * 1024),
  /** Bytes queued across all connections; past it the largest queues are cut first. */
  MAX_QUEUED_BYTES: intFrom(1024 * 1024, 64 * 1024 * 1024 * 1024).default(256 * 1024 * 1024),
  /** Handshakes (and user_login re-binds) per user per second on this node, bursts of 4× (0 = no limit). */
  HANDSHAKE_RATE_PER_USER: intFrom(0, 1_000_000).default(5),
  /** Handshakes per client address per second on this node, bursts of 10× (0 = no limit). */
  HANDSHAKE_RATE_PER_IP: intFrom(0, 1_000_000).default(20),
  /** Comma-separated origins browsers may connect from (e.g. https://app.example.com); default: this server's own. */
  ALLOWED_ORIGINS: z
    .string()
    .trim()
    .transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean))
    .pipe(
      z
        .array(z.string().regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/, 'each origin must be scheme://host[:port], no path, no wildcard'))
        .min(1, 'list at least one origin'),
    )
    .optional(),
  /** The demo page's browser connection closes once every tab of the user has been hidden this long (0 = never). */
  CLIENT_IDLE_DISCONNECT_MS: intFrom(0, 24 * 60 * 60 * 1000).default(5 * 60 * 1000),
  /** Where Herald POSTs signed receipt and escalation events (docs/webhooks.md); unset: no webhooks, no outbox. */
  WEBHOOK_URL: z
    .string()
    .trim()
    .regex(/^https?:\/\/\S+$/, 'must be an http:// or https:// URL')
    .optional(),
  /** The Standard Webhooks signing secret: `whsec_` and the base64 of at least 24 random bytes. */
  WEBHOOK_SECRET: z
    .string()
    .trim()
    .regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, 'must be whsec_ followed by the base64 of at least 24 bytes')
    .optional(),
  /** Comma-separated event types to send; default: all of them. */
  WEBHOOK_EVENTS: z
    .string()
    .trim()
    .transform((v) => v.split(',').map((t) => t.trim()).filter(Boolean))
    .pipe(z.array(z.enum(WEBHOOK_EVENT_TYPES, { error: `each must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}` })).min(1, 'list at least one event type'))
    .optional(),
  /**
   * Test only (refused in production): multiplies webhook time (escalation delays,
   * retry backoff, batch interval), so suites run in seconds, not hours.
   */
  HERALD_TEST_TIME_SCALE: z
    .string()
    .trim()
    .regex(/^(0?\.\d+|1(\.0+)?)$/, 'must be a number in (0, 1]')
    .transform(Number)
    .pipe(z.number().positive('must be above 0').max(1))
    .optional(),
  /** Upper bound on graceful shutdown before the process exits anyway. */
  SHUTDOWN_TIMEOUT_MS: intFrom(100, 120_000).default(10_000),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  production: boolean;
  /** Dev auth: no AUTH_SECRET outside production; tokens are signed with a per-boot secret. */
  devAuth: boolean;
  host: string;
  port: number;
  socketPath: string;
  authSecret: string;
  /** undefined only in dev: the push API is then open (a warning is logged at boot). */
  pushApiKey: string | undefined;
  /** For /metrics; undefined: /metrics is open in development and absent in production. */
  metricsToken: string | undefined;
  /** For /admin; undefined: /admin is open in development and absent in production. */
  adminToken: string | undefined;
  tokenTtlSeconds: number;
  dataDir: string;
  inbox: { maxPerUser: number; ttlDays: number; sweepIntervalMs: number };
  log: { level: Env['LOG_LEVEL']; format: 'json' | 'pretty' };
  limits: {
    pushPerSecond: number;
    socketEventsPerSecond: number;
    connectionsPerUser: number;
    connectionsPerIp: number;
    handshakesPerUser: number;
    handshakesPerIp: number;
    /** Unread bytes queued for one connection, and for all of them. */
    clientQueueBytes: number;
    queuedBytes: number;
  };
  /** Origins browsers may connect from; undefined: only the server's own (same host). */
  allowedOrigins: string[] | undefined;
  database: { url: string; schema: string } | undefined;
  redisUrl: string | undefined;
  nodeId: string;
  shutdownTimeoutMs: number;
  /** What the page passes to its browser client: close the connection after this long with no tab visible. */
  clientIdleDisconnectMs: number;
  /** Signed webhooks, when WEBHOOK_URL is set. */
  webhooks: { url: string; secret: string; events: WebhookEventType[] } | undefined;
  /** 1, or (tests only) the factor HERALD_TEST_TIME_SCALE applies to webhook timers. */
  timeScale: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws ConfigError listing every bad variable. */
export function loadConfig(
  source: Record<string, string | undefined> = process.env,
  randomSecret: () => string = defaultRandomSecret,
): Config {
  const env = parseEnv(envSchema, source);
  const production = env.NODE_ENV === 'production';
  if (production) {
    const missing = (['AUTH_SECRET', 'PUSH_API_KEY'] as const).filter((key) => !env[key]);
    if (missing.length > 0) {
      throw new ConfigError(`Invalid environment:\n${missing.map((key) => `  ${key}: required when NODE_ENV=production`).join('\n')}`);
    }
  }
  if (env.WEBHOOK_URL && !env.WEBHOOK_SECRET) {
    throw new ConfigError('Invalid environment:\n  WEBHOOK_SECRET: required with WEBHOOK_URL (every delivery is signed)');
  }
  if (production && env.HERALD_TEST_TIME_SCALE !== undefined) {
    throw new ConfigError('Invalid environment:\n  HERALD_TEST_TIME_SCALE: for test suites only; unset it in production');
  }
  if (env.REDIS_URL && !env.AUTH_SECRET) {
    // Dev auth signs with a per-boot random secret: a token from one node would fail on the next.
    throw new ConfigError('Invalid environment:\n  AUTH_SECRET: required with REDIS_URL (every node must verify the same tokens)');
  }
  return {
    env: env.NODE_ENV,
    production,
    devAuth: !env.AUTH_SECRET,
    host: env.HOST,
    port: env.PORT,
    socketPath: env.SOCKET_PATH,
    authSecret: env.AUTH_SECRET ?? randomSecret(),
    pushApiKey: env.PUSH_API_KEY,
    metricsToken: env.METRICS_TOKEN,
    adminToken: env.ADMIN_TOKEN,
    tokenTtlSeconds: env.TOKEN_TTL_SECONDS,
    dataDir: env.DATA_DIR,
    inbox: {
      maxPerUser: env.INBOX_MAX_PER_USER,
      ttlDays: env.INBOX_TTL_DAYS,
      sweepIntervalMs: env.INBOX_SWEEP_INTERVAL_MS,
    },
    log: { level: env.LOG_LEVEL, format: env.LOG_FORMAT ?? (production ? 'json' : 'pretty') },
    limits: {
      pushPerSecond: env.PUSH_RATE_LIMIT,
      socketEventsPerSecond: env.SOCKET_EVENTS_PER_SECOND,
      connectionsPerUser: env.MAX_CONNECTIONS_PER_USER,
      connectionsPerIp: env.MAX_CONNECTIONS_PER_IP,
      handshakesPerUser: env.HANDSHAKE_RATE_PER_USER,
      handshakesPerIp: env.HANDSHAKE_RATE_PER_IP,
      clientQueueBytes: env.MAX_CLIENT_QUEUE_BYTES,
      queuedBytes: env.MAX_QUEUED_BYTES,
    },
    allowedOrigins: env.ALLOWED_ORIGINS,
    database: env.DATABASE_URL ? { url: env.DATABASE_URL, schema: env.DATABASE_SCHEMA } : undefined,
    redisUrl: env.REDIS_URL,
    nodeId: env.NODE_ID ?? `${hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 40)}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    clientIdleDisconnectMs: env.CLIENT_IDLE_DISCONNECT_MS,
    webhooks:
      env.WEBHOOK_URL && env.WEBHOOK_SECRET
        ? { url: env.WEBHOOK_URL, secret: env.WEBHOOK_SECRET, events: env.WEBHOOK_EVENTS ?? [...WEBHOOK_EVENT_TYPES] }
        : undefined,
    timeScale: env.HERALD_TEST_TIME_SCALE ?? 1,
  };
}

/** The variables `schema` names, parsed; throws ConfigError naming every bad one. */
function parseEnv<S extends z.ZodObject>(schema: S, source: Record<string, string | undefined>): z.infer<S> {
  // An empty variable means "unset" (docker-compose and shells produce them).
  const cleaned = Object.fromEntries(Object.keys(schema.shape).map((key) => [key, source[key] === '' ? undefined : source[key]]));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    // Name the variable itself (a list's item index means nothing to whoever set it).
    const lines = parsed.error.issues.map((issue) => `  ${String(issue.path[0] ?? '(env)')}: ${issue.message}`);
    throw new ConfigError(`Invalid environment:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

const launcherSchema = z.object({
  REDIS_URL: envSchema.shape.REDIS_URL.default('redis://127.0.0.1:6379'),
  DATABASE_URL: envSchema.shape.DATABASE_URL.default('postgres://postgres@127.0.0.1:5432/postgres'),
  /** Comma-separated ports, one node each. */
  CLUSTER_PORTS: z
    .string()
    .trim()
    .default('3000,3001')
    .transform((v) => v.split(',').map((p) => p.trim()))
    .pipe(
      z
        .array(intFrom(1, 65535))
        .min(1, 'list at least one port')
        .max(26, 'at most 26 nodes')
        .refine((ports) => new Set(ports).size === ports.length, 'each port once'),
    ),
  AUTH_SECRET: envSchema.shape.AUTH_SECRET,
  PUSH_API_KEY: envSchema.shape.PUSH_API_KEY,
});

/** `npm run cluster` (scripts/cluster.ts): the local nodes it starts, what they share, and the environment they inherit. */
export interface ClusterLauncherConfig {
  redisUrl: string;
  databaseUrl: string;
  ports: number[];
  /** Given, or random for this run: every node gets the same. */
  authSecret: string;
  pushApiKey: string;
  /** Passed on to each node, under the variables the launcher sets. */
  inherited: Record<string, string | undefined>;
}

export function loadClusterLauncherConfig(
  source: Record<string, string | undefined> = process.env,
  randomSecret: () => string = defaultRandomSecret,
): ClusterLauncherConfig {
  const env = parseEnv(launcherSchema, source);
  return {
    redisUrl: env.REDIS_URL,
    databaseUrl: env.DATABASE_URL,
    ports: env.CLUSTER_PORTS,
    authSecret: env.AUTH_SECRET ?? randomSecret(),
    pushApiKey: env.PUSH_API_KEY ?? randomSecret(),
    inherited: { ...source },
  };
}

function defaultRandomSecret(): string {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  return Buffer.from(bytes).toString('base64url');
}
