import { defineConfig } from 'tsup';

/**
 * `herald/server`, the SDK for Node backends (lib/sdk/server.ts), as ESM with
 * its type declarations in dist-sdk/ (package.json's `exports` points there).
 * Apart from tsup.config.ts so the server's own build (dist/server.js, rebuilt
 * before every test run) stays as it is and never waits for declarations.
 * Herald's code it reuses (signing, tokens, the contract's types) is bundled in;
 * packages (jose, zod, standardwebhooks) stay imports.
 */
export default defineConfig({
  entry: { server: 'lib/sdk/server.ts' },
  outDir: 'dist-sdk',
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  bundle: true,
  skipNodeModulesBundle: true,
  splitting: false,
  sourcemap: false,
  clean: true,
  // tsconfig.json's `incremental` is for tsc --noEmit; the declaration build is one-off.
  dts: { compilerOptions: { incremental: false } },
  // As in tsup.config.ts: `server-only` is the empty lib/server-only.ts outside Next's bundler.
  noExternal: ['server-only'],
});
