import type { z } from 'zod';
import { InboxUnavailableError } from '../../errors';
import { describeIssues, ErrorCodes, type Ack } from '../../protocol';
import type { Logger } from '../../log';

/**
 * Wraps a socket event handler: validates the payload with its schema, calls the
 * handler, and always answers the ack (when the client gave one) with
 * `{ ok: true, ... }` or `{ ok: false, error }`. Nothing a client sends can throw
 * out of here.
 */
export function acked<S extends z.ZodType, R extends object>(
  schema: S,
  log: Logger,
  handler: (payload: z.infer<S>) => Promise<R>,
) {
  return async (payload: unknown, ack: unknown): Promise<void> => {
    const reply = typeof ack === 'function' ? (ack as (res: Ack<R>) => void) : () => undefined;
    const parsed = schema.safeParse(payload);
    if (!parsed.success) {
      reply({ ok: false, error: ErrorCodes.validationFailed, message: describeIssues(parsed.error) });
      return;
    }
    try {
      reply({ ok: true, ...(await handler(parsed.data)) });
    } catch (err) {
      if (err instanceof InboxUnavailableError) {
        reply({ ok: false, error: ErrorCodes.unavailable, message: 'the inbox is unavailable; try again' });
      } else {
        log.error('socket handler failed', { err });
        reply({ ok: false, error: ErrorCodes.internal, message: 'internal error' });
      }
    }
  };
}
