import { describe, expect, it } from 'vitest';
import { ConfigError, loadClusterLauncherConfig, loadConfig } from './config';

const SECRET = 's'.repeat(32);
const PUSH_KEY = 'k'.repeat(16);
const fixedSecret = () => 'random-per-boot-secret';

/** The ConfigError message for an environment, failing the test if it loads. */
function failure(env: Record<string, string | undefined>, load: (env: Record<string, string | undefined>) => unknown = (e) => loadConfig(e, fixedSecret)): string {
  try {
    load(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('loadConfig', () => {
  const WEBHOOK_SECRET = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;

  it('has working defaults for development', () => {
    expect(loadConfig({}, fixedSecret)).toEqual({
      env: 'development',
      production: false,
      devAuth: true,
      host: '0.0.0.0',
      port: 3000,
      socketPath: '/socket.io',
      authSecret: 'random-per-boot-secret',
      pushApiKey: undefined,
      metricsToken: undefined,
      adminToken: undefined,
      tokenTtlSeconds: 12 * 60 * 60,
      dataDir: './data',
      inbox: { maxPerUser: 500, ttlDays: 30, sweepIntervalMs: 60_000 },
      log: { level: 'info', format: 'pretty' },
      limits: { pushPerSecond: 1000, socketEventsPerSecond: 20, connectionsPerUser: 20, connectionsPerIp: 500, handshakesPerUser: 5, handshakesPerIp: 20, clientQueueBytes: 1048576, queuedBytes: 268435456 },
      allowedOrigins: undefined,
      database: undefined,
      redisUrl: undefined,
      nodeId: expect.stringMatching(/^[A-Za-z0-9._-]+-\d+-[a-z0-9]+$/),
      shutdownTimeoutMs: 10_000,
      clientIdleDisconnectMs: 5 * 60_000,
      webhooks: undefined,
      timeScale: 1,
    });
  });

  it('makes a fresh random secret when none is given', () => {
    const a = loadConfig({});
    const b = loadConfig({});
    expect(a.authSecret.length).toBeGreaterThanOrEqual(32);
    expect(a.authSecret).not.toBe(b.authSecret);
  });

  it('ignores variables it does not know', () => {
    expect(loadConfig({ PATH: '/usr/bin', FOO: 'bar' }, fixedSecret).port).toBe(3000);
  });

  it('reads every variable', () => {
    const config = loadConfig(
      {
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: '8080',
        SOCKET_PATH: '/ws/socket.io',
        AUTH_SECRET: SECRET,
        PUSH_API_KEY: PUSH_KEY,
        METRICS_TOKEN: 'metrics-token-0123456789',
        ADMIN_TOKEN: 'admin-token-0123456789',
        TOKEN_TTL_SECONDS: '600',
        DATA_DIR: '/var/lib/herald',
        INBOX_MAX_PER_USER: '50',
        INBOX_TTL_DAYS: '7',
        INBOX_SWEEP_INTERVAL_MS: '5000',
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'pretty',
        PUSH_RATE_LIMIT: '0',
        SOCKET_EVENTS_PER_SECOND: '5',
        MAX_CONNECTIONS_PER_USER: '3',
        MAX_CONNECTIONS_PER_IP: '9',
        HANDSHAKE_RATE_PER_USER: '0',
        HANDSHAKE_RATE_PER_IP: '7',
        MAX_CLIENT_QUEUE_BYTES: '65536',
        MAX_QUEUED_BYTES: '10485760',
        ALLOWED_ORIGINS: 'https://app.example.com, http://localhost:3000',
        DATABASE_URL: 'postgres://herald@db:5432/herald',
        DATABASE_SCHEMA: 'notify',
        REDIS_URL: 'redis://cache:6379',
        NODE_ID: 'node-a',
        SHUTDOWN_TIMEOUT_MS: '2000',
        CLIENT_IDLE_DISCONNECT_MS: '0',
        WEBHOOK_URL: 'https://backend.example/herald-events',
        WEBHOOK_SECRET: WEBHOOK_SECRET,
        WEBHOOK_EVENTS: 'notification.read, notification.escalated',
      },
      fixedSecret,
    );
    expect(config).toEqual({
      env: 'production',
      production: true,
      devAuth: false,
      host: '127.0.0.1',
      port: 8080,
      socketPath: '/ws/socket.io',
      authSecret: SECRET,
      pushApiKey: PUSH_KEY,
      metricsToken: 'metrics-token-0123456789',
      adminToken: 'admin-token-0123456789',
      tokenTtlSeconds: 600,
      dataDir: '/var/lib/herald',
      inbox: { maxPerUser: 50, ttlDays: 7, sweepIntervalMs: 5000 },
      log: { level: 'warn', format: 'pretty' },
      limits: { pushPerSecond: 0, socketEventsPerSecond: 5, connectionsPerUser: 3, connectionsPerIp: 9, handshakesPerUser: 0, handshakesPerIp: 7, clientQueueBytes: 65536, queuedBytes: 10485760 },
      allowedOrigins: ['https://app.example.com', 'http://localhost:3000'],
      database: { url: 'postgres://herald@db:5432/herald', schema: 'notify' },
      redisUrl: 'redis://cache:6379',
      nodeId: 'node-a',
      shutdownTimeoutMs: 2000,
      clientIdleDisconnectMs: 0,
      webhooks: {
        url: 'https://backend.example/herald-events',
        secret: WEBHOOK_SECRET,
        events: ['notification.read', 'notification.escalated'],
      },
      timeScale: 1,
    });
  });

  describe('webhook settings', () => {
    it('sends every event type by default', () => {
      expect(loadConfig({ WEBHOOK_URL: 'http://127.0.0.1:9000/h', WEBHOOK_SECRET }, fixedSecret).webhooks?.events).toEqual([
        'notification.delivered',
        'notification.seen',
        'notification.read',
        'notification.escalated',
      ]);
    });

    it.each([
      ['WEBHOOK_URL', 'ftp://backend/h', 'http:// or https://'],
      ['WEBHOOK_SECRET', 'not-a-whsec-secret-at-all-0123456789', 'whsec_'],
      ['WEBHOOK_SECRET', 'whsec_c2hvcnQ=', 'at least 24 bytes'],
      ['WEBHOOK_EVENTS', 'notification.clicked', 'one of notification.delivered'],
      ['HERALD_TEST_TIME_SCALE', '2', 'in (0, 1]'],
    ])('rejects %s=%s naming it', (key, value, fragment) => {
      expect(() => loadConfig({ WEBHOOK_URL: 'http://h.example/x', WEBHOOK_SECRET, [key]: value }, fixedSecret)).toThrow(
        new RegExp(`${key}: .*${fragment.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`),
      );
    });

    it('refuses WEBHOOK_URL without WEBHOOK_SECRET, and the test time scale in production', () => {
      expect(() => loadConfig({ WEBHOOK_URL: 'http://h.example/x' }, fixedSecret)).toThrow(/WEBHOOK_SECRET: required with WEBHOOK_URL/);
      expect(() =>
        loadConfig({ NODE_ENV: 'production', AUTH_SECRET: SECRET, PUSH_API_KEY: PUSH_KEY, HERALD_TEST_TIME_SCALE: '0.5' }, fixedSecret),
      ).toThrow(/HERALD_TEST_TIME_SCALE: for test suites only/);
      expect(loadConfig({ HERALD_TEST_TIME_SCALE: '0.01' }, fixedSecret).timeScale).toBe(0.01);
    });
  });

  describe('cluster and limit settings', () => {
    it.each([
      ['DATABASE_URL', 'mysql://db/x', 'postgres://'],
      ['DATABASE_SCHEMA', 'Bad-Schema', 'SQL identifier'],
      ['REDIS_URL', 'http://cache', 'redis://'],
      ['NODE_ID', 'node a', 'letters, digits'],
      ['ALLOWED_ORIGINS', '*', 'no wildcard'],
      ['ALLOWED_ORIGINS', 'https://a.example/path', 'no path'],
      ['PUSH_RATE_LIMIT', '-1', 'whole number'],
    ])('rejects %s=%s naming it', (key, value, fragment) => {
      expect(() => loadConfig({ AUTH_SECRET: SECRET, [key]: value }, fixedSecret)).toThrow(
        new RegExp(`${key}: .*${fragment.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`),
      );
    });

    it('refuses REDIS_URL without a shared AUTH_SECRET', () => {
      expect(() => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }, fixedSecret)).toThrow(/AUTH_SECRET: required with REDIS_URL/);
    });
  });

  it('logs JSON by default in production', () => {
    expect(loadConfig({ NODE_ENV: 'production', AUTH_SECRET: SECRET, PUSH_API_KEY: PUSH_KEY }).log.format).toBe('json');
  });

  describe('production', () => {
    it('requires AUTH_SECRET', () => {
      expect(failure({ NODE_ENV: 'production', PUSH_API_KEY: PUSH_KEY })).toMatch(/AUTH_SECRET: required/);
    });

    it('requires PUSH_API_KEY', () => {
      expect(failure({ NODE_ENV: 'production', AUTH_SECRET: SECRET })).toMatch(/PUSH_API_KEY: required/);
    });

    it('names both when both are missing', () => {
      const message = failure({ NODE_ENV: 'production' });
      expect(message).toMatch(/AUTH_SECRET: required/);
      expect(message).toMatch(/PUSH_API_KEY: required/);
    });

    it('treats an empty AUTH_SECRET as missing', () => {
      expect(failure({ NODE_ENV: 'production', AUTH_SECRET: '', PUSH_API_KEY: PUSH_KEY })).toMatch(/AUTH_SECRET: required/);
    });

    it('treats an empty PUSH_API_KEY as missing', () => {
      expect(failure({ NODE_ENV: 'production', AUTH_SECRET: SECRET, PUSH_API_KEY: '' })).toMatch(/PUSH_API_KEY: required/);
    });
  });

  describe('refuses, naming the variable', () => {
    it.each([
      ['a short AUTH_SECRET', { AUTH_SECRET: 's'.repeat(31) }, /AUTH_SECRET: must be at least 32 characters/],
      ['a short PUSH_API_KEY', { PUSH_API_KEY: 'k'.repeat(15) }, /PUSH_API_KEY: must be at least 16 characters/],
      ['a PORT that is not a number', { PORT: 'abc' }, /PORT: must be a whole number/],
      ['a negative PORT', { PORT: '-1' }, /PORT/],
      ['a fractional PORT', { PORT: '3000.5' }, /PORT/],
      ['a PORT above 65535', { PORT: '65536' }, /PORT/],
      ['a PORT of only spaces', { PORT: '   ' }, /PORT/],
      ['a SOCKET_PATH without a leading slash', { SOCKET_PATH: 'socket.io' }, /SOCKET_PATH: must start with "\/"/],
      ['a SOCKET_PATH with a trailing slash', { SOCKET_PATH: '/ws/' }, /SOCKET_PATH/],
      ['a SOCKET_PATH that is only a slash', { SOCKET_PATH: '/' }, /SOCKET_PATH/],
      ['a SOCKET_PATH with a space', { SOCKET_PATH: '/my socket' }, /SOCKET_PATH/],
      ['a SOCKET_PATH with a query', { SOCKET_PATH: '/socket.io?x=1' }, /SOCKET_PATH/],
      ['an unknown NODE_ENV', { NODE_ENV: 'staging' }, /NODE_ENV/],
      ['an unknown LOG_LEVEL', { LOG_LEVEL: 'verbose' }, /LOG_LEVEL/],
      ['an INBOX_MAX_PER_USER of 0', { INBOX_MAX_PER_USER: '0' }, /INBOX_MAX_PER_USER/],
      ['a TOKEN_TTL_SECONDS under a minute', { TOKEN_TTL_SECONDS: '10' }, /TOKEN_TTL_SECONDS/],
    ])('%s', (_what, env, expected) => {
      expect(failure(env)).toMatch(expected);
    });

    it('lists every bad variable at once', () => {
      const message = failure({ PORT: 'x', SOCKET_PATH: 'y' });
      expect(message).toMatch(/PORT/);
      expect(message).toMatch(/SOCKET_PATH/);
    });
  });

  it('accepts PORT 0 (a free port) and a prefixed socket path', () => {
    const config = loadConfig({ PORT: '0', SOCKET_PATH: '/ws/socket.io' }, fixedSecret);
    expect(config.port).toBe(0);
    expect(config.socketPath).toBe('/ws/socket.io');
  });

  it('treats every empty variable as unset', () => {
    const config = loadConfig(
      { NODE_ENV: '', PORT: '', SOCKET_PATH: '', AUTH_SECRET: '', PUSH_API_KEY: '', DATA_DIR: '', LOG_LEVEL: '' },
      fixedSecret,
    );
    expect(config).toMatchObject({
      env: 'development',
      port: 3000,
      socketPath: '/socket.io',
      devAuth: true,
      pushApiKey: undefined,
      dataDir: './data',
      log: { level: 'info' },
    });
  });

  describe('devAuth', () => {
    it('is on without AUTH_SECRET outside production, with the per-boot secret', () => {
      for (const NODE_ENV of ['development', 'test']) {
        const config = loadConfig({ NODE_ENV }, fixedSecret);
        expect(config.devAuth).toBe(true);
        expect(config.authSecret).toBe('random-per-boot-secret');
      }
    });

    it('is off with AUTH_SECRET, which is then the signing secret', () => {
      const config = loadConfig({ AUTH_SECRET: SECRET }, () => {
        throw new Error('no random secret is needed');
      });
      expect(config.devAuth).toBe(false);
      expect(config.authSecret).toBe(SECRET);
    });

    it('is off in production', () => {
      expect(loadConfig({ NODE_ENV: 'production', AUTH_SECRET: SECRET, PUSH_API_KEY: PUSH_KEY }).devAuth).toBe(false);
    });
  });
});

describe('loadClusterLauncherConfig (npm run cluster)', () => {
  it('starts two nodes on the local Redis and PostgreSQL by default, with one random secret and key for all of them', () => {
    let n = 0;
    const c = loadClusterLauncherConfig({ PATH: '/bin' }, () => `random-${++n}`);
    expect(c).toEqual({
      redisUrl: 'redis://127.0.0.1:6379',
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
      ports: [3000, 3001],
      authSecret: 'random-1',
      pushApiKey: 'random-2',
      inherited: { PATH: '/bin' },
    });
  });

  it('takes the ports, URLs, secret and key it is given', () => {
    const c = loadClusterLauncherConfig({
      CLUSTER_PORTS: ' 4000, 4001 ,4002',
      REDIS_URL: 'redis://10.0.0.2:6380',
      DATABASE_URL: 'postgresql://u@db/herald',
      AUTH_SECRET: SECRET,
      PUSH_API_KEY: PUSH_KEY,
    });
    expect(c).toMatchObject({ ports: [4000, 4001, 4002], redisUrl: 'redis://10.0.0.2:6380', databaseUrl: 'postgresql://u@db/herald', authSecret: SECRET, pushApiKey: PUSH_KEY });
  });

  it.each([
    ['CLUSTER_PORTS', '3000,abc', /CLUSTER_PORTS: must be a whole number/],
    ['CLUSTER_PORTS', '3000,70000', /CLUSTER_PORTS: /],
    ['CLUSTER_PORTS', '3000,3000', /CLUSTER_PORTS: each port once/],
    ['REDIS_URL', 'http://x', /REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/],
    ['AUTH_SECRET', 'short', /AUTH_SECRET: must be at least 32 characters/],
  ])('refuses %s=%s with a message naming it', (key, value, expected) => {
    expect(failure({ [key]: value }, (env) => loadClusterLauncherConfig(env))).toMatch(expected);
  });
});
