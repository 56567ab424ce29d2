import 'server-only';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from '../errors';
import { ErrorCodes } from '../contract';
import type { Logger } from '../log';
import { ApiRequest } from './request';
import { errorAnswer, sendAnswer, type Answer } from './respond';

/**
 * Herald's HTTP API, served from node:http before Next sees the request: a
 * table of routes, each a method, a path (`:name` matches one segment) and a
 * handler that returns an Answer or throws a named error. Every answer carries
 * X-Request-Id and gets an access-log line; an unknown path under /api/ is a
 * JSON 404, a known path with another method a 405 with `Allow` (OPTIONS: 204
 * with `Allow` and no CORS headers). Paths outside /api/ that the table names
 * (/metrics) are served the same way; every other path is Next's.
 *
 * Hand-written rather than a router package: the routes are a dozen fixed
 * paths with at most one parameter, and a table this size is read at a glance.
 */

export type RouteHandler = (req: ApiRequest, params: Readonly<Record<string, string>>) => Promise<Answer>;

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** e.g. `/api/notifications/:id`. */
  path: string;
  /** In the access log. */
  name: string;
  handler: RouteHandler;
}

export const API_PREFIX = '/api/';

interface Compiled extends Route {
  segments: string[];
}

/** The params of `path` against a route's segments, or undefined when it does not match. */
function match(segments: string[], parts: string[]): Record<string, string> | undefined {
  if (segments.length !== parts.length) return undefined;
  let params: Record<string, string> | undefined;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as string;
    const part = parts[i] as string;
    if (seg.startsWith(':')) {
      let value: string;
      try {
        value = decodeURIComponent(part);
      } catch {
        return undefined;
      }
      if (value === '') return undefined;
      (params ??= {})[seg.slice(1)] = value;
    } else if (seg !== part) {
      return undefined;
    }
  }
  return params ?? {};
}

/**
 * Returns the request listener for the API: it answers and resolves true for
 * paths under /api/, and resolves false for every other path (Next's).
 */
export function apiHandler(
  routes: Route[],
  log: Logger,
  /** Told of every answer: the route's name, its status, the time taken (ms) and the answer. */
  onAnswered: (route: string, status: number, ms: number, answer: Answer) => void = () => undefined,
): (raw: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const compiled: Compiled[] = routes.map((r) => ({ ...r, segments: r.path.split('/') }));
  const outside = new Set(routes.filter((r) => !r.path.startsWith(API_PREFIX)).map((r) => r.path));
  return async (raw, res) => {
    const url = raw.url ?? '/';
    if (!url.startsWith(API_PREFIX) && !outside.has(url.split('?')[0] as string)) return false;
    const req = new ApiRequest(raw);
    const parts = req.path.split('/');
    let answer: Answer;
    let name = 'not-found';
    try {
      const allowed: string[] = [];
      let found: { route: Compiled; params: Record<string, string> } | undefined;
      for (const route of compiled) {
        const params = match(route.segments, parts);
        if (!params) continue;
        allowed.push(route.method);
        if (route.method === req.method && !found) found = { route, params };
      }
      if (found) {
        name = found.route.name;
        answer = await found.route.handler(req, found.params);
      } else if (allowed.length === 0) {
        throw new HttpError(404, ErrorCodes.notFound, `no API route ${req.path}`);
      } else if (req.method === 'OPTIONS') {
        name = 'options';
        answer = { status: 204, headers: { allow: [...allowed, 'OPTIONS'].join(', ') } };
      } else {
        name = 'method-not-allowed';
        throw new HttpError(405, ErrorCodes.methodNotAllowed, `use ${allowed.join(' or ')}`, { allow: allowed.join(', ') });
      }
    } catch (err) {
      answer = errorAnswer(err, log, { route: name, requestId: req.requestId });
    }
    sendAnswer(res, answer, { 'x-request-id': req.requestId });
    const ms = performance.now() - req.started;
    // One line per request is debug: at the default level a push writes no log line
    // (what one costs is in docs/benchmarks.md); counts and latencies are in /metrics,
    // and a failure logs its own error line.
    log.debug('http', { route: name, method: req.method, status: answer.status, ms: Math.round(ms * 10) / 10, requestId: req.requestId });
    onAnswered(name, answer.status, ms, answer);
    return true;
  };
}
