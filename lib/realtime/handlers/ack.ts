import 'server-only';
import type { z } from 'zod';
import { InboxUnavailableError, RefusedError } from '../../errors';
import { ErrorCodes, type Ack } from '../../contract';
import { describeIssues } from '../../validate';
import type { Logger } from '../../log';
import type { HeraldSocket } from '../types';

/**
 * Splits an event's arguments into payload and ack. socket.io passes the ack
 * last, wherever that falls, so it is read from the end: a client that omits
 * the payload (`emit('notifications:list', ack)`) or adds an unexpected one
 * still gets an answer (a validation_failed ack) instead of waiting forever.
 */
export function payloadAndAck(args: unknown[]): { payload: unknown; ack: ((res: never) => void) | undefined } {
  const last = args.at(-1);
  if (typeof last !== 'function') return { payload: args[0], ack: undefined };
  return { payload: args.length > 1 ? args[0] : undefined, ack: last as (res: never) => void };
}

/**
 * Wraps a socket event handler: validates the payload with its schema, calls the
 * handler, and always answers the ack (when the client gave one) with
 * `{ ok: true, ... }` or `{ ok: false, error }`. Nothing a client sends can throw
 * out of here.
 *
 * The listener it returns is made once per server and added to every socket:
 * the socket is `this` (an EventEmitter calls its listeners with itself as
 * `this`), so a connection costs no closures of its own.
 */
export function acked<S extends z.ZodType, R extends object>(
  schema: S,
  log: Logger,
  handler: (socket: HeraldSocket, payload: z.infer<S>) => Promise<R>,
) {
  return async function (this: HeraldSocket, ...args: unknown[]): Promise<void> {
    const { payload, ack } = payloadAndAck(args);
    const reply = ack ? (ack as (res: Ack<R>) => void) : () => undefined;
    const parsed = schema.safeParse(payload);
    if (!parsed.success) {
      reply({ ok: false, error: ErrorCodes.validationFailed, message: describeIssues(parsed.error) });
      return;
    }
    try {
      reply({ ok: true, ...(await handler(this, parsed.data)) });
    } catch (err) {
      if (err instanceof RefusedError) {
        reply({ ok: false, error: err.code, message: err.message });
      } else if (err instanceof InboxUnavailableError) {
        reply({ ok: false, error: ErrorCodes.unavailable, message: 'the inbox is unavailable; try again' });
      } else {
        log.error('socket handler failed', { err });
        reply({ ok: false, error: ErrorCodes.internal, message: 'internal error' });
      }
    }
  };
}
