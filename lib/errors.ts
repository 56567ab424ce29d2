import { ErrorCodes, type ErrorBody, type ErrorCode } from './protocol';

/** An error that maps to one HTTP status and one stable code. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

/** Token verification failed; `code` is what the client sees in `connect_error`. */
export class AuthError extends Error {
  override name = 'AuthError';
  constructor(
    readonly code: typeof ErrorCodes.unauthorized | typeof ErrorCodes.tokenExpired,
    message: string,
  ) {
    super(message);
  }
}

/** The same idempotency key arrived with a different body. */
export class IdempotencyConflictError extends Error {
  override name = 'IdempotencyConflictError';
}

/** The inbox cannot be reached; nothing was stored. */
export class InboxUnavailableError extends Error {
  override name = 'InboxUnavailableError';
}
