import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from '../errors';
import { ErrorCodes } from '../contract';
import type { HeraldRuntime } from '../runtime';
import { DRAIN_FACTOR, tooLarge } from './body';
import { acceptPush, type PushRequestSource } from './push';
import { errorAnswer, logAnswered, requestIdFrom, sendJson, startingAnswer, type Answer } from './respond';

/**
 * POST /api/push served straight from node:http: the same handler as the route
 * in app/api/push (acceptPush), without Next's router and without building a
 * Web Request and Response around each push. Both cost more CPU than
 * everything else a push does (numbers in docs/benchmarks.md).
 */
export async function servePush(req: IncomingMessage, res: ServerResponse, runtime: HeraldRuntime | undefined): Promise<void> {
  const source = nodeRequestSource(req);
  const requestId = requestIdFrom(source.header('x-request-id'));
  if (!runtime) {
    send(res, startingAnswer(), requestId);
    return;
  }
  const started = performance.now();
  let answer: Answer;
  try {
    answer = await acceptPush(source, runtime);
  } catch (err) {
    answer = errorAnswer(err, runtime, { route: 'push', requestId });
  }
  send(res, answer, requestId);
  logAnswered(runtime, { route: 'push', method: req.method, status: answer.status, started, requestId });
}

function send(res: ServerResponse, answer: Answer, requestId: string): void {
  if (res.headersSent || res.destroyed) return;
  sendJson(res, answer.status, answer.body, { ...answer.headers, 'x-request-id': requestId });
}

/**
 * Headers with the Fetch standard's semantics (lower-case names; a repeated
 * header is its values joined with ", "), read from rawHeaders: node's
 * `req.headers` keeps only the first of some repeated headers, Authorization
 * among them, and a push must be judged the same whichever way it arrived.
 */
export function nodeRequestSource(req: IncomingMessage): PushRequestSource {
  const headers = new Map<string, string>();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = (raw[i + 1] as string).trim();
    const prior = headers.get(name);
    headers.set(name, prior === undefined ? value : `${prior}, ${value}`);
  }
  return new NodeRequestSource(req, headers);
}

/**
 * A class, not an object of closures: this runs for every push, and under tsx
 * each named closure costs an Object.defineProperty (esbuild's keepNames) on top
 * of its allocation (1.3 % of the main thread in the single-recipient profile).
 */
class NodeRequestSource implements PushRequestSource {
  constructor(
    private readonly req: IncomingMessage,
    private readonly headers: Map<string, string>,
  ) {}

  header(name: string): string | null {
    return this.headers.get(name) ?? null;
  }

  body(maxBytes: number): Promise<Uint8Array> {
    return readNodeBody(this.req, maxBytes);
  }
}

/**
 * The body's bytes, capped. Past the cap the rest is read and dropped up to
 * DRAIN_FACTOR times the cap, so the connection can carry the next request;
 * past that the answer says `Connection: close` (the rest is never read), as
 * for the Web version in body.ts.
 *
 * The listeners stay on the request once the promise has settled (they do
 * nothing then, and go with the request): removing them would need a named
 * closure each (see NodeRequestSource).
 */
export function readNodeBody(req: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let settled = false;
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      total += chunk.length;
      if (total <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      chunks.length = 0;
      if (total > maxBytes * DRAIN_FACTOR) {
        settled = true;
        req.pause();
        reject(tooLarge(maxBytes, { connection: 'close' }));
      }
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      if (total > maxBytes) reject(tooLarge(maxBytes));
      else resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total));
    });
    // The client went away mid-body: nobody is left to answer, but the promise must settle.
    for (const event of ['error', 'close']) {
      req.on(event, () => {
        if (settled) return;
        settled = true;
        reject(new HttpError(400, ErrorCodes.invalidJson, 'the request body ended early'));
      });
    }
  });
}
