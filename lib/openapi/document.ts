import 'server-only';
import { z } from 'zod';
import { SIGNATURE_WINDOW_SECONDS } from '../http/signature';
import { operations, type Credentials, type HeaderName, type OperationSpec, type ResponseSpec } from './operations';
import { components, refinements } from './schemas';

/**
 * The OpenAPI 3.1 document of the HTTP API, built from what the server really
 * serves: the route table's entries (method, path, name) and the probes, each
 * described by lib/openapi/operations.ts, with every schema converted from zod
 * (z.toJSONSchema, JSON Schema 2020-12, which OpenAPI 3.1 uses as it is). A
 * route added without a description still appears, marked
 * `x-herald-undocumented`, and the tests refuse that.
 */

export type JsonSchema = Record<string, unknown>;
export type OpenApiDocument = Record<string, unknown> & {
  openapi: string;
  paths: Record<string, Record<string, OperationObject>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, unknown> };
};
export interface OperationObject {
  operationId: string;
  security?: Array<Record<string, []>>;
  parameters?: Array<{ name: string; in: string; examples?: Record<string, { value: unknown }> }>;
  requestBody?: { required?: boolean; description?: string; content: Record<string, { schema: JsonSchema; examples?: Record<string, ExampleObject> }> };
  responses: Record<string, { description: string; headers?: Record<string, unknown>; content?: Record<string, { schema: JsonSchema; examples?: Record<string, ExampleObject> }> }>;
  'x-herald-undocumented'?: true;
  [key: string]: unknown;
}
export interface ExampleObject {
  summary: string;
  value?: unknown;
  /** Set on answers the tests replay: which credentials the request carries. */
  'x-herald-replay'?: Credentials;
}

/** What the document describes: the table's routes, plus the probes served before it. */
export interface DocumentRoute {
  method: string;
  path: string;
  name: string;
}

export const PROBE_ROUTES: readonly DocumentRoute[] = [
  { method: 'GET', path: '/healthz', name: 'healthz' },
  { method: 'GET', path: '/readyz', name: 'readyz' },
];

const COMPONENT = '#/components/schemas/';

/** Rewrites zod's `#/$defs/<id>` references to the document's components, and drops the copies. */
function toComponentRefs(value: unknown, ids: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => toComponentRefs(v, ids));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === '$schema' || key === '$id') continue;
    if (key === '$defs') {
      const kept = Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([id]) => !ids.has(id)));
      if (Object.keys(kept).length > 0) out.$defs = toComponentRefs(kept, ids);
      continue;
    }
    if (key === '$ref' && typeof v === 'string') {
      const id = /^#\/\$defs\/(.+)$/.exec(v)?.[1];
      out.$ref = id !== undefined && ids.has(id) ? `${COMPONENT}${id}` : v.replace(/^#\/components\/schemas\/__shared#\/\$defs\//, COMPONENT);
      continue;
    }
    out[key] = toComponentRefs(v, ids);
  }
  return out;
}

let cachedComponents: Record<string, JsonSchema> | undefined;
/** Every registered schema, once; zod's `__shared` definitions become components of their own. */
function componentSchemas(): Record<string, JsonSchema> {
  if (cachedComponents) return cachedComponents;
  const { schemas } = z.toJSONSchema(components, {
    io: 'input',
    unrepresentable: 'any',
    metadata: components,
    uri: (id) => `${COMPONENT}${id}`,
    override: (ctx) => Object.assign(ctx.jsonSchema, refinements.get(ctx.zodSchema)),
  });
  const { __shared: shared, ...named } = schemas as Record<string, JsonSchema>;
  const all = { ...named, ...((shared?.$defs as Record<string, JsonSchema> | undefined) ?? {}) };
  cachedComponents = toComponentRefs(all, new Set(Object.keys(all))) as Record<string, JsonSchema>;
  return cachedComponents;
}

/** A zod schema as the document's JSON Schema: a `$ref` when registered, else inline. */
export function schemaOf(schema: z.ZodType): JsonSchema {
  const id = components.get(schema)?.id;
  if (id !== undefined) return { $ref: `${COMPONENT}${id}` };
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', metadata: components });
  return toComponentRefs(json, new Set(Object.keys(componentSchemas()))) as JsonSchema;
}

const HEADERS: Record<HeaderName | 'x-request-id', { description: string; schema: JsonSchema }> = {
  'x-request-id': { description: "The request's id (yours when you sent a sane X-Request-Id); it is in Herald's log line too.", schema: { type: 'string' } },
  'retry-after': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 0 } },
  'www-authenticate': { description: 'The scheme the route expects.', schema: { type: 'string' } },
  'idempotent-replayed': { description: '`true` when this is the answer of an earlier push with the same key; nothing new was delivered.', schema: { const: 'true' } },
};

/** One response; `requestId` false for the probes, which answer before the API's router and carry no X-Request-Id. */
function responseObject(spec: ResponseSpec, requestId: boolean): OperationObject['responses'][string] {
  const examples = Object.fromEntries(
    Object.entries(spec.examples ?? {}).map(([name, ex]) => {
      const object: ExampleObject = { summary: ex.summary };
      if (ex.answer !== undefined) object.value = ex.answer;
      if (ex.replay !== undefined) object['x-herald-replay'] = ex.replay;
      return [name, object];
    }),
  );
  const hasExamples = Object.keys(examples).length > 0;
  const content = spec.json
    ? { 'application/json': { schema: schemaOf(spec.json), ...(hasExamples ? { examples } : {}) } }
    : spec.mediaType
      ? { [spec.mediaType]: { schema: spec.mediaType === 'application/json' ? { type: 'object' } : { type: 'string' }, ...(hasExamples ? { examples } : {}) } }
      : undefined;
  return {
    description: spec.description,
    headers: Object.fromEntries([...(requestId ? ['x-request-id' as const] : []), ...(spec.headers ?? [])].map((h) => [h, HEADERS[h]])),
    ...(content ? { content } : {}),
  };
}

