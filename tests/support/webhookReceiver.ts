import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { WebhookBatch, WebhookEvent } from '../../lib/contract';

/** A signing secret in the whsec_ form (the base64 of 32 fixed bytes), for tests only. */
export const TEST_WEBHOOK_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

export interface Attempt {
  webhookId: string;
  body: string;
  /** What the receiver answered. */
  status: number;
}

/**
 * A webhook receiver on a free port (node:http), as a backend would run one:
 * every request is verified with the `standardwebhooks` package; a request that
 * fails verification is answered 400 and counted in `forged`. `answer` decides
 * the status of the next verified requests (200 by default: accepted; 0: never
 * answer, a receiver that hangs).
 */
export interface Receiver {
  url: string;
  attempts: Attempt[];
  /** Events of accepted (2xx) deliveries, in arrival order. */
  events: WebhookEvent[];
  forged: number;
  answer: number;
  /** Requests held unanswered now (while `answer` is 0). */
  held(): number;
  /** Answers every request held while `answer` was 0 with `status`. */
  release(status?: number): void;
  close(): Promise<void>;
}

export async function startReceiver(secret = TEST_WEBHOOK_SECRET): Promise<Receiver> {
  const verifier = new Webhook(secret);
  const held: ServerResponse[] = [];
  const receiver: Receiver = {
    url: '',
    attempts: [],
    events: [],
    forged: 0,
    answer: 200,
    held: () => held.length,
    release: (status = 503) => {
      for (const res of held.splice(0)) res.writeHead(status).end();
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let batch: WebhookBatch;
      try {
        batch = verifier.verify(body, req.headers as Record<string, string>) as WebhookBatch;
      } catch {
        receiver.forged++;
        res.writeHead(400).end();
        return;
      }
      const status = receiver.answer;
      if (status === 0) {
        held.push(res);
        return;
      }
      receiver.attempts.push({ webhookId: String(req.headers['webhook-id']), body, status });
      if (status >= 200 && status < 300) receiver.events.push(...batch.data.events);
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}
