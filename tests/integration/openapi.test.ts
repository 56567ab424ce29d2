import { createHmac } from 'node:crypto';
import { compileErrors, validate } from '@readme/openapi-parser';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { DOCS_CSP, VIEWER_PATH } from '../../lib/http/openapi';
import { operations } from '../../lib/openapi/operations';
import { request, TEST_PUSH_KEY, tokenFor } from '../support/server';
import { serverSuite } from '../support/suite';

/**
 * The OpenAPI document as a running Herald serves it: it validates with a real
 * OpenAPI 3.1 parser, it names every route, every example answer fits its own
 * schema, and every replayable example, sent to Herald as the document spells
 * it, gets the documented status and a body that fits the documented schema.
 */

const METRICS_TOKEN = 'test-metrics-token-0123456789';
const suite = serverSuite({ mode: 'production', env: { METRICS_TOKEN } });
const DOC_ID = 'https://herald.test/openapi.json';

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, any>>;
  components: { schemas: Record<string, unknown> };
};
let doc: Doc;
let schemaAt: SchemaAt;

type SchemaAt = (...parts: string[]) => ValidateFunction;

/** A server's document, and validators for the schemas at places in it (ajv, JSON Schema 2020-12). */
async function loadDocument(base: string): Promise<{ doc: Doc; schemaAt: SchemaAt }> {
  const res = await request(base, '/api/openapi.json');
  expect(res.status).toBe(200);
  const loaded = res.body as Doc;
  // The whole document is one schema resource: `#/components/schemas/…` references resolve inside it.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(loaded, DOC_ID);
  const pointer = (parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
  return { doc: loaded, schemaAt: (...parts) => ajv.compile({ $ref: `${DOC_ID}#/${pointer(parts)}` }) };
}

beforeAll(async () => {
  ({ doc, schemaAt } = await loadDocument(suite.server.url));
});

interface Example {
  path: string;
  method: string;
  status: string;
  mediaType: string;
  name: string;
  value: unknown;
  replay: string | undefined;
}

function examples(doc: Doc): Example[] {
  const out: Example[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
        for (const [mediaType, content] of Object.entries((response.content ?? {}) as Record<string, any>)) {
          for (const [name, ex] of Object.entries((content.examples ?? {}) as Record<string, any>)) {
            out.push({ path, method, status, mediaType, name, value: ex.value, replay: ex['x-herald-replay'] });
          }
        }
      }
    }
  }
  return out;
}

function errorsOf(validateFn: { errors?: unknown }): string {
  return JSON.stringify(validateFn.errors ?? [], null, 1);
}

/**
 * Sends every replayable example (or those `only` keeps) as the document spells it: parameters and
 * body from the same-named request examples, credentials as `x-herald-replay` says. Checks each
 * answer's status, media type, always-present headers, and body against the documented schema.
 * Returns a label for each exchange sent.
 */
