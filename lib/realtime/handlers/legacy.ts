import 'server-only';
import { verifyUserToken } from '../../auth';
import { AuthError } from '../../errors';
import { ErrorCodes, type Ack } from '../../contract';
import { UserLoginSchema, describeIssues } from '../../validate';
import type { Admission } from '../admission';
import { bindAndCatchUp, unbind } from '../catchup';
import { payloadAndAck } from './ack';
import type { HeraldSocket, RealtimeDeps } from '../types';

/**
 * `user_login`, kept for clients written for the old design: re-binds an
 * already authenticated socket to the identity in a token. The bare
 * `{ tokenId }` / `{ userId }` forms (the old design's "trust me") are accepted
 * only in dev auth mode.
 *
 * The switch is synchronous, before anything is awaited: the new user passes
 * the same caps and rates as a handshake, the socket leaves the old room and
 * joins the new one, and its identity and expiry become the new token's, all
 * in one turn. Two `user_login`s in one packet batch therefore run one after
 * the other, and the socket is only ever in one user's room.
 */
export function legacyHandlers(deps: RealtimeDeps, admission: Admission): (socket: HeraldSocket) => void {
  const { config, log } = deps;
  function userLogin(socket: HeraldSocket, args: unknown[]): void {
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
    if (previous === userId) {
      socket.data.exp = exp;
      reply({ ok: true, userId });
      return;
    }
    const refused = admission.rebind(socket, userId);
    if (refused) {
      reply({ ok: false, error: refused });
      return;
    }
    unbind(socket, previous);
    socket.data.userId = userId;
    socket.data.exp = exp;
    log.info('socket re-bound', { from: previous, to: userId });
    reply({ ok: true, userId });
    void bindAndCatchUp(socket, userId, req.lastSeq, deps);
  }
  // One listener for every socket: the socket is `this` (see acked in ack.ts).
  function onUserLogin(this: HeraldSocket, ...args: unknown[]): void {
    userLogin(this, args);
  }
  return (socket) => {
    socket.on('user_login', onUserLogin);
  };
}
