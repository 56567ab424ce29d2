/**
 * What `import 'server-only'` resolves to when Herald's server runs outside
 * Next's bundler (tsx in development, the tsup build, Vitest, worker threads):
 * nothing. The `server-only` package itself throws unless it is resolved with
 * React's `react-server` condition, which plain Node does not use. Next's
 * bundler still sees the real package, so a client component that imports a
 * module marked server-only fails the build. tsconfig.server.json maps the
 * specifier here.
 */
export {};
