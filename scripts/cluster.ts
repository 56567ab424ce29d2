import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { signUserToken } from '../lib/auth';
import { ConfigError, loadClusterLauncherConfig } from '../lib/config';
import { SERVER_ENTRY, serverArgs } from './server-command';

/**
 * npm run cluster: two Herald nodes on ports 3000 and 3001, sharing the local
 * Redis (fan-out) and PostgreSQL (storage), for a person to try. Override with
 * REDIS_URL, DATABASE_URL, CLUSTER_PORTS=3000,3001.
 */
async function main(): Promise<void> {
  const { redisUrl: REDIS_URL, databaseUrl: DATABASE_URL, ports: PORTS, authSecret: AUTH_SECRET, pushApiKey: PUSH_API_KEY, inherited } =
    loadClusterLauncherConfig();
  if (!existsSync('.next/BUILD_ID') || !existsSync(SERVER_ENTRY)) {
    console.log('building the app once (npm run build)…');
    if (spawnSync('npm', ['run', 'build'], { stdio: 'inherit' }).status !== 0) process.exit(1);
  }
  const nodes: ChildProcess[] = PORTS.map((port, i) => {
    const name = `node-${String.fromCharCode(97 + i)}`;
    const child = spawn(process.execPath, serverArgs(), {
      env: {
        ...inherited,
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
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
