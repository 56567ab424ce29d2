// @ts-check
/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // server.ts runs under tsx, not Next's bundler; these stay native Node modules.
  serverExternalPackages: ['better-sqlite3', 'socket.io'],
  typescript: { tsconfigPath: 'tsconfig.json' },
};

export default nextConfig;
