// @ts-check
/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // server.ts runs under tsx, not Next's bundler; these stay native Node modules.
  serverExternalPackages: ['better-sqlite3', 'socket.io'],
  typescript: { tsconfigPath: 'tsconfig.json' },
  // `npm run dev` prints http://localhost:<port>; a page opened at http://127.0.0.1:<port> is
  // another origin to Next, which then refused its hot-reload WebSocket ("Unauthorized").
  allowedDevOrigins: ['127.0.0.1'],
};

export default nextConfig;
