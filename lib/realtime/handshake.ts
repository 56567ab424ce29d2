import 'server-only';
import { verifyUserToken } from '../auth';
import { AuthError } from '../errors';
import { ErrorCodes } from '../contract';
import { HandshakeAuthSchema } from '../validate';
import type { HeraldSocket, RealtimeDeps } from './types';

/**
 * io.use middleware: the handshake must carry a user token signed with
 * AUTH_SECRET. Failures reach the client as `connect_error` whose message is a
 * stable code (`unauthorized`, `token_expired`).
 */
export function authenticate({ config, log }: RealtimeDeps) {
  return (socket: HeraldSocket, next: (err?: Error) => void): void => {
    const auth = HandshakeAuthSchema.safeParse(socket.handshake.auth);
    if (!auth.success) {
      next(new Error(ErrorCodes.unauthorized));
      return;
    }
    try {
      const user = verifyUserToken(config.authSecret, auth.data.token);
      socket.data.userId = user.userId;
      socket.data.exp = user.exp;
      next();
    } catch (err) {
      const code = err instanceof AuthError ? err.code : ErrorCodes.unauthorized;
      log.debug('handshake refused', { code, address: socket.handshake.address });
      next(new Error(code));
    }
  };
}

/** The `lastSeq` the client sent in its handshake, if valid. */
export function lastSeqOf(socket: HeraldSocket): number | undefined {
  const auth = HandshakeAuthSchema.safeParse(socket.handshake.auth);
  return auth.success ? auth.data.lastSeq : undefined;
}
