import 'server-only';
import type { ServerResponse } from 'node:http';
import { HttpError, IdempotencyConflictError, InboxUnavailableError } from '../errors';
import { ErrorCodes } from '../contract';
import type { Logger } from '../log';

/** An answer before it is written: JSON (`body`), plain text (`text`, with its content type in `headers`), or none (204). */
export interface Answer {
  status: number;
  body?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

/** Every JSON answer has these: no-store caching, since every answer here is about live state. */
export const JSON_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

/** Writes a JSON answer with a declared length (writeHead fixes the head before end() could measure the body). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...JSON_HEADERS, ...headers, 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

/** Writes an Answer, unless the response is gone or already answered. */
export function sendAnswer(res: ServerResponse, answer: Answer, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  if (answer.body === undefined) {
    const text = answer.text ?? '';
    res.writeHead(answer.status, {
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...answer.headers,
      ...headers,
      ...(answer.text !== undefined ? { 'content-length': String(Buffer.byteLength(text)) } : {}),
    });
    res.end(text);
    return;
  }
  sendJson(res, answer.status, answer.body, { ...answer.headers, ...headers });
}

/** What a thrown error answers: its own status for named errors, a logged 500 for anything else. */
export function errorAnswer(err: unknown, log: Logger, fields: Record<string, string>): Answer {
  if (err instanceof HttpError) return { status: err.status, body: err.toBody(), headers: err.headers };
  if (err instanceof IdempotencyConflictError) {
    return { status: 409, body: new HttpError(409, ErrorCodes.idempotencyConflict, err.message).toBody() };
  }
  if (err instanceof InboxUnavailableError) {
    log.error('inbox unavailable', { ...fields, err });
    return {
      status: 503,
      body: new HttpError(503, ErrorCodes.unavailable, 'storage is unavailable; nothing was accepted').toBody(),
      headers: { 'retry-after': '1' },
    };
  }
  log.error('unhandled error in route', { ...fields, err });
  return { status: 500, body: new HttpError(500, ErrorCodes.internal, 'internal error').toBody() };
}
