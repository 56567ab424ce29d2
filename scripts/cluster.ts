import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { signUserToken } from '../lib/auth';

/**
 * npm run cluster: two Herald nodes on ports 3000 and 3001, sharing the local
 * Redis (fan-out) and PostgreSQL (storage), for a person to try. Override with
 * REDIS_URL, DATABASE_URL, CLUSTER_PORTS=3000,3001.
 */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PORTS = (process.env.CLUSTER_PORTS ?? '3000,3001').split(',').map(Number);
const AUTH_SECRET = process.env.AUTH_SECRET ?? randomBytes(32).toString('base64url');
const PUSH_API_KEY = process.env.PUSH_API_KEY ?? randomBytes(18).toString('base64url');

async function main(): Promise<void> {
  if (!existsSync('.next/BUILD_ID')) {
    console.log('building the app once (npm run build)…');
    if (spawnSync('npx', ['next', 'build'], { stdio: 'inherit' }).status !== 0) process.exit(1);
  }
  const nodes: ChildProcess[] = PORTS.map((port, i) => {
    const name = `node-${String.fromCharCode(97 + i)}`;
    const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
      env: {
        ...process.env,
        NODE_ENV: 'production',
        PORT: String(port),
        NODE_ID: name,
        REDIS_URL,
        DATABASE_URL,
        AUTH_SECRET,
        PUSH_API_KEY,
        LOG_FORMAT: 'pretty',
        NEXT_TELEMETRY_DISABLED: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const prefix = (chunk: Buffer) =>
      chunk
        .toString()
        .split('\n')
        .filter(Boolean)
        .forEach((line) => console.log(`[${name}] ${line}`));
    child.stdout?.on('data', prefix);
    child.stderr?.on('data', prefix);
    child.on('exit', (code) => {
      console.log(`[${name}] exited (${code})`);
      stopAll();
    });
    return child;
  });
  let stopping = false;
  function stopAll(): void {
    if (stopping) return;
    stopping = true;
    for (const n of nodes) if (n.exitCode === null) n.kill('SIGTERM');
  }
  process.on('SIGINT', stopAll);
  process.on('SIGTERM', stopAll);

  const [a, b] = PORTS;
  const token1 = await signUserToken(AUTH_SECRET, '1', 12 * 3600);
  console.log(`
Herald cluster: ${PORTS.map((p) => `http://localhost:${p}`).join(' and ')}
  Redis ${REDIS_URL}, PostgreSQL ${DATABASE_URL} (schema herald)
  Sign in on either page as user 1 with this token:
    ${token1}
  Push through node A, received on tabs of both nodes:
    curl -X POST localhost:${a}/api/push -H 'Authorization: Bearer ${PUSH_API_KEY}' \\
      -H 'Content-Type: application/json' -d '{"tokens":["1"],"entityType":"like","data":{"actor":"Alice"}}'
  Readiness of node B: curl localhost:${b}/readyz
Ctrl-C stops both.
`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
