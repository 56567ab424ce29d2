/**
 * What `import 'server-only'` resolves to when Herald's server runs outside
 * Next's bundler (tsx, the tsup build, Vitest, worker threads): nothing. The
 * `server-only` package itself throws unless it is resolved with React's
 * `react-server` condition, which plain Node does not use. tsconfig.json maps
 * the specifier here; Next's bundler still recognizes the import by its name,
 * so a client component that imports a module marked server-only fails the
 * build (checked: "'server-only' cannot be imported from a Client Component module").
 */
export {};
