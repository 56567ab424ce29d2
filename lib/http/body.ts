import { HttpError } from '../errors';
import { ErrorCodes } from '../contract';

/**
 * Reads a JSON body with the checks a public endpoint needs, in the order that
 * costs least: media type, declared length, then the bytes as they stream (a
 * lying or absent Content-Length cannot get past the cap).
 */
export async function readJsonBody(request: Request, maxBytes: number): Promise<{ value: unknown; raw: string }> {
  const raw = await readBodyText(request, maxBytes);
  return { value: parseJson(raw), raw };
}

/**
 * The checks of readJsonBody up to the decoded text, without parsing it: a
 * signed request is authenticated over these bytes before anything else is
 * done with them.
 */
export async function readBodyText(request: Request, maxBytes: number): Promise<string> {
  checkJsonBodyHeaders((name) => request.headers.get(name), maxBytes);
  return decodeUtf8(await readCapped(request, maxBytes));
}

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

/** Parses a body read by readBodyText. */
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

/** A Web request's body, capped (see DRAIN_FACTOR for what happens past the cap). */
export async function readCapped(request: Request, maxBytes: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      // Read on and discard, a bounded amount: a client still sending when the
      // connection closes gets a reset instead of this 413 (EPIPE in undici),
      // and once the whole body is in, the connection can carry the next request.
      let drained = total;
      let finished = false;
      while (!finished && drained <= maxBytes * DRAIN_FACTOR) {
        const next = await reader.read();
        finished = next.done;
        drained += next.value?.byteLength ?? 0;
      }
      if (finished) throw tooLarge(maxBytes);
      // The rest is still on the wire and will never be read, so this connection
      // cannot carry another request: without `Connection: close` a pooling
      // client reused it and its next request hung, then failed with ECONNRESET.
      await reader.cancel().catch(() => undefined);
      throw tooLarge(maxBytes, { connection: 'close' });
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

export const tooLarge = (maxBytes: number, headers: Record<string, string> = {}) =>
  new HttpError(413, ErrorCodes.payloadTooLarge, `body must be at most ${maxBytes} bytes`, headers);
