import 'server-only';
import type { Config } from '../config';
import { openPostgresInbox } from './postgres';
import { openSqliteInbox } from './sqlite';
import type { Inbox, InboxHooks } from './types';

export type { Inbox } from './types';

/** DATABASE_URL selects PostgreSQL (shared by a cluster); otherwise SQLite under DATA_DIR. */
export async function openInbox(config: Config, hooks: InboxHooks = {}): Promise<Inbox> {
  // Without WEBHOOK_URL the outbox stays empty: no events, no escalations.
  const opts = { maxPerUser: config.inbox.maxPerUser, ttlDays: config.inbox.ttlDays, webhookEvents: config.webhooks?.events ?? [] };
  if (config.database) return openPostgresInbox(config.database.url, { ...opts, schema: config.database.schema }, hooks);
  return openSqliteInbox(config.dataDir, opts, undefined, undefined, hooks);
}
