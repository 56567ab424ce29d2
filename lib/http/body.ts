import 'server-only';
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../errors';
import { ErrorCodes } from '../contract';

/**
 * The header checks of a JSON body, cheapest first: media type, encoding, then
 * the declared length (a body declared too large is refused unread).
 * `header` returns a header's value by lower-case name, or null.
 */
export function checkJsonBodyHeaders(header: (name: string) => string | null, maxBytes: number): void {
  const type = header('content-type') ?? '';
  if (!JSON_MEDIA_TYPE.test(type.trim())) {
    throw new HttpError(415, ErrorCodes.unsupportedMediaType, 'Content-Type must be application/json');
  }
  const encoding = header('content-encoding');
  if (encoding && encoding.toLowerCase() !== 'identity') {
    throw new HttpError(415, ErrorCodes.unsupportedMediaType, `Content-Encoding "${encoding}" is not supported; send the body uncompressed`);
  }
  const declared = Number(header('content-length') ?? NaN);
  // Refused unread: the body is still on the wire, so this connection cannot carry another request (below).
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes, { connection: 'close' });
}

const JSON_MEDIA_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
/** Stateless between calls (no `stream` option), so one instance serves every request. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The body's text; 400 when the bytes are not UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new HttpError(400, ErrorCodes.invalidJson, 'body is not valid UTF-8');
  }
}

/** Parses a JSON body's text. */
export function parseJson(raw: string): unknown {
  if (raw.trim() === '') throw new HttpError(400, ErrorCodes.invalidJson, 'body is empty; send a JSON object');
  try {
    return JSON.parse(raw) as unknown;
  } catch (err) {
    throw new HttpError(400, ErrorCodes.invalidJson, `body is not valid JSON: ${(err as Error).message}`);
  }
}

/** A body over the cap is still read (and dropped) up to this many times the cap, then the connection is closed. */
export const DRAIN_FACTOR = 16;

export const tooLarge = (maxBytes: number, headers: Record<string, string> = {}) =>
  new HttpError(413, ErrorCodes.payloadTooLarge, `body must be at most ${maxBytes} bytes`, headers);

/**
 * The body's bytes, capped. Past the cap the rest is read and dropped up to
 * DRAIN_FACTOR times the cap, so the connection can carry the next request (a
 * client still sending when the connection closes gets a reset instead of the
 * 413); past that the answer says `Connection: close` (the rest is never read).
 *
 * The listeners stay on the request once the promise has settled (they do
 * nothing then, and go with the request): removing them would need a named
 * closure each, on the path of every push.
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
