import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { signUserToken } from '../../lib/auth';
import { serverArgs } from '../../scripts/server-command';

/**
 * Starts the real server (server.ts, with the node options of `npm start`) in a child process
 * on a free port, with its own data directory, and reads the bound port from
 * its "listening" log line.
 */

export const TEST_AUTH_SECRET = 'test-secret-test-secret-test-secret-0123456789';
export const TEST_PUSH_KEY = 'test-push-key-0123456789abcdef';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BOOT_TIMEOUT_MS = 60_000;

export interface ServerOptions {
  /**
   * production (default): real secrets. test: the built app with dev auth (no
   * AUTH_SECRET, open push API). development: `next dev` (one per directory).
   * production and test need `next build` first (npm test does it).
   */
  mode?: 'production' | 'test' | 'development';
  env?: Record<string, string | undefined>;
  /** Reuse a data directory (to restart on the same inbox). */
  dataDir?: string;
}

export interface TestServer {
  url: string;
  port: number;
  dataDir: string;
  process: ChildProcess;
  logs: string[];
  /** SIGTERM and wait for exit; resolves the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: no chance to flush anything. */
  kill(): Promise<void>;
  /** Deletes the data directory (after stop). */
  cleanup(): void;
}

export async function startServer(opts: ServerOptions = {}): Promise<TestServer> {
  const mode = opts.mode ?? 'production';
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'herald-test-'));
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: mode,
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
    NEXT_TELEMETRY_DISABLED: '1',
    ...(mode === 'production' ? { AUTH_SECRET: TEST_AUTH_SECRET, PUSH_API_KEY: TEST_PUSH_KEY } : {}),
    ...opts.env,
  };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const child = spawn(process.execPath, serverArgs(), {
    cwd: ROOT,
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Never leave a half-started server behind.
      child.kill('SIGKILL');
      reject(new Error(`server did not start in ${BOOT_TIMEOUT_MS} ms:\n${logs.join('\n')}`));
    }, BOOT_TIMEOUT_MS);
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        logs.push(line);
        try {
          const entry = JSON.parse(line) as { msg?: string; port?: number };
          if (entry.msg === 'listening' && typeof entry.port === 'number') {
            clearTimeout(timer);
            resolve(entry.port);
          }
        } catch {
          // Next prints plain lines too.
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => logs.push(c.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${logs.join('\n')}`));
    });
  });

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    process: child,
    logs,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
    cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A token for `userId` signed with the test secret (production-mode servers). */
export function tokenFor(userId: string, ttlSeconds = 3600): Promise<string> {
  return signUserToken(TEST_AUTH_SECRET, userId, ttlSeconds);
}

export interface HttpResult {
  status: number;
  /** Parsed JSON when the body is JSON, else the text. */
  body: any;
  headers: Headers;
}

/** Any HTTP request; the body is sent as given when a string, bytes or a stream, else as JSON. */
export async function request(
  base: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<HttpResult> {
  const { body } = init;
  const raw =
    body === undefined || typeof body === 'string' || body instanceof ReadableStream || body instanceof Uint8Array
      ? body
      : JSON.stringify(body);
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers: init.headers,
    body: raw as BodyInit | undefined,
    // Needed by undici for a streamed (chunked, no Content-Length) body.
    ...(raw instanceof ReadableStream ? { duplex: 'half' } : {}),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** POST /api/push with the test key (override `authorization` to test keys). */
export function push(base: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  return request(base, '/api/push', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_PUSH_KEY}`, ...headers },
    body,
  });
}

/** A token from a dev-auth (mode: 'test') server's POST /api/dev/token. */
export async function devToken(base: string, userId: string): Promise<string> {
  const res = await request(base, '/api/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: { userId },
  });
  if (res.status !== 200 || typeof res.body?.token !== 'string') {
    throw new Error(`dev token for ${userId}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return res.body.token as string;
}
