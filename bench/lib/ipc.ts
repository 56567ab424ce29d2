import type { ChildProcess } from 'node:child_process';

/**
 * Request/reply over a child's IPC channel. Every request has a timeout, so a
 * wedged child turns into an error instead of a hang. Messages without a known
 * `id` are events (e.g. "round complete" from the clients process).
 */

export interface IpcMessage {
  op?: string;
  id?: number;
  type?: string;
  [key: string]: unknown;
}

interface Pending {
  resolve: (value: IpcMessage) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class IpcClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(msg: IpcMessage) => void>();
  private gone: Error | undefined;

  constructor(
    private readonly child: ChildProcess,
    readonly name: string,
  ) {
    child.on('message', (raw) => {
      const msg = raw as IpcMessage;
      if (typeof msg.id === 'number' && msg.type === 'reply') {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        clearTimeout(p.timer);
        if (msg.ok === false) p.reject(new Error(`${name}: ${String(msg.error)}`));
        else p.resolve(msg);
        return;
      }
      for (const l of this.listeners) l(msg);
    });
    child.once('exit', (code, signal) => {
      this.gone = new Error(`${name} exited (${code ?? signal})`);
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(this.gone);
      }
      this.pending.clear();
    });
  }

  /** Sends `msg` and waits for the reply with the same id. */
  request<T extends object = IpcMessage>(msg: IpcMessage, timeoutMs: number): Promise<T & IpcMessage> {
    if (this.gone) return Promise.reject(this.gone);
    const id = this.nextId++;
    return new Promise<T & IpcMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: "${String(msg.op)}" got no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: IpcMessage) => void, reject, timer });
      this.child.send({ ...msg, id });
    });
  }

  /** Fire and forget. */
  send(msg: IpcMessage): void {
    if (!this.gone && this.child.connected) this.child.send(msg);
  }

  onEvent(fn: (msg: IpcMessage) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

type Handler = (msg: IpcMessage) => unknown;

/**
 * The child side: dispatches `{op, id}` requests to handlers and replies
 * `{type: 'reply', id, ok, ...result}`. Exits when the parent goes away, so an
 * orchestrator killed hard leaves no orphans behind.
 */
export function serveIpc(name: string, handlers: Record<string, Handler>): void {
  if (!process.send) {
    console.error(`${name}: must be started with an IPC channel (by bench/run.ts)`);
    process.exit(2);
  }
  process.on('disconnect', () => process.exit(0));
  process.on('message', (raw) => {
    const msg = raw as IpcMessage;
    const handler = msg.op !== undefined ? handlers[msg.op] : undefined;
    const reply = (body: Record<string, unknown>) => {
      if (typeof msg.id === 'number' && process.connected) process.send?.({ type: 'reply', id: msg.id, ...body });
    };
    if (!handler) {
      reply({ ok: false, error: `unknown op ${String(msg.op)}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(msg))
      .then(
        (result) => reply({ ok: true, ...((result as Record<string, unknown> | undefined) ?? {}) }),
        (err: unknown) => reply({ ok: false, error: err instanceof Error ? err.message : String(err) }),
      );
  });
  emitEvent({ type: 'hello', name });
}

/** Sends an event to the parent (no reply expected). */
export function emitEvent(msg: Record<string, unknown>): void {
  if (process.connected) process.send?.(msg);
}
