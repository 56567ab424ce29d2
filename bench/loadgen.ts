import { Histogram } from './lib/hist';
import { HttpPool, pushHeaders } from './lib/http';
import { serveIpc, type IpcMessage } from './lib/ipc';
import { pickDistinct, pushBody } from './lib/payload';
import { nowMs, sleep } from './lib/proc';

/**
 * The backend, simulated: a keep-alive HTTP load generator in its own process,
 * driven over IPC by bench/run.ts. Three shapes of load:
 *
 * - closed: `concurrency` connections, each sending its next push as soon as the
 *   last was answered (saturation: how many pushes/s are accepted);
 * - open: pushes at a fixed rate whatever the answers, each stamped with its
 *   *scheduled* send time, so a server that falls behind shows it in latency
 *   instead of quietly slowing the generator (no coordinated omission);
 * - sequential: one push at a time with a pause between (idle latency).
 *
 * Each push names `rmin..rmax` distinct random users out of u0..u(users-1).
 * With `batch` > 1, each request is a `POST /api/push/batch` of that many such
 * pushes, and every count below is of notifications, not requests.
 */

type Mode = 'closed' | 'open' | 'sequential';

/** Open loop: pushes waiting for a connection beyond this are dropped and counted. */
const OPEN_BACKLOG_PER_CONNECTION = 8;

serveIpc('loadgen', {
  async run(msg: IpcMessage) {
    const mode = msg.mode as Mode;
    const port = Number(msg.port);
    const method = typeof msg.method === 'string' ? msg.method : 'POST';
    const batch = Math.max(1, Number(msg.batch ?? 1));
    const path = batch > 1 ? '/api/push/batch' : typeof msg.path === 'string' ? msg.path : '/api/push';
    const headers = method === 'POST' ? pushHeaders(String(msg.key)) : {};
    const concurrency = mode === 'sequential' ? 1 : Number(msg.concurrency ?? 32);
    const durationMs = Number(msg.durationMs ?? 2_000);
    const count = Number(msg.count ?? Number.MAX_SAFE_INTEGER);
    const rate = Number(msg.rate ?? 0);
    const gapMs = Number(msg.gapMs ?? 5);
    const users = Number(msg.users ?? 1);
    const rmin = Number(msg.rmin ?? 1);
    const rmax = Number(msg.rmax ?? rmin);
    // With `collapse` = K, each push carries one of K collapse keys: the users never read, so nearly every one merges.
    const collapse = Number(msg.collapse ?? 0);
    const keyOf = () => (collapse > 0 ? `post-${Math.floor(Math.random() * collapse)}` : undefined);
    const hardDeadline = Date.now() + Number(msg.timeoutMs ?? durationMs + 30_000);

    const pool = new HttpPool('127.0.0.1', port, concurrency);
    const http = new Histogram();
    const statuses = new Map<string, number>();
    let sent = 0;
    let accepted = 0;
    let recipientsAccepted = 0;
    let dropped = 0;
    let outstanding = 0;
    let firstAt = 0;
    let lastAnswerAt = 0;

    const fire = async (stamp: number | undefined): Promise<void> => {
      sent++;
      outstanding++;
      const pick = () => rmin + Math.floor(Math.random() * (rmax - rmin + 1));
      let k = 0;
      let body = '';
      if (method === 'POST' && batch > 1) {
        const items: string[] = [];
        for (let i = 0; i < batch; i++) {
          const n = pick();
          k += n;
          items.push(pushBody(JSON.stringify(pickDistinct(n, users)), -1, stamp ?? nowMs(), keyOf()));
        }
        body = `{"notifications":[${items.join(',')}]}`;
      } else {
        k = pick();
        if (method === 'POST') body = pushBody(JSON.stringify(pickDistinct(k, users)), -1, stamp ?? nowMs(), keyOf());
      }
      const t0 = stamp ?? nowMs();
      if (firstAt === 0) firstAt = t0;
      try {
        const answer = await pool.request(method, path, headers, body);
        const now = nowMs();
        lastAnswerAt = now;
        http.record((now - t0) * 1000);
        const key = String(answer.status);
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        if (answer.status === 202 || (method !== 'POST' && answer.status === 200)) {
          accepted += batch;
          recipientsAccepted += k;
        }
      } catch (err) {
        const key = `error: ${(err as Error).message}`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
      } finally {
        outstanding--;
      }
    };

    const start = nowMs();
    const end = start + durationMs;
    if (mode === 'closed' || mode === 'sequential') {
      const worker = async () => {
        while (nowMs() < end && sent < count && Date.now() < hardDeadline) {
          await fire(undefined);
          if (mode === 'sequential' && gapMs > 0) await sleep(gapMs);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
    } else {
      const intervalMs = 1000 / rate;
      let scheduled = 0;
      const backlog = concurrency * OPEN_BACKLOG_PER_CONNECTION;
      while (nowMs() < end && scheduled < count && Date.now() < hardDeadline) {
        const due = Math.min(count, Math.floor((nowMs() - start) / intervalMs) + 1);
        while (scheduled < due) {
          const stamp = start + scheduled * intervalMs;
          scheduled++;
          if (outstanding >= backlog) dropped++;
          else void fire(stamp);
        }
        await sleep(1);
      }
      while (outstanding > 0 && Date.now() < hardDeadline) await sleep(2);
    }
    const elapsedMs = (lastAnswerAt || nowMs()) - (firstAt || start);
    pool.close();
    return {
      sent,
      accepted,
      recipientsAccepted,
      dropped,
      unanswered: outstanding,
      elapsedMs,
      durationMs: Math.min(durationMs, nowMs() - start),
      statuses: Object.fromEntries(statuses),
      http: http.toJSON(),
    };
  },
});
