import 'server-only';
import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { HttpError } from '../errors';
import { ErrorCodes } from '../contract';
import { checkJsonBodyHeaders, decodeUtf8, parseJson, readNodeBody } from './body';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's X-Request-Id when it is sane, else a fresh one. */
export function requestIdFrom(given: string | null | undefined): string {
  return given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
}

/**
 * `raw` (a path segment or a query value) parsed by `schema`, or a 400
 * `validation_failed` naming it: `<name>: <the first issue>`.
 */
export function validParam<T>(schema: z.ZodType<T>, raw: unknown, name: string): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new HttpError(400, ErrorCodes.validationFailed, `${name}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

/**
 * An API request as the route handlers see it. Headers have the Fetch
 * standard's semantics (lower-case names; a repeated header is its values
 * joined with ", "), read from rawHeaders: node's `req.headers` keeps only the
 * first of some repeated headers, Authorization among them.
 *
 * A class, not an object of closures: one is made for every push.
 */
export class ApiRequest {
  readonly method: string;
  readonly path: string;
  private readonly search: string;
  private readonly headers = new Map<string, string>();
  readonly requestId: string;
  /** performance.now() on arrival. */
  readonly started = performance.now();

  constructor(readonly raw: IncomingMessage) {
    this.method = raw.method ?? 'GET';
    const url = raw.url ?? '/';
    const q = url.indexOf('?');
    this.path = q === -1 ? url : url.slice(0, q);
    this.search = q === -1 ? '' : url.slice(q);
    const rawHeaders = raw.rawHeaders;
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      const name = (rawHeaders[i] as string).toLowerCase();
      const value = (rawHeaders[i + 1] as string).trim();
      const prior = this.headers.get(name);
      this.headers.set(name, prior === undefined ? value : `${prior}, ${value}`);
    }
    this.requestId = requestIdFrom(this.headers.get('x-request-id'));
  }

  /** A header by lower-case name; null when absent. */
  header(name: string): string | null {
    return this.headers.get(name) ?? null;
  }

  /** The query string's parameters. */
  get query(): URLSearchParams {
    return new URLSearchParams(this.search);
  }

  /** The body's bytes; HttpError 413 past `maxBytes` (with `Connection: close` when the rest was left unread). */
  body(maxBytes: number): Promise<Uint8Array> {
    return readNodeBody(this.raw, maxBytes);
  }

  /** The body as checked JSON text (media type, encoding, size, UTF-8), not yet parsed. */
  async jsonText(maxBytes: number): Promise<string> {
    checkJsonBodyHeaders((name) => this.header(name), maxBytes);
    return decodeUtf8(await this.body(maxBytes));
  }

  /** The body, parsed as JSON after the checks of jsonText. */
  async json(maxBytes: number): Promise<unknown> {
    return parseJson(await this.jsonText(maxBytes));
  }

  /** A whole number from the query string: undefined when absent, 400 when malformed. */
  queryInt(name: string): number | undefined {
    const v = this.query.get(name);
    if (v === null) return undefined;
    if (!/^\d{1,16}$/.test(v)) throw new HttpError(400, ErrorCodes.validationFailed, `${name}: must be a whole number`);
    return Number(v);
  }
}
