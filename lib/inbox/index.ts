import type { Config } from '../config';
import { openSqliteInbox } from './sqlite';
import type { Inbox } from './types';

export type { Inbox } from './types';

/** Chooses the store from config. PostgreSQL (DATABASE_URL) comes with the cluster work. */
export function openInbox(config: Config): Inbox {
  return openSqliteInbox(config.dataDir, { maxPerUser: config.inbox.maxPerUser, ttlDays: config.inbox.ttlDays });
}
