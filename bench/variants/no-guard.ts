import { OutboundLimits as Guarded } from '../../lib/realtime/backlog';
import type { HeraldSocket } from '../../lib/realtime/types';

/**
 * lib/realtime/backlog.ts without its slow-consumer guard, for the benchmark's
 * "guard off" build of Herald (bench/variants.ts) and nowhere else: a socket is
 * written to while it is connected, whatever it has queued; nothing is counted
 * per write, and no sweep sums the queues. Everything else is the real module.
 */

export * from '../../lib/realtime/backlog';

export class OutboundLimits extends Guarded {
  override admit(socket: HeraldSocket): boolean {
    return socket.connected;
  }
  override noteWritten(): void {}
  override start(): void {}
}
