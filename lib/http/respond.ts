import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { HttpError, IdempotencyConflictError, InboxUnavailableError } from '../errors';
import { findRuntime, type HeraldRuntime } from '../runtime';
import { ErrorCodes } from '../contract';

/** A JSON answer before it is put on a transport: a Web Response, or node:http directly (lib/http/node.ts). */
export interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Every JSON answer has these: no-store caching, since every answer here is about live state. */
export const JSON_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

/** JSON response with no-store caching. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

/**
 * The node:http form of `json`: the same headers, plus a declared length (writeHead
 * fixes the head before end() could measure the body, so no chunked framing).
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...JSON_HEADERS, ...headers, 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's X-Request-Id when it is sane, else a fresh one. */
export function requestIdOf(request: Request): string {
  return requestIdFrom(request.headers.get('x-request-id'));
}

/** requestIdOf for a header value however it was read. */
export function requestIdFrom(given: string | null | undefined): string {
  return given && REQUEST_ID.test(given) ? given : randomUUID();
}

type Handler = (request: Request, ctx: { runtime: HeraldRuntime; requestId: string }) => Promise<Response>;

/**
 * Wraps a route handler: finds the runtime, tags the request with an id, maps
 * named errors to their status and code, and never lets bad input become a 500.
 */
export function route(name: string, handler: Handler): (request: Request) => Promise<Response> {
  return async (request) => {
    const requestId = requestIdOf(request);
    const withId = { 'x-request-id': requestId };
    const runtime = findRuntime();
    if (!runtime) {
      const starting = startingAnswer();
      return json(starting.status, starting.body, withId);
    }
    const started = performance.now();
    let response: Response;
    try {
      response = await handler(request, { runtime, requestId });
    } catch (err) {
      response = errorResponse(err, runtime, { route: name, requestId });
    }
    response.headers.set('x-request-id', requestId);
    logAnswered(runtime, { route: name, method: request.method, status: response.status, started, requestId });
    return response;
  };
}

/** What every route answers before the runtime exists. */
export function startingAnswer(): Answer {
  return { status: 503, body: new HttpError(503, ErrorCodes.unavailable, 'server is starting').toBody() };
}

/** The access-log line of an answered request; `started` is its performance.now() on arrival. */
export function logAnswered(
  runtime: HeraldRuntime,
  r: { route: string; method: string | undefined; status: number; started: number; requestId: string },
): void {
  runtime.log.info('http', {
    route: r.route,
    method: r.method,
    status: r.status,
    ms: Math.round((performance.now() - r.started) * 10) / 10,
    requestId: r.requestId,
  });
}

function errorResponse(err: unknown, runtime: HeraldRuntime, fields: Record<string, string>): Response {
  const answer = errorAnswer(err, runtime, fields);
  return json(answer.status, answer.body, answer.headers);
}

/** What a thrown error answers: its own status for named errors, a logged 500 for anything else. */
export function errorAnswer(err: unknown, runtime: HeraldRuntime, fields: Record<string, string>): Answer {
  if (err instanceof HttpError) return { status: err.status, body: err.toBody(), headers: err.headers };
  if (err instanceof IdempotencyConflictError) {
    return { status: 409, body: new HttpError(409, ErrorCodes.idempotencyConflict, err.message).toBody() };
  }
  if (err instanceof InboxUnavailableError) {
    runtime.log.error('inbox unavailable', { ...fields, err });
    return {
      status: 503,
      body: new HttpError(503, ErrorCodes.unavailable, 'storage is unavailable; nothing was accepted').toBody(),
      headers: { 'retry-after': '1' },
    };
  }
  runtime.log.error('unhandled error in route', { ...fields, err });
  return { status: 500, body: new HttpError(500, ErrorCodes.internal, 'internal error').toBody() };
}

/** A handler for methods a route does not support (tagged and logged like any other answer). */
export function methodNotAllowed(allowed: string[]): (request: Request) => Promise<Response> {
  return route('method-not-allowed', async () => {
    throw new HttpError(405, ErrorCodes.methodNotAllowed, `use ${allowed.join(' or ')}`, { allow: allowed.join(', ') });
  });
}
