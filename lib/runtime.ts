import type { Config } from './config';
import type { ReplayMemory, TokenBucket } from './limits';
import type { Inbox } from './inbox/types';
import type { Logger } from './log';
import type { PushService } from './push';
import type { Realtime } from './realtime';

/**
 * Route handlers are bundled apart from server.ts, so a module-level singleton
 * is not shared with them. server.ts builds the services once and leaves them
 * here, on globalThis, for the route handlers to find.
 */
export interface HeraldRuntime {
  config: Config;
  log: Logger;
  inbox: Inbox;
  realtime: Realtime;
  push: PushService;
  /** Mint a user token (dev route, scripts). */
  signToken(userId: string): Promise<string>;
  /** Push requests per second for the API key (undefined: no limit). */
  pushLimiter: TokenBucket | undefined;
  /** Signatures of signed pushes whose timestamps are still valid (replay refusal, per node). */
  seenSignatures: ReplayMemory;
  startedAt: number;
  /** False once shutdown began: readiness turns off so balancers drain this node. */
  accepting: boolean;
}

const KEY = Symbol.for('herald.runtime');
type Holder = { [KEY]?: HeraldRuntime };

export function setRuntime(runtime: HeraldRuntime | undefined): void {
  (globalThis as Holder)[KEY] = runtime;
}

export function findRuntime(): HeraldRuntime | undefined {
  return (globalThis as Holder)[KEY];
}
