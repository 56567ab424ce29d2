import { defineConfig, type Options } from 'tsup';

/** How Herald's Node code is bundled, here and for `herald/server` (tsup.sdk.config.ts). */
export const nodeBundle = {
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  bundle: true,
  skipNodeModulesBundle: true,
  splitting: false,
  sourcemap: false,
  // `server-only` marks modules for Next's bundler; tsconfig.json maps it to the empty lib/server-only.ts.
  noExternal: ['server-only'],
} satisfies Options;

/**
 * The compiled server: `server.ts` and everything it imports from `lib/`,
 * bundled into `dist/server.js`, and each worker thread's entry point into
 * `dist/workers/` (lib/workers.ts finds them there). Packages stay external:
 * node_modules is installed beside dist/ in production as in development.
 * No source maps: production reads its stack traces from the bundle, and the
 * maps would sit in the heap of every process.
 */
export default defineConfig({
  ...nodeBundle,
  entry: {
    server: 'server.ts',
    'workers/sqlite-writer': 'lib/inbox/sqlite/writer.worker.ts',
    'workers/sqlite-checkpointer': 'lib/inbox/sqlite/checkpointer.worker.ts',
  },
  outDir: 'dist',
  clean: true,
  dts: false,
});
