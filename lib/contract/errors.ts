/** One list of error codes for HTTP bodies, `connect_error` messages and acks. */
export const ErrorCodes = {
  /** Missing, malformed or forged credentials. */
  unauthorized: 'unauthorized',
  /** A user token whose `exp` has passed. */
  tokenExpired: 'token_expired',
  invalidJson: 'invalid_json',
  validationFailed: 'validation_failed',
  payloadTooLarge: 'payload_too_large',
  unsupportedMediaType: 'unsupported_media_type',
  methodNotAllowed: 'method_not_allowed',
  notFound: 'not_found',
  /** The same idempotency key was used with a different body. */
  idempotencyConflict: 'idempotency_conflict',
  /** A signed push whose HMAC does not match, or whose signature headers are malformed. */
  signatureInvalid: 'signature_invalid',
  /** A signed push whose timestamp is outside the 5-minute window. */
  signatureExpired: 'signature_expired',
  /** The exact signed request was already accepted (a replay). */
  signatureReplayed: 'signature_replayed',
  /** Over a rate limit; retry later (HTTP: see Retry-After; a handshake: `data.retryAfterSeconds`). */
  rateLimited: 'rate_limited',
  /** Over the connections allowed per user or per address. */
  tooManyConnections: 'too_many_connections',
  /** A browser connection from an origin not in ALLOWED_ORIGINS. */
  originNotAllowed: 'origin_not_allowed',
  /** The client stopped reading: more was queued for it than the server keeps. Reconnect to catch up. */
  slowConsumer: 'slow_consumer',
  /** Storage is unreachable: nothing was accepted. */
  unavailable: 'unavailable',
  internal: 'internal_error',
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Every HTTP error answer. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/** A socket acknowledgement: the answer, or a refusal with a code. */
export type Ack<T> = ({ ok: true } & T) | { ok: false; error: ErrorCode; message?: string };
