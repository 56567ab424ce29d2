import 'server-only';
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/**
 * HS256 JWT verification with `node:crypto`, synchronous.
 *
 * Every socket that connects presents a token, so this is on the connect path.
 * jose verifies through WebCrypto: a job on the thread pool and a chain of
 * promises per token; one HMAC here is a fraction of that (docs/benchmarks.md,
 * change 18). Signing stays with jose (lib/auth.ts): it runs in backends,
 * scripts and tests, not per connection.
 *
 * It accepts what jose's `jwtVerify(token, key, { algorithms: ['HS256'],
 * requiredClaims: ['sub', 'exp'], clockTolerance })` accepts, with the same
 * claims, and is stricter in one way: every part must be canonical unpadded
 * base64url (jose's decoder also takes padding, whitespace and non-zero spare
 * bits, which no signer produces). `lib/jwt.test.ts` checks the two against
 * each other on valid tokens and on thousands of mutated ones.
 */

export interface Hs256Claims {
  /** The whole claims set, a plain JSON object. `sub` is present, of any type (as in jose): the caller checks it. */
  claims: Record<string, unknown>;
  exp: number;
}

export type Hs256Result =
  | { ok: true; value: Hs256Claims }
  /** malformed: not a compact JWS, bad JSON, wrong alg; signature: it does not verify; claims: a claim is missing or mistyped; expired: `exp` has passed; early: `nbf` is ahead. */
  | { ok: false; reason: 'malformed' | 'signature' | 'claims' | 'expired' | 'early' };

const BASE64URL = /^[A-Za-z0-9_-]*$/;
// As jose's: invalid UTF-8 is an error, and a leading BOM is dropped.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

let cachedKey: { secret: string; key: KeyObject } | undefined;
/** The HMAC key for a secret (its UTF-8 bytes), made once rather than per token. */
export function hmacKeyOf(secret: string): KeyObject {
  if (cachedKey?.secret !== secret) cachedKey = { secret, key: createSecretKey(Buffer.from(secret, 'utf8')) };
  return cachedKey.key;
}

/** Decodes one part: undefined unless it is canonical unpadded base64url. */
function decodePart(part: string): Buffer | undefined {
  if (!BASE64URL.test(part) || part.length % 4 === 1) return undefined;
  const bytes = Buffer.from(part, 'base64url');
  // Non-zero spare bits in the last character decode to the same bytes: only the canonical spelling passes.
  return bytes.toString('base64url') === part ? bytes : undefined;
}

/** JSON object with a prototype of Object or null, as jose's isObject. */
function jsonObjectOf(bytes: Buffer): Record<string, unknown> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(strictUtf8.decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  return parsed as Record<string, unknown>;
}

/** The protected header's `crit`: jose knows only `b64`, and a JWT's payload must be encoded (b64 true). */
function critAllowed(header: Record<string, unknown>): boolean {
  const { crit } = header;
  if (crit === undefined) return true;
  if (!Array.isArray(crit) || crit.length === 0) return false;
  for (const name of crit) {
    if (name !== 'b64') return false;
  }
  return header.b64 === true;
}

const isNumber = (value: unknown): value is number => typeof value === 'number';

/**
 * Verifies an HS256 compact JWT with `sub` and `exp` required.
 * `now` is seconds since the epoch; `tolerance` the clock skew allowed, in seconds.
 */
export function verifyHs256(token: string, key: KeyObject, now: number, tolerance: number): Hs256Result {
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (second < 0 || token.indexOf('.', second + 1) >= 0) return { ok: false, reason: 'malformed' };
  const headerPart = token.slice(0, first);
  const payloadPart = token.slice(first + 1, second);
  const signaturePart = token.slice(second + 1);

  const headerBytes = decodePart(headerPart);
  const header = headerBytes && jsonObjectOf(headerBytes);
  if (!header || header.alg !== 'HS256' || !critAllowed(header)) return { ok: false, reason: 'malformed' };

  // Both parts decoded, so the signed text is ASCII; the claims are read only once the signature holds, as in jose.
  const signature = decodePart(signaturePart);
  const payloadBytes = decodePart(payloadPart);
  if (!signature || !payloadBytes) return { ok: false, reason: 'malformed' };
  const expected = createHmac('sha256', key).update(token.slice(0, second), 'latin1').digest();
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return { ok: false, reason: 'signature' };

  const claims = jsonObjectOf(payloadBytes);
  if (!claims) return { ok: false, reason: 'malformed' };
  const { exp, nbf, iat } = claims;
  if (!Object.hasOwn(claims, 'sub') || !Object.hasOwn(claims, 'exp')) return { ok: false, reason: 'claims' };
  if ((iat !== undefined && !isNumber(iat)) || (nbf !== undefined && !isNumber(nbf)) || !isNumber(exp)) {
    return { ok: false, reason: 'claims' };
  }
  if (nbf !== undefined && nbf > now + tolerance) return { ok: false, reason: 'early' };
  if (exp <= now - tolerance) return { ok: false, reason: 'expired' };
  return { ok: true, value: { claims, exp } };
}
