import 'server-only';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { HttpError } from '../errors';
import { ErrorCodes, type ErrorCode } from '../contract';

/**
 * Request signing for the push API, for backends that prefer it to sending the
 * key itself: `X-Herald-Timestamp` (Unix seconds) and `X-Herald-Signature`, the
 * hex HMAC-SHA256 of `timestamp + "." + raw body` keyed with PUSH_API_KEY.
 */
export const SIGNATURE_WINDOW_SECONDS = 5 * 60;
export const TIMESTAMP_HEADER = 'x-herald-timestamp';
export const SIGNATURE_HEADER = 'x-herald-signature';

export function signBody(key: string, timestamp: number | string, rawBody: string): string {
  return createHmac('sha256', key).update(`${timestamp}.${rawBody}`).digest('hex');
}

const unauthorized = (code: ErrorCode, message: string) =>
  new HttpError(401, code, message, { 'www-authenticate': 'HeraldSignature' });

/** Checks the headers' form and the time window before the body is read. Returns the timestamp. */
export function checkSignatureHeaders(timestamp: string | null, signature: string | null, nowSeconds: number): number {
  if (timestamp === null || signature === null) {
    throw unauthorized(ErrorCodes.signatureInvalid, `send both ${TIMESTAMP_HEADER} and ${SIGNATURE_HEADER}`);
  }
  if (!/^\d{1,12}$/.test(timestamp)) throw unauthorized(ErrorCodes.signatureInvalid, `${TIMESTAMP_HEADER} must be Unix seconds`);
  if (!/^[0-9a-f]{64}$/i.test(signature)) throw unauthorized(ErrorCodes.signatureInvalid, `${SIGNATURE_HEADER} must be 64 hex digits`);
  const ts = Number(timestamp);
  if (Math.abs(nowSeconds - ts) > SIGNATURE_WINDOW_SECONDS) {
    throw unauthorized(ErrorCodes.signatureExpired, `${TIMESTAMP_HEADER} is more than ${SIGNATURE_WINDOW_SECONDS} s from the server's clock`);
  }
  return ts;
}

/** Verifies the HMAC over the raw body, in constant time. */
export function verifySignature(key: string, timestamp: string, signature: string, rawBody: string): void {
  const expected = Buffer.from(signBody(key, timestamp, rawBody), 'hex');
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw unauthorized(ErrorCodes.signatureInvalid, 'signature does not match the body');
  }
}
