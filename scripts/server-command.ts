/**
 * How Herald's compiled server is started: `npm start` runs
 * `NODE_ENV=production node <SERVER_NODE_FLAGS> dist/server.js`, and everything
 * else that starts Herald as a child process (the integration tests' server,
 * the benchmark, `npm run cluster`) uses these constants, so a benchmark never
 * measures a server started differently from production. The flags are V8
 * options chosen with measurements (docs/benchmarks.md, changes 16 and 22);
 * server-command.test.ts holds package.json's start script to them.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--no-allocation-site-pretenuring', '--heap-growing-percent=200'];

/** The compiled server (`npm run build` writes it). */
export const SERVER_ENTRY = 'dist/server.js';

/** The arguments for `spawn(process.execPath, …)` that start Herald as `npm start` does. */
export function serverArgs(): string[] {
  return [...SERVER_NODE_FLAGS, SERVER_ENTRY];
}
