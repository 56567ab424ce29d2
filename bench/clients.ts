import WebSocket from 'ws';
import { signUserToken } from '../lib/auth';
import { Histogram } from './lib/hist';
import { emitEvent, serveIpc, type IpcMessage } from './lib/ipc';
import { roundOf, sendTimeOf, seqOf, userId } from './lib/payload';
import { nowMs, sleep } from './lib/proc';

/**
 * The simulated users: one process holding many WebSockets, driven over IPC by
 * bench/run.ts. It speaks the Engine.IO v4 / socket.io v5 wire format directly
 * over `ws` (socket.io-client costs more CPU per message than the server does),
 * and plain JSON for the raw reference:
 *
 *   server  0{"sid",…}              open      → client 40{"token":…,"lastSeq"?}
 *   server  40{"sid"}               connected   (44{…}: refused)
 *   server  42["receive_message",{…}]
 *   server  42["notifications:synced",{…}]   Herald: catch-up done, live from here
 *   server  2                        ping      → client 3
 *
 * Sockets opened with `ack` confirm what they received as the browser client
 * does: one cumulative `42["notifications:received",{"upTo":seq}]` at most every
 * 250 ms.
 *
 * Each message carries its send time in `data.t`; push-to-receive latency goes
 * into a histogram. Fan-out rounds (`data.r`) are counted, and the orchestrator
 * is told the moment a round has reached every socket.
 */

type Kind = 'herald' | 'sio' | 'raw';

interface Conn {
  ws: WebSocket;
  user: string;
  ready: boolean;
  closing: boolean;
  /** Sends `notifications:received` receipts as the browser client does (see ACK_MS). */
  ack: boolean;
  /** The highest seq received, and the highest acknowledged. */
  upTo: number;
  acked: number;
  /** Catch-up probe: sees this socket's messages instead of the shared counters. */
  tap?: (frame: Buffer, now: number) => void;
  onReady?: () => void;
  onFail?: (why: string) => void;
}

const RECEIVE = Buffer.from('42["receive_message",');
const SYNCED = Buffer.from('42["notifications:synced",');
const PER_SOCKET_TIMEOUT_MS = 20_000;
/** Receipts: one cumulative `notifications:received` per socket at most this often (the browser client's RECEIVED_ACK_MS). */
const ACK_MS = 250;

const conns = new Set<Conn>();
const hist = new Histogram();
const tokens = new Map<string, string>();
let received = 0;
let firstAt = 0;
let lastAt = 0;
let disconnects = 0;
const closeReasons = new Map<string, number>();
let roundTarget = 0;
const roundCounts = new Map<number, number>();

