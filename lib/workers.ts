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
export function startWorker(callerUrl: string, sourcePath: string, name: string, options: Omit<WorkerOptions, 'execArgv'>): Worker {
  const fromSource = callerUrl.endsWith('.ts');
  const url = fromSource ? new URL(sourcePath, callerUrl) : new URL(`./workers/${name}.js`, callerUrl);
  // No loader but tsx's, and nothing of the parent's (a test runner's flags mean nothing to a worker).
  return new Worker(url, { ...options, execArgv: fromSource ? ['--import', 'tsx'] : [] });
}
