import { HttpError } from '../errors';
import { ErrorCodes } from '../protocol';

/**
 * Reads a JSON body with the checks a public endpoint needs, in the order that
 * costs least: media type, declared length, then the bytes as they stream (a
 * lying or absent Content-Length cannot get past the cap).
 */
export async function readJsonBody(request: Request, maxBytes: number): Promise<{ value: unknown; raw: string }> {
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i.test(type.trim())) {
    throw new HttpError(415, ErrorCodes.unsupportedMediaType, 'Content-Type must be application/json');
  }
  const encoding = request.headers.get('content-encoding');
  if (encoding && encoding.toLowerCase() !== 'identity') {
    throw new HttpError(415, ErrorCodes.unsupportedMediaType, `Content-Encoding "${encoding}" is not supported; send the body uncompressed`);
  }
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);

  const bytes = await readCapped(request, maxBytes);
  let raw: string;
  try {
    raw = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, ErrorCodes.invalidJson, 'body is not valid UTF-8');
  }
  if (raw.trim() === '') throw new HttpError(400, ErrorCodes.invalidJson, 'body is empty; send a JSON object');
  try {
    return { value: JSON.parse(raw) as unknown, raw };
  } catch (err) {
    throw new HttpError(400, ErrorCodes.invalidJson, `body is not valid JSON: ${(err as Error).message}`);
  }
}

async function readCapped(request: Request, maxBytes: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      // The rest of the body is still on the wire and will never be read, so
      // this connection cannot carry another request: without `Connection:
      // close` a pooling client reused it and its next request hung, then
      // failed with ECONNRESET.
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

const tooLarge = (maxBytes: number, headers: Record<string, string> = {}) =>
  new HttpError(413, ErrorCodes.payloadTooLarge, `body must be at most ${maxBytes} bytes`, headers);