async function replayExamples(base: string, doc: Doc, schemaAt: SchemaAt, only?: (ex: Example) => boolean): Promise<string[]> {
  const replayed: string[] = [];
  for (const ex of examples(doc)) {
    if (only && !only(ex)) continue;
    if (ex.replay === undefined) continue;
    const op = doc.paths[ex.path]![ex.method];
    const query = new URLSearchParams();
    const headers: Record<string, string> = {};
    for (const p of (op.parameters ?? []) as Array<{ name: string; in: string; examples?: Record<string, { value: string | number }> }>) {
      const value = p.examples?.[ex.name]?.value;
      if (value === undefined) continue;
      if (p.in === 'query') query.set(p.name, String(value));
      if (p.in === 'header') headers[p.name.toLowerCase()] = String(value);
    }
    const pathWith = ex.path.replace(/\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => {
      const p = (op.parameters ?? []).find((q: { name: string; in: string }) => q.in === 'path' && q.name === name) as { examples?: Record<string, { value: string }> } | undefined;
      const value = p?.examples?.[ex.name]?.value;
      return value === undefined ? whole : encodeURIComponent(value);
    });
    const bodyValue = op.requestBody?.content?.['application/json']?.examples?.[ex.name]?.value;
    const body = bodyValue === undefined ? undefined : JSON.stringify(bodyValue);
    if (body !== undefined) headers['content-type'] = 'application/json';

    const schemes = ((op.security ?? []) as Array<Record<string, unknown>>).find((s) => Object.keys(s).length > 0) ?? {};
    if (ex.replay === 'valid') {
      if ('pushKey' in schemes) headers.authorization = `Bearer ${TEST_PUSH_KEY}`;
      else if ('userToken' in schemes) headers.authorization = `Bearer ${await tokenFor('alice')}`;
      else if ('metricsToken' in schemes) headers.authorization = `Bearer ${METRICS_TOKEN}`;
    } else if (ex.replay === 'wrong') {
      headers.authorization = 'Bearer wrong-credential';
    } else if (ex.replay === 'signed' || ex.replay === 'expired-signature') {
      // As the document's signedSignature scheme says: hex HMAC-SHA256 of `timestamp + "." + body`, keyed with the push key.
      const ts = ex.replay === 'signed' ? String(Math.floor(Date.now() / 1000)) : '1700000000';
      headers['x-herald-timestamp'] = ts;
      headers['x-herald-signature'] = createHmac('sha256', TEST_PUSH_KEY).update(`${ts}.${body ?? ''}`).digest('hex');
    }

    const search = query.size > 0 ? `?${query.toString()}` : '';
    const label = `${ex.method.toUpperCase()} ${pathWith}${search} (${ex.name}, ${ex.replay})`;
    const res = await request(base, `${pathWith}${search}`, { method: ex.method.toUpperCase(), headers, body });
    expect(res.status, `${label}: ${JSON.stringify(res.body)}`).toBe(Number(ex.status));
    expect(res.headers.get('content-type') ?? '', label).toContain(ex.mediaType);
    for (const header of Object.keys((op.responses[ex.status].headers ?? {}) as Record<string, unknown>)) {
      // Headers a response always carries; the others (Retry-After, Idempotent-Replayed) depend on the case.
      if (header === 'x-request-id' || header === 'www-authenticate') expect(res.headers.get(header), `${label}: ${header}`).toBeTruthy();
    }
    if (ex.mediaType === 'application/json') {
      const check = schemaAt('paths', ex.path, ex.method, 'responses', ex.status, 'content', ex.mediaType, 'schema');
      expect(check(res.body), `${label}: ${errorsOf(check)}`).toBe(true);
      const code = (ex.value as { error?: { code?: string } } | undefined)?.error?.code;
      if (code !== undefined) expect(res.body.error.code, label).toBe(code);
    } else {
      expect(typeof res.body === 'string' && res.body.length > 0, label).toBe(true);
    }
    // Labelled by the documented path, so that every operation's replays can be counted.
    replayed.push(label.replace(pathWith, ex.path));
  }
  return replayed;
}

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document by @readme/openapi-parser', async () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    const result = await validate(structuredClone(doc) as any);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
  });

  it('names every route this server serves, each one described', () => {
    const operations = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    expect(operations).toEqual(
      expect.arrayContaining([
        'POST /api/push',
        'GET /api/notifications',
        'GET /api/me/notifications',
        'GET /metrics',
        'GET /healthz',
        'GET /readyz',
        'GET /api/openapi.json',
        'GET /api/docs',
        `GET ${VIEWER_PATH}`,
      ]),
    );
    // A production server without dev auth has no dev routes, and its document says nothing of them.
    expect(operations).not.toContain('POST /api/dev/token');
    const undocumented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([, op]) => op['x-herald-undocumented'] === true)
        .map(([m]) => `${m.toUpperCase()} ${path}`),
    );
    expect(undocumented, 'routes without an entry in lib/openapi/operations.ts').toEqual([]);
  });

  it('has example answers that each fit their own response schema', () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
          const json = response.content?.['application/json'];
          if (!json) continue;
          const check = schemaAt('paths', path, method, 'responses', status, 'content', 'application/json', 'schema');
          for (const [name, ex] of Object.entries((json.examples ?? {}) as Record<string, any>)) {
            if (path === '/api/openapi.json') continue; // its example is abridged
            expect(check(ex.value), `${method} ${path} ${status} ${name}: ${errorsOf(check)}`).toBe(true);
          }
        }
      }
    }
  });

  it('has request bodies that fit the request schema wherever Herald accepts them', () => {
    let checked = 0;
    for (const ex of examples(doc)) {
      const op = doc.paths[ex.path]![ex.method];
      const body = op.requestBody?.content?.['application/json']?.examples?.[ex.name];
      if (!body || !ex.status.startsWith('2')) continue;
      const check = schemaAt('paths', ex.path, ex.method, 'requestBody', 'content', 'application/json', 'schema');
      expect(check(body.value), `${ex.method} ${ex.path} ${ex.name}: ${errorsOf(check)}`).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(4);
    // The schema says what the zod refinement checks: exactly one of tokens and userIds.
    const push = schemaAt('paths', '/api/push', 'post', 'requestBody', 'content', 'application/json', 'schema');
    expect(push({ tokens: ['a'], userIds: ['b'] })).toBe(false);
    expect(push({ entityType: 'like' })).toBe(false);
  });

  it('answers every replayable example as documented: the status, and a body that fits the schema', async () => {
    const replayed = await replayExamples(suite.server.url, doc, schemaAt);
    // Every operation has at least one exchange that really ran.
    const ran = new Set(replayed.map((l) => l.split('?')[0]!.split(' (')[0]));
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item)) expect(ran, `no replayed example for ${method} ${path}`).toContain(`${method.toUpperCase()} ${path}`);
    }
    expect(replayed.length).toBeGreaterThanOrEqual(20);
  });

  it('validates the document it serves: /api/openapi.json is the document the examples used', async () => {
    const again = await request(suite.server.url, '/api/openapi.json');
    expect(again.body).toEqual(doc);
  });
});

