import { readFileSync, writeFileSync } from 'node:fs';
import { defineConfig } from 'tsup';
import { nodeBundle } from './tsup.config';

/**
 * The package's subpath exports, as ESM with their type declarations in
 * dist-sdk/ (package.json's `exports` points there). Apart from tsup.config.ts
 * so the server's own build (dist/server.js, rebuilt before every test run)
 * stays as it is and never waits for declarations. Herald's own code each one
 * uses is bundled in; packages stay imports. `npm run build:sdk` empties
 * dist-sdk/ first, as the two builds below write there at once.
 */

// tsconfig.json's `incremental` is for tsc --noEmit; the declaration builds are one-off.
const dts = { compilerOptions: { incremental: false, noCheck: true } };

export default defineConfig([
  {
    // `herald/server`, the SDK for Node backends (lib/sdk/server.ts): jose, zod and standardwebhooks stay imports.
    ...nodeBundle,
    entry: { server: 'lib/sdk/server.ts' },
    outDir: 'dist-sdk',
    clean: false,
    dts,
  },
  {
    // `herald/client`, `herald/react` and `herald/redux`, for browsers. react, react-redux,
    // @reduxjs/toolkit and socket.io-client are peer dependencies, never bundled. Split, so
    // the code they share (the client, the slices, React contexts) is one copy in a chunk.
    entry: { client: 'packages/client/index.ts', react: 'packages/react/index.tsx', redux: 'packages/redux/index.ts' },
    outDir: 'dist-sdk',
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    bundle: true,
    skipNodeModulesBundle: true,
    splitting: true,
    minify: true,
    sourcemap: false,
    clean: false,
    dts,
    esbuildOptions(options) {
      options.jsx = 'automatic';
    },
    // Bundling drops each module's 'use client'; React server components need it on the output.
    banner: { js: "'use client';" },
    // herald/react's stylesheet: the demo's own (theme variables, the components, its page), in a
    // cascade layer, so any rule of the app's own wins over it.
    onSuccess: async () => {
      writeFileSync('dist-sdk/styles.css', `@layer herald {\n${readFileSync('app/globals.css', 'utf8')}}\n`);
    },
  },
]);