function operationObject(route: DocumentRoute, spec: OperationSpec, openPushApi: boolean): OperationObject {
  const exchanges = Object.values(spec.responses).flatMap((r) => Object.entries(r.examples ?? {}));
  const parameters = [
    ...pathParameters(route.path).filter((p) => !spec.parameters?.some((q) => q.in === 'path' && q.name === p.name)),
    ...(spec.parameters ?? []).map((p) => {
      const examples = Object.fromEntries(
        exchanges.flatMap(([name, ex]) => {
          const text =
            p.in === 'query' ? ex.request?.query?.[p.name] : p.in === 'header' ? ex.request?.headers?.[p.name] : ex.request?.path?.[p.name];
          if (text === undefined) return [];
          // The value as its schema types it: a whole number for `limit`, as the query string spells it.
          const value = /^\d{1,15}$/.test(text) && integerSchema(p.schema) ? Number(text) : text;
          return [[name, { summary: ex.summary, value }]];
        }),
      );
      return {
        name: p.name,
        in: p.in,
        required: p.in === 'path' ? true : (p.required ?? false),
        description: p.description,
        schema: schemaOf(p.schema),
        ...(Object.keys(examples).length > 0 ? { examples } : {}),
      };
    }),
  ];
  const bodyExamples = Object.fromEntries(
    exchanges.flatMap(([name, ex]) => (ex.request?.body === undefined ? [] : [[name, { summary: ex.summary, value: ex.request.body }]])),
  );
  // Without PUSH_API_KEY (development only) the push API is open: the document says so.
  const open = openPushApi && spec.security.some((s) => 'pushKey' in s);
  return {
    operationId: camel(route.name),
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [spec.tag],
    security: (open ? [{}, ...spec.security] : spec.security),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(spec.requestBody
      ? {
          requestBody: {
            required: true,
            ...(spec.requestBody.description ? { description: spec.requestBody.description } : {}),
            content: { 'application/json': { schema: schemaOf(spec.requestBody.schema), examples: bodyExamples } },
          },
        }
      : {}),
    responses: Object.fromEntries(
      Object.entries(spec.responses).map(([status, r]) => [status, responseObject(r, !PROBE_ROUTES.some((p) => p.name === route.name))]),
    ),
  };
}

const integerSchema = (schema: z.ZodType): boolean => {
  const json = schemaOf(schema);
  const ref = typeof json.$ref === 'string' ? componentSchemas()[json.$ref.slice(COMPONENT.length)] : json;
  return ref?.type === 'integer';
};

/** `:name` segments as required path parameters. */
function pathParameters(path: string) {
  return path
    .split('/')
    .filter((s) => s.startsWith(':'))
    .map((s) => ({ name: s.slice(1), in: 'path', required: true, schema: { type: 'string', minLength: 1 } }));
}

const camel = (name: string) => name.replace(/[-_.]([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** A route the operations do not describe: listed all the same, so the document never leaves a route out. */
function undocumented(route: DocumentRoute): OperationObject {
  return {
    operationId: camel(route.name),
    summary: route.name,
    'x-herald-undocumented': true,
    ...(route.path.includes(':') ? { parameters: pathParameters(route.path) } : {}),
    responses: { default: { description: 'Not described yet.' } },
  };
}

export function buildOpenApiDocument(opts: { routes: readonly DocumentRoute[]; openPushApi: boolean; version: string }): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const route of [...PROBE_ROUTES, ...opts.routes]) {
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const spec = operations[route.name];
    (paths[path] ??= {})[route.method.toLowerCase()] = spec ? operationObject(route, spec, opts.openPushApi) : undocumented(route);
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'Herald',
      version: opts.version,
      summary: 'Real-time notifications: push from a backend, delivered to browsers over socket.io and kept in an inbox.',
      description:
        'Every error answer is `{"error":{"code","message"}}` with a stable code. Every answer carries `X-Request-Id`. ' +
        'A known path with another method answers 405 `method_not_allowed` with `Allow`; an unknown path under /api/ answers 404 `not_found`.',
      license: { name: 'UNLICENSED', identifier: 'UNLICENSED' },
    },
    servers: [{ url: '/', description: 'This Herald' }],
    tags: [
      { name: 'Push', description: 'Backends send notifications.' },
      { name: 'History', description: "Users' stored notifications." },
      { name: 'Operations', description: 'Probes and metrics.' },
      { name: 'Documentation', description: 'This document.' },
      ...(opts.routes.some((r) => operations[r.name]?.tag === 'Development') ? [{ name: 'Development', description: 'Only in dev auth mode.' }] : []),
    ],
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        pushKey: { type: 'http', scheme: 'bearer', description: 'PUSH_API_KEY as a bearer: `Authorization: Bearer <key>`.' },
        signedTimestamp: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Herald-Timestamp',
          description: `Signed requests: Unix seconds, within ${SIGNATURE_WINDOW_SECONDS} s of Herald's clock. Sent with X-Herald-Signature.`,
        },
        signedSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Herald-Signature',
          description:
            'Signed requests: the hex HMAC-SHA256 of `timestamp + "." + raw body`, keyed with PUSH_API_KEY. The same signed bytes twice are a replay (401).',
        },
        userToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A user token: an HS256 JWT with `sub` (the user id) and `exp`, signed with AUTH_SECRET.' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN as a bearer.' },
      },
    },
  };
}
