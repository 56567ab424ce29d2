import 'server-only';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread from one of Herald's worker entry points, which are
 * TypeScript files in the source. Run from the source (`npm run dev`, the
 * tests, scripts), the caller's module is a `.ts` file: the worker is that
 * entry file, loaded through tsx. Run from the build (`npm start`), the caller
 * is bundled into `dist/server.js` and the entry was compiled beside it to
 * `dist/workers/<name>.js` (tsup.config.ts lists the entries): plain node.
 *
 * @param callerUrl the caller's `import.meta.url`
 * @param sourcePath the entry file relative to the caller, e.g. `./writer.worker.ts`
 * @param name the compiled entry's name under dist/workers/
 */
export function startWorker(callerUrl: string, sourcePath: string, name: string, options: Omit<WorkerOptions, 'execArgv' | 'eval'>): Worker {
  // No flags of the parent's in either case: a test runner's mean nothing to a worker.
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./workers/${name}.js`, callerUrl), { ...options, execArgv: [] });
  // Node 20 applies no module hooks from a worker's execArgv (`--import tsx` registers
  // nothing there), so a small script registers tsx's hooks in the worker itself, then
  // imports the entry. An error in either reaches the Worker's 'error' event.
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL(sourcePath, callerUrl).href;
  const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { ...options, eval: true, execArgv: [] });
}