function startsWith(frame: Buffer, prefix: Buffer): boolean {
  return frame.length >= prefix.length && frame.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

function onMessage(frame: Buffer): void {
  const now = nowMs();
  received++;
  if (firstAt === 0) firstAt = now;
  lastAt = now;
  const t = sendTimeOf(frame);
  if (t > 0) hist.record((now - t) * 1000);
  if (roundTarget > 0) {
    const r = roundOf(frame);
    if (r >= 0) {
      const c = (roundCounts.get(r) ?? 0) + 1;
      if (c >= roundTarget) {
        roundCounts.delete(r);
        emitEvent({ type: 'round', r, at: now });
      } else {
        roundCounts.set(r, c);
      }
    }
  }
}

function onFrame(conn: Conn, kind: Kind, frame: Buffer, auth: string): void {
  if (kind === 'raw') {
    if (frame[0] === 0x7b) {
      if (conn.tap) conn.tap(frame, nowMs());
      else onMessage(frame);
    }
    return;
  }
  const c0 = frame[0];
  if (c0 === 0x34 /* 4: socket.io packet */) {
    const c1 = frame[1];
    if (c1 === 0x32 /* 2: EVENT */) {
      if (startsWith(frame, RECEIVE)) {
        if (conn.ack) conn.upTo = Math.max(conn.upTo, seqOf(frame));
        if (conn.tap) conn.tap(frame, nowMs());
        else onMessage(frame);
      } else if (startsWith(frame, SYNCED) && kind === 'herald') {
        conn.tap?.(frame, nowMs());
        conn.onReady?.();
      }
    } else if (c1 === 0x30 /* 0: CONNECT */) {
      if (kind === 'sio') conn.onReady?.();
    } else if (c1 === 0x34 /* 4: CONNECT_ERROR */) {
      conn.onFail?.(`connect_error ${frame.toString('utf8', 2, 200)}`);
    } else if (c1 === 0x31 /* 1: DISCONNECT */) {
      conn.ws.close();
    }
    return;
  }
  if (c0 === 0x32 /* 2: ping */ && frame.length === 1) {
    conn.ws.send('3');
    return;
  }
  if (c0 === 0x30 /* 0: open */) {
    conn.ws.send(`40${auth}`);
  }
}

interface OpenOptions {
  kind: Kind;
  port: number;
  path: string;
  user: string;
  auth: string;
  ack?: boolean;
  tap?: Conn['tap'];
}

/** Opens one socket; resolves once it is ready to receive (Herald: after notifications:synced). */
function openSocket(o: OpenOptions): Promise<Conn> {
  const url =
    o.kind === 'raw'
      ? `ws://127.0.0.1:${o.port}/?u=${encodeURIComponent(o.user)}`
      : `ws://127.0.0.1:${o.port}${o.path}/?EIO=4&transport=websocket`;
  const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true, handshakeTimeout: PER_SOCKET_TIMEOUT_MS });
  const conn: Conn = { ws, user: o.user, ready: false, closing: false, ack: o.ack === true, upTo: 0, acked: 0, ...(o.tap ? { tap: o.tap } : {}) };
  if (conn.ack) ackTimer ??= setInterval(sendReceipts, ACK_MS);
  conns.add(conn);
  return new Promise<Conn>((resolve, reject) => {
    const timer = setTimeout(() => conn.onFail?.('timed out'), PER_SOCKET_TIMEOUT_MS);
    conn.onReady = () => {
      if (conn.ready) return;
      conn.ready = true;
      clearTimeout(timer);
      resolve(conn);
    };
    conn.onFail = (why) => {
      clearTimeout(timer);
      if (!conn.ready) {
        conn.closing = true;
        ws.terminate();
        reject(new Error(why));
      }
    };
    ws.on('message', (data: Buffer) => onFrame(conn, o.kind, data, o.auth));
    ws.on('open', () => {
      if (o.kind === 'raw') conn.onReady?.();
    });
    ws.on('error', (err) => conn.onFail?.(err.message));
    ws.on('close', (code) => {
      conns.delete(conn);
      if (!conn.ready) {
        conn.onFail?.(`closed (${code}) before ready`);
      } else if (!conn.closing) {
        disconnects++;
        const key = String(code);
        closeReasons.set(key, (closeReasons.get(key) ?? 0) + 1);
      }
    });
  });
}

let ackTimer: ReturnType<typeof setInterval> | undefined;

/** Every acking socket that received something new since its last receipt acknowledges it, in one frame. */
function sendReceipts(): void {
  for (const c of conns) {
    if (!c.ack || !c.ready || c.upTo <= c.acked) continue;
    c.acked = c.upTo;
    c.ws.send(`42["notifications:received",{"upTo":${c.upTo}}]`);
  }
}

async function tokenOf(user: string, secret: string): Promise<string> {
  let t = tokens.get(user);
  if (!t) {
    t = await signUserToken(secret, user, 3600);
    tokens.set(user, t);
  }
  return t;
}

async function authOf(kind: Kind, user: string, secret: string | undefined, lastSeq?: number): Promise<string> {
  if (kind === 'raw') return '';
  const token = kind === 'herald' ? await tokenOf(user, secret ?? '') : user;
  return JSON.stringify(lastSeq === undefined ? { token } : { token, lastSeq });
}

