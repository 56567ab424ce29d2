import 'server-only';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { buildOpenApiDocument, type OpenApiDocument } from '../openapi/document';
import type { Route } from './router';

/**
 * GET /api/openapi.json, the OpenAPI document built from the routes this
 * server serves; GET /api/docs, a page that renders it with Redoc's
 * standalone bundle, which Herald serves itself from node_modules (no CDN: it
 * works offline) at GET /api/docs/redoc.standalone.js.
 */

export const VIEWER_PATH = '/api/docs/redoc.standalone.js';

/**
 * The page's own policy, exactly what Redoc needs: its script from here, the
 * document from here, the style tags styled-components writes ('unsafe-inline';
 * styles cannot run script), the search index's worker, which Redoc starts
 * from a blob: URL, and data: images (its icons). Nothing else loads or runs:
 * the "API docs by Redocly" logo, which Redoc fetches from its CDN, is refused,
 * and Redoc drops the image when it fails to load.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  'worker-src blob:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

// `<redoc spec-url>` is found and rendered by the bundle itself: the page has no inline script.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Herald API</title>
</head>
<body>
<redoc spec-url="/api/openapi.json" native-scrollbars="true"></redoc>
<script src="${VIEWER_PATH}"></script>
</body>
</html>
`;

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': DOCS_CSP,
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

export interface OpenApiRouteDeps {
  /** The route table, read when the document is first asked for (by then it is complete). */
  routes: readonly Route[];
  /** PUSH_API_KEY unset (development): the document says the push API is open. */
  openPushApi: boolean;
  version: string;
}

export function openapiRoutes(deps: OpenApiRouteDeps): Route[] {
  let document: OpenApiDocument | undefined;
  let viewer: string | undefined;
  return [
    {
      method: 'GET',
      path: '/api/openapi.json',
      name: 'openapi',
      handler: async () => {
        document ??= buildOpenApiDocument({ routes: deps.routes, openPushApi: deps.openPushApi, version: deps.version });
        return { status: 200, body: document };
      },
    },
    {
      method: 'GET',
      path: '/api/docs',
      name: 'docs',
      handler: async () => ({ status: 200, text: PAGE, headers: PAGE_HEADERS }),
    },
    {
      method: 'GET',
      path: VIEWER_PATH,
      name: 'docs-viewer',
      handler: async () => {
        viewer ??= readFileSync(createRequire(import.meta.url).resolve('redoc/bundles/redoc.standalone.js'), 'utf8');
        return { status: 200, text: viewer, headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=3600' } };
      },
    },
  ];
}
