import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: {
      '@': fileURLToPath(new URL('.', import.meta.url)),
      // As tsconfig.json maps it for tsx and tsup: outside Next's bundler, `server-only` is a no-op.
      'server-only': fileURLToPath(new URL('./lib/server-only.ts', import.meta.url)),
    },
  },
  test: {
    include: ['**/*.test.ts', '**/*.test.tsx'],
    exclude: ['node_modules/**', '.next/**', 'dist/**', 'e2e/**'],
    environment: 'node',
    // Suites start the compiled server (dist/server.js, as npm start does): build it first.
    globalSetup: ['./tests/support/build-server.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites start real server processes; two at a time suits a 2-core machine.
    maxWorkers: 2,
  },
});
