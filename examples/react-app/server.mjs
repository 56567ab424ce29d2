// Acme's backend: serves the built page (dist/, `npm run build:example`), tells it where Herald
// is, and mints a Herald user token for whoever signs in, with herald/server. A real backend
// mints it for the user its own session says is signed in; this example trusts the form.
//
//   AUTH_SECRET=… HERALD_URL=http://127.0.0.1:3000 PORT=5173 node examples/react-app/server.mjs
//
// Herald must list this app's origin: ALLOWED_ORIGINS=http://127.0.0.1:5173.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintUserToken } from 'herald/server';

const DIST = fileURLToPath(new URL('./dist/', import.meta.url));
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
/** A Herald token lives this long; the page asks for a fresh one before it runs out. */
const TOKEN_TTL_SECONDS = 3600;

/**
 * Starts the backend. `options` is read on every request, so a test may set
 * `heraldUrl` once Herald is up. Resolves once listening.
 * @param {{ port?: number, host?: string, authSecret: string, heraldUrl: string }} options
 */
export async function startExampleServer(options) {
  const server = createServer((req, res) => {
    handle(req, res, options).catch((err) => {
      console.error(err);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve(undefined)));
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    port: address.port,
    url: `http://${options.host ?? '127.0.0.1'}:${address.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve(undefined))),
  };
}

async function handle(req, res, options) {
  const url = new URL(req.url ?? '/', 'http://acme.invalid');
  if (req.method === 'GET' && url.pathname === '/config.json') {
    return json(res, 200, { heraldUrl: options.heraldUrl });
  }
  if (req.method === 'POST' && url.pathname === '/api/herald-token') {
    const body = JSON.parse((await readBody(req)) || '{}');
    const userId = typeof body.userId === 'string' ? body.userId.trim() : '';
    if (!userId || userId.length > 128) return json(res, 400, { error: 'userId required' });
    const token = await mintUserToken(options.authSecret, userId, { ttlSeconds: TOKEN_TTL_SECONDS });
    return json(res, 200, { token });
  }
  if (req.method !== 'GET') return json(res, 405, { error: 'method not allowed' });
  // The built page: its files, and index.html for any other path.
  const file = path.join(DIST, path.normalize(url.pathname).replace(/^([/\\])+/, ''));
  const target = file.startsWith(DIST) && path.extname(file) ? file : path.join(DIST, 'index.html');
  try {
    const content = await readFile(target);
    res.writeHead(200, { 'content-type': TYPES[path.extname(target)] ?? 'application/octet-stream' });
    res.end(content);
  } catch {
    json(res, 404, { error: 'not found (run npm run build:example first)' });
  }
}

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 4096) throw new Error('body too large');
  }
  return body;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { AUTH_SECRET, HERALD_URL, PORT, HOST } = process.env;
  if (!AUTH_SECRET || !HERALD_URL) {
    console.error('Set AUTH_SECRET (Herald’s) and HERALD_URL (e.g. http://127.0.0.1:3000).');
    process.exit(1);
  }
  const app = await startExampleServer({ authSecret: AUTH_SECRET, heraldUrl: HERALD_URL, port: Number(PORT ?? 5173), host: HOST });
  console.warn(`Acme on ${app.url}; Herald must allow this origin (ALLOWED_ORIGINS=${app.url}).`);
}
