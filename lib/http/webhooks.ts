import 'server-only';
import { HttpError } from '../errors';
import { ErrorCodes } from '../contract';
import { requirePushKey } from './push';
import type { Route } from './router';

/** What the webhook routes need. */
export interface WebhookRouteDeps {
  pushApiKey: string | undefined;
  /** Makes failed batches due again and lifts a 410 stop; undefined when WEBHOOK_URL is unset. */
  resume: (() => Promise<number>) | undefined;
}

/** `POST /api/webhooks/retry` (push key; a body is ignored): sends again every batch kept as failed; answers how many. */
export function webhookRoutes(deps: WebhookRouteDeps): Route[] {
  return [
    {
      method: 'POST',
      path: '/api/webhooks/retry',
      name: 'webhooks-retry',
      handler: async (req) => {
        requirePushKey(req.header('authorization'), deps.pushApiKey);
        if (!deps.resume) throw new HttpError(404, ErrorCodes.notFound, 'webhooks are not configured (WEBHOOK_URL is unset)');
        return { status: 200, body: { retried: await deps.resume() } };
      },
    },
  ];
}
