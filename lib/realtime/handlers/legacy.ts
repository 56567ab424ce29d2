import { verifyUserToken } from '../../auth';
import { AuthError } from '../../errors';
import { ErrorCodes, UserLoginSchema, describeIssues, type Ack } from '../../protocol';
import { bindAndCatchUp, unbind } from '../catchup';
import { payloadAndAck } from './ack';
import type { HeraldSocket, RealtimeDeps } from '../types';

/**
 * `user_login`, kept for clients written for the old design: re-binds an
 * already authenticated socket to the identity in a token. The bare
 * `{ tokenId }` / `{ userId }` forms (the old design's "trust me") are accepted
 * only in dev auth mode.
 */
export function legacyHandlers(deps: RealtimeDeps): (socket: HeraldSocket) => void {
  const { config, log } = deps;
  async function userLogin(socket: HeraldSocket, args: unknown[]): Promise<void> {
    const { payload, ack } = payloadAndAck(args);
    const reply = ack ? (ack as (res: Ack<{ userId: string }>) => void) : () => undefined;
    const parsed = UserLoginSchema.safeParse(payload);
    if (!parsed.success) {
      reply({ ok: false, error: ErrorCodes.validationFailed, message: describeIssues(parsed.error) });
      return;
    }
    const req = parsed.data;
    let userId: string;
    let exp = socket.data.exp;
    if ('token' in req) {
      try {
        const user = verifyUserToken(config.authSecret, req.token);
        userId = user.userId;
        exp = user.exp;
      } catch (err) {
        reply({ ok: false, error: err instanceof AuthError ? err.code : ErrorCodes.unauthorized });
        return;
      }
    } else if (config.devAuth) {
      userId = 'tokenId' in req ? req.tokenId : req.userId;
    } else {
      reply({ ok: false, error: ErrorCodes.unauthorized, message: 'a signed token is required' });
      return;
    }
    const previous = socket.data.userId;
    if (previous !== userId) {
      await unbind(socket, previous);
      socket.data.userId = userId;
      socket.data.exp = exp;
      log.info('socket re-bound', { from: previous, to: userId });
      reply({ ok: true, userId });
      await bindAndCatchUp(socket, userId, req.lastSeq, deps);
    } else {
      socket.data.exp = exp;
      reply({ ok: true, userId });
    }
  }
  // One listener for every socket: the socket is `this` (see acked in ack.ts).
  function onUserLogin(this: HeraldSocket, ...args: unknown[]): Promise<void> {
    return userLogin(this, args);
  }
  return (socket) => {
    socket.on('user_login', onUserLogin);
  };
}