serveIpc('clients', {
  /** Connects users [from, from+users) with `tabs` sockets each, `concurrency` handshakes at a time. */
  async connect(msg: IpcMessage) {
    const kind = msg.kind as Kind;
    const port = Number(msg.port);
    const path = typeof msg.path === 'string' ? msg.path : '/socket.io';
    const from = Number(msg.from ?? 0);
    const users = Number(msg.users);
    const tabs = Number(msg.tabs ?? 1);
    const concurrency = Number(msg.concurrency ?? 100);
    const ack = msg.ack === true;
    const deadline = Date.now() + Number(msg.timeoutMs ?? 60_000);
    const secret = msg.secret as string | undefined;
    // Sign first so connect time is the server's handshake, not our JWT signing.
    const auths: string[] = [];
    for (let i = from; i < from + users; i++) auths.push(await authOf(kind, userId(i), secret));
    const total = users * tabs;
    let next = 0;
    let connected = 0;
    let failed = 0;
    const errors = new Map<string, number>();
    const t0 = nowMs();
    const worker = async () => {
      while (next < total && Date.now() < deadline) {
        const n = next++;
        const u = from + Math.floor(n / tabs);
        try {
          await openSocket({ kind, port, path, user: userId(u), auth: auths[u - from] ?? '', ack });
          connected++;
        } catch (err) {
          failed++;
          const key = (err as Error).message.slice(0, 120);
          errors.set(key, (errors.get(key) ?? 0) + 1);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
    const ms = nowMs() - t0;
    return { connected, failed, skipped: total - connected - failed, ms, errors: Object.fromEntries(errors) };
  },

  /** One returning user: connects with lastSeq and times the replay. */
  async catchup(msg: IpcMessage) {
    const expect = Number(msg.expect);
    const user = String(msg.user);
    const auth = await authOf('herald', user, msg.secret as string, Number(msg.lastSeq ?? 0));
    let replays = 0;
    let live = 0;
    let lastReplayAt = NaN;
    let syncedAt = NaN;
    let inOrder = true;
    let prevSeq = -1;
    const t0 = nowMs();
    const conn = await openSocket({
      kind: 'herald',
      port: Number(msg.port),
      path: (typeof msg.path === 'string' ? msg.path : '/socket.io'),
      user,
      auth,
      tap: (frame, now) => {
        if (startsWith(frame, SYNCED)) {
          syncedAt = now;
          return;
        }
        const text = frame.toString('utf8');
        const n = JSON.parse(text.slice(2))[1] as { seq: number; replay?: boolean };
        if (n.seq <= prevSeq) inOrder = false;
        prevSeq = n.seq;
        if (n.replay) {
          replays++;
          if (replays === expect) lastReplayAt = now;
        } else {
          live++;
        }
      },
    });
    const connectedAt = nowMs();
    const deadline = Date.now() + Number(msg.timeoutMs ?? 10_000);
    while (Number.isNaN(syncedAt) && Date.now() < deadline) await sleep(2);
    conn.closing = true;
    conn.ws.close();
    return {
      replays,
      live,
      inOrder,
      lastMs: lastReplayAt - t0,
      syncedMs: syncedAt - t0,
      readyMs: connectedAt - t0,
      timedOut: Number.isNaN(syncedAt),
    };
  },

  /** Fan-out rounds: announce each round once it reached `target` sockets (0 turns it off). */
  rounds(msg: IpcMessage) {
    roundTarget = Number(msg.target);
    roundCounts.clear();
    return undefined;
  },

  reset() {
    hist.reset();
    received = 0;
    firstAt = 0;
    lastAt = 0;
    disconnects = 0;
    closeReasons.clear();
    roundCounts.clear();
    return undefined;
  },

  stats() {
    let ready = 0;
    for (const c of conns) if (c.ready) ready++;
    return {
      received,
      firstAt,
      lastAt,
      hist: hist.toJSON(),
      disconnects,
      closeReasons: Object.fromEntries(closeReasons),
      open: conns.size,
      ready,
      incompleteRounds: roundCounts.size,
    };
  },

  /** Waits until `count` messages have arrived (or the timeout). */
  async waitFor(msg: IpcMessage) {
    const count = Number(msg.count);
    const deadline = Date.now() + Number(msg.timeoutMs ?? 10_000);
    while (received < count && Date.now() < deadline) await sleep(5);
    return { received, timedOut: received < count, lastAt };
  },

  /** Closes every socket (clean WebSocket close) and waits for them to go. */
  async close(msg: IpcMessage) {
    const n = conns.size;
    for (const c of conns) {
      c.closing = true;
      c.ws.close();
    }
    const deadline = Date.now() + Number(msg.timeoutMs ?? 15_000);
    while (conns.size > 0 && Date.now() < deadline) await sleep(10);
    const stuck = conns.size;
    for (const c of conns) c.ws.terminate();
    return { closed: n - stuck, terminated: stuck };
  },
});
