import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from '../errors';
import { ErrorCodes } from '../protocol';
import type { HeraldRuntime } from '../runtime';
import { DRAIN_FACTOR, tooLarge } from './body';
import { acceptPush, type PushRequestSource } from './push';
import { errorAnswer, JSON_HEADERS, logAnswered, requestIdFrom, startingAnswer, type Answer } from './respond';

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
  const body = JSON.stringify(answer.body);
  // A declared length, not chunked framing: writeHead fixes the head before end() could measure the body.
  res.writeHead(answer.status, {
    ...JSON_HEADERS,
    ...answer.headers,
    'x-request-id': requestId,
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
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
  return {
    header: (name) => headers.get(name) ?? null,
    body: (maxBytes) => readNodeBody(req, maxBytes),
  };
}

/**
 * The body's bytes, capped. Past the cap the rest is read and dropped up to
 * DRAIN_FACTOR times the cap, so the connection can carry the next request;
 * past that the answer says `Connection: close` (the rest is never read), as
 * for the Web version in body.ts.
 */
export function readNodeBody(req: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      chunks.length = 0;
      if (total > maxBytes * DRAIN_FACTOR) {
        done();
        req.pause();
        reject(tooLarge(maxBytes, { connection: 'close' }));
      }
    };
    const onEnd = () => {
      done();
      if (total > maxBytes) reject(tooLarge(maxBytes));
      else resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total));
    };
    // The client went away mid-body: nobody is left to answer, but the promise must settle.
    const onGone = () => {
      done();
      reject(new HttpError(400, ErrorCodes.invalidJson, 'the request body ended early'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('close', onGone);
  });
}