describe('/api/docs', () => {
  it('answers 200 HTML under its own Content-Security-Policy, loading the viewer from Herald itself', async () => {
    const res = await request(suite.server.url, '/api/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toBe(DOCS_CSP);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-eval|https?:/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = res.body as string;
    expect(html).toContain('<redoc spec-url="/api/openapi.json"');
    // No inline script: the only script is the viewer's, from this origin.
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts).toHaveLength(1);
    expect(scripts[0]![1]).toContain(`src="${VIEWER_PATH}"`);
    expect(scripts[0]![2]).toBe('');

    const viewer = await fetch(`${suite.server.url}${VIEWER_PATH}`);
    expect(viewer.status).toBe(200);
    expect(viewer.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await viewer.text()).length).toBeGreaterThan(500_000);
  });
});

describe('in dev auth mode', () => {
  // NODE_ENV=test: dev auth (no AUTH_SECRET) and an open push API, as `npm run dev` has.
  const dev = serverSuite({ mode: 'test' });

  it('the document adds POST /api/dev/token, says the push API is open, validates, and its dev examples replay', async () => {
    const loaded = await loadDocument(dev.server.url);
    const result = await validate(structuredClone(loaded.doc) as any);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
    const devToken = loaded.doc.paths['/api/dev/token']?.post;
    expect(devToken).toBeDefined();
    expect(devToken['x-herald-undocumented']).toBeUndefined();
    expect(loaded.doc.paths['/api/push']!.post.security).toContainEqual({});
    const replayed = await replayExamples(dev.server.url, loaded.doc, loaded.schemaAt, (ex) => ex.path === '/api/dev/token');
    expect(replayed.length).toBeGreaterThanOrEqual(2);

    // No stale description: every entry of lib/openapi/operations.ts names a route one of the two servers serves.
    const served = new Set([doc, loaded.doc].flatMap((d) => Object.values(d.paths).flatMap((item) => Object.values(item).map((op) => op.operationId as string))));
    const camel = (name: string) => name.replace(/[-_.]([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    expect(Object.keys(operations).map(camel).filter((id) => !served.has(id))).toEqual([]);
  });
});
