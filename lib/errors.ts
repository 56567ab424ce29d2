import 'server-only';
import { ErrorCodes, type ErrorBody, type ErrorCode } from './contract';

/**
 * `instanceof` that works across copies of this module. Route handlers are
 * bundled apart from server.ts (see lib/runtime.ts), so an error thrown by a
 * service that server.ts built (the inbox, the push service) is an instance of
 * server.ts's copy of these classes, and a plain `instanceof` in a route handler
 * is false: an idempotency conflict answered 500 instead of 409, an unreachable
 * inbox 500 instead of 503. Each instance carries its class name under a
 * registry symbol (`Symbol.for` is the same in every copy), and each class's
 * `Symbol.hasInstance` checks that mark.
 */
const KIND = Symbol.for('herald.error.kind');
const mark = (err: Error, kind: string): void => {
  Object.defineProperty(err, KIND, { value: kind });
};
const isKind = (value: unknown, kind: string): boolean =>
  typeof value === 'object' && value !== null && (value as { [KIND]?: unknown })[KIND] === kind;

/** An error that maps to one HTTP status and one stable code. */
export class HttpError extends Error {
  override name = 'HttpError';
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isKind(value, 'HttpError');
  }
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    mark(this, 'HttpError');
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

/** Token verification failed; `code` is what the client sees in `connect_error`. */
export class AuthError extends Error {
  override name = 'AuthError';
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isKind(value, 'AuthError');
  }
  constructor(
    readonly code: typeof ErrorCodes.unauthorized | typeof ErrorCodes.tokenExpired,
    message: string,
  ) {
    super(message);
    mark(this, 'AuthError');
  }
}

/** The same idempotency key arrived with a different body. */
export class IdempotencyConflictError extends Error {
  override name = 'IdempotencyConflictError';
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isKind(value, 'IdempotencyConflictError');
  }
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    mark(this, 'IdempotencyConflictError');
  }
}

/** The inbox cannot be reached; nothing was stored. */
export class InboxUnavailableError extends Error {
  override name = 'InboxUnavailableError';
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isKind(value, 'InboxUnavailableError');
  }
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    mark(this, 'InboxUnavailableError');
  }
}

/** A socket request refused with a stable code, answered as `{ ok: false, error: code }`. */
export class RefusedError extends Error {
  override name = 'RefusedError';
  constructor(
    readonly code: ErrorCode,
    message: string = code,
  ) {
    super(message);
  }
}
