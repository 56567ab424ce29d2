import 'server-only';
import * as crypto from 'node:crypto';
import { SignJWT } from 'jose';
import { AuthError } from './errors';
import { hmacKeyOf, verifyHs256 } from './jwt';
import { ErrorCodes } from './contract';
import { UserIdSchema } from './validate';

/**
 * Push-API keys and user tokens.
 *
 * A user token is an HS256 JWT: `sub` = user id, `exp` required, signed with
 * AUTH_SECRET (its UTF-8 bytes are the HMAC key). Backends mint them; browsers
 * present them in the socket.io handshake. Only `sub` decides identity.
 */

const ALGORITHM = 'HS256';
/** Tolerated clock difference between the backend that signs and this server. */
const CLOCK_TOLERANCE_SECONDS = 5;

const keyOf = (secret: string): Uint8Array => new TextEncoder().encode(secret);

/** Signs a user token. Exported for backends written in TypeScript and for tests. */
export async function signUserToken(
  secret: string,
  userId: string,
  ttlSeconds: number,
  now: number = Math.floor(Date.now() / 1000),
): Promise<string> {
  const parsed = UserIdSchema.safeParse(userId);
  if (!parsed.success) throw new TypeError(`invalid user id: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return new SignJWT({})
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(userId)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(keyOf(secret));
}

export interface VerifiedUser {
  userId: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

/**
 * Verifies a user token; throws AuthError with a stable code. Synchronous
 * (`node:crypto`, see lib/jwt.ts): it runs for every socket that connects.
 */
export function verifyUserToken(secret: string, token: unknown, now: number = Math.floor(Date.now() / 1000)): VerifiedUser {
  if (typeof token !== 'string' || token.length === 0) {
    throw new AuthError(ErrorCodes.unauthorized, 'a user token is required');
  }
  const result = verifyHs256(token, hmacKeyOf(secret), now, CLOCK_TOLERANCE_SECONDS);
  if (!result.ok) {
    if (result.reason === 'expired') throw new AuthError(ErrorCodes.tokenExpired, 'token has expired');
    throw new AuthError(ErrorCodes.unauthorized, 'token is not valid');
  }
  const sub = UserIdSchema.safeParse(result.value.claims.sub);
  if (!sub.success) throw new AuthError(ErrorCodes.unauthorized, 'token subject is not a valid user id');
  return { userId: sub.data, exp: result.value.exp };
}

/** Reads `Authorization: Bearer <value>`; undefined when absent or of another scheme. */
export function bearerOf(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
  return match?.[1];
}

/** Constant-time comparison: both sides are hashed first so their lengths never leak. */
export function keysEqual(given: string, expected: string): boolean {
  return crypto.timingSafeEqual(sha256(given), digestOfExpected(expected));
}

// crypto.hash (Node 20.12+) is a third cheaper than a Hash object for one short key: it runs on every push.
const sha256: (s: string) => Buffer =
  typeof crypto.hash === 'function'
    ? (s) => crypto.hash('sha256', s, 'buffer')
    : (s) => crypto.createHash('sha256').update(s).digest();

/** The configured key's digest, computed once rather than on every push (the key does not change while running). */
let expectedDigest: { key: string; digest: Buffer } | undefined;
function digestOfExpected(expected: string): Buffer {
  if (expectedDigest?.key !== expected) expectedDigest = { key: expected, digest: sha256(expected) };
  return expectedDigest.digest;
}

/**
 * Checks the push-API key. `expected` undefined means the API is open (dev only;
 * config refuses that in production).
 */
export function checkPushKey(authorization: string | null | undefined, expected: string | undefined): boolean {
  if (expected === undefined) return true;
  const given = bearerOf(authorization);
  return given !== undefined && keysEqual(given, expected);
}
