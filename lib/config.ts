import { z } from 'zod';

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
  /** Lifetime of tokens minted by the dev route and `npm run token`. */
  TOKEN_TTL_SECONDS: intFrom(60, 60 * 60 * 24 * 30).default(60 * 60 * 12),
  DATA_DIR: z.string().trim().min(1).default('./data'),
  INBOX_MAX_PER_USER: intFrom(1, 100_000).default(500),
  INBOX_TTL_DAYS: intFrom(1, 3650).default(30),
  /** How often the retention sweep runs. */
  INBOX_SWEEP_INTERVAL_MS: intFrom(1_000, 24 * 60 * 60 * 1000).default(60_000),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
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
  tokenTtlSeconds: number;
  dataDir: string;
  inbox: { maxPerUser: number; ttlDays: number; sweepIntervalMs: number };
  log: { level: Env['LOG_LEVEL']; format: 'json' | 'pretty' };
  shutdownTimeoutMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws ConfigError listing every bad variable. */
export function loadConfig(
  source: Record<string, string | undefined> = process.env,
  randomSecret: () => string = defaultRandomSecret,
): Config {
  // An empty variable means "unset" (docker-compose and shells produce them).
  const cleaned = Object.fromEntries(
    Object.keys(envSchema.shape).map((key) => [key, source[key] === '' ? undefined : source[key]]),
  );
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.') || '(env)'}: ${issue.message}`);
    throw new ConfigError(`Invalid environment:\n${lines.join('\n')}`);
  }
  const env = parsed.data;
  const production = env.NODE_ENV === 'production';
  if (production) {
    const missing = (['AUTH_SECRET', 'PUSH_API_KEY'] as const).filter((key) => !env[key]);
    if (missing.length > 0) {
      throw new ConfigError(`Invalid environment:\n${missing.map((key) => `  ${key}: required when NODE_ENV=production`).join('\n')}`);
    }
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
    tokenTtlSeconds: env.TOKEN_TTL_SECONDS,
    dataDir: env.DATA_DIR,
    inbox: {
      maxPerUser: env.INBOX_MAX_PER_USER,
      ttlDays: env.INBOX_TTL_DAYS,
      sweepIntervalMs: env.INBOX_SWEEP_INTERVAL_MS,
    },
    log: { level: env.LOG_LEVEL, format: env.LOG_FORMAT ?? (production ? 'json' : 'pretty') },
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
  };
}

function defaultRandomSecret(): string {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  return Buffer.from(bytes).toString('base64url');
}
