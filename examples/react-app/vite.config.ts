import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const dist = (file: string) => fileURLToPath(new URL(`../../dist-sdk/${file}`, import.meta.url));

/**
 * The example app, built as any app outside this repository would use Herald:
 * `herald/react` is the package as built (`npm run build:sdk`, dist-sdk/), not
 * Herald's source. React, react-redux, Redux Toolkit and socket.io-client, the
 * package's peer dependencies, come from the repository's node_modules.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  resolve: {
    alias: [
      { find: /^herald\/react\/styles\.css$/, replacement: dist('styles.css') },
      { find: /^herald\/react$/, replacement: dist('react.js') },
    ],
  },
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    rolldownOptions: {
      // herald/react starts with 'use client' for React server components; a client-only app has no use for it.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  logLevel: 'warn',
});
