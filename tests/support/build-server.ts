import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Global setup (Vitest and Playwright): compiles the server to dist/ before any
 * suite starts one, so the tests always run the code as it is now, started as
 * `npm start` starts it. It takes about half a second; the pages (`next build`)
 * are built by `npm run build` beforehand, as they take a minute.
 */
export default function buildServer(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const result = spawnSync(process.execPath, ['node_modules/tsup/dist/cli-default.js', '--silent'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`building the server failed:\n${result.stdout}\n${result.stderr}`);
}
