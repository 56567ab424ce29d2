import { randomUUID } from 'node:crypto';
import { HttpError, IdempotencyConflictError, InboxUnavailableError } from '../errors';
import { findRuntime, type HeraldRuntime } from '../runtime';
import { ErrorCodes } from '../protocol';

/** JSON response with no-store caching: every answer here is about live state. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...headers,
    },
  });
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's X-Request-Id when it is sane, else a fresh one. */
export function requestIdOf(request: Request): string {
  const given = request.headers.get('x-request-id');
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
      return json(503, new HttpError(503, ErrorCodes.unavailable, 'server is starting').toBody(), withId);
    }
    const started = performance.now();
    let response: Response;
    try {
      response = await handler(request, { runtime, requestId });
    } catch (err) {
      response = errorResponse(err, runtime, { route: name, requestId });
    }
    response.headers.set('x-request-id', requestId);
    runtime.log.info('http', {
      route: name,
      method: request.method,
      status: response.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      requestId,
    });
    return response;
  };
}

function errorResponse(err: unknown, runtime: HeraldRuntime, fields: Record<string, string>): Response {
  if (err instanceof HttpError) return json(err.status, err.toBody(), err.headers);
  if (err instanceof IdempotencyConflictError) {
    return json(409, new HttpError(409, ErrorCodes.idempotencyConflict, err.message).toBody());
  }
  if (err instanceof InboxUnavailableError) {
    runtime.log.error('inbox unavailable', { ...fields, err });
    return json(503, new HttpError(503, ErrorCodes.unavailable, 'storage is unavailable; nothing was accepted').toBody(), {
      'retry-after': '1',
    });
  }
  runtime.log.error('unhandled error in route', { ...fields, err });
  return json(500, new HttpError(500, ErrorCodes.internal, 'internal error').toBody());
}

/** A handler for methods a route does not support (tagged and logged like any other answer). */
export function methodNotAllowed(allowed: string[]): (request: Request) => Promise<Response> {
  return route('method-not-allowed', async () => {
    throw new HttpError(405, ErrorCodes.methodNotAllowed, `use ${allowed.join(' or ')}`, { allow: allowed.join(', ') });
  });
}
