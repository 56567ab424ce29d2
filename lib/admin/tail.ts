import 'server-only';
import type { AdminTailEntry } from '../contract';
import type { PushService } from '../push';

/**
 * The live tail: the last pushes this node accepted, newest first, as ids,
 * types and counts. The notification's data is never kept here, so the admin
 * view cannot show it.
 */
export class PushTail {
  private readonly entries: AdminTailEntry[] = [];

  constructor(
    private readonly capacity: number,
    private readonly node: string,
  ) {}

  add(entry: Omit<AdminTailEntry, 'node'>): void {
    this.entries.unshift({ ...entry, node: this.node });
    if (this.entries.length > this.capacity) this.entries.pop();
  }

  list(): AdminTailEntry[] {
    return [...this.entries];
  }
}

/** The push service, with every newly accepted push (not an idempotent replay) added to `tail`. */
export function tailed(service: PushService, tail: PushTail): PushService {
  return {
    async push(req, opts) {
      const result = await service.push(req, opts);
      if (!result.replayed) {
        tail.add({ id: result.body.id, entityType: req.entityType, recipients: result.body.recipients, online: result.body.online, at: Date.now() });
      }
      return result;
    },
  };
}
