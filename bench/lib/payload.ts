import { randomUUID } from 'node:crypto';
import { nowMs } from './proc';

/**
 * What every message carries, for all three servers: Herald's wire shape
 * `{id, seq, entityType, data, createdAt, read}` with `data = {r, t}` where `t`
 * is the send time (ms since the epoch, with a fraction) and `r` the fan-out
 * round (-1 outside fan-out). About 150 bytes on the wire, like the prototype's.
 */

export const userId = (i: number): string => `u${i}`;

/** `k` distinct user ids out of u0..u(n-1). */
export function pickDistinct(k: number, n: number): string[] {
  const out = new Set<number>();
  const want = Math.min(k, n);
  while (out.size < want) out.add(Math.floor(Math.random() * n));
  return [...out].map(userId);
}

/** The `data` object of a pushed notification. */
export function dataJson(round: number, t: number): string {
  return `{"r":${round},"t":${t}}`;
}

/** The notification a reference server emits (Herald builds its own from the push). */
export function referenceNotification(seq: number, round: number, t: number): Record<string, unknown> {
  return {
    id: randomUUID(),
    seq,
    entityType: 'message',
    data: { r: round, t },
    createdAt: new Date(t).toISOString(),
    read: false,
  };
}

/** A push body for Herald's POST /api/push, stamped now. */
export function pushBody(tokensJson: string, round: number, t: number = nowMs(), collapseKey?: string): string {
  const collapse = collapseKey === undefined ? '' : `"collapseKey":"${collapseKey}",`;
  return `{"tokens":${tokensJson},"entityType":"message",${collapse}"data":${dataJson(round, t)}}`;
}

const T_KEY = Buffer.from('"t":');
const SEQ_KEY = Buffer.from('"seq":');
const R_KEY = Buffer.from('"r":');

/** Reads the number after `key` in a frame without parsing the JSON (the client's hot path). */
function numberAfter(frame: Buffer, key: Buffer): number {
  const at = frame.indexOf(key);
  if (at < 0) return NaN;
  let end = at + key.length;
  const start = end;
  while (end < frame.length) {
    const c = frame[end] as number;
    // digits, '.', '-', 'e', '+'
    if ((c >= 48 && c <= 57) || c === 46 || c === 45 || c === 101 || c === 43) end++;
    else break;
  }
  return Number(frame.toString('latin1', start, end));
}

export function sendTimeOf(frame: Buffer): number {
  return numberAfter(frame, T_KEY);
}

export function roundOf(frame: Buffer): number {
  return numberAfter(frame, R_KEY);
}

/** Herald's per-user sequence number of a notification frame. */
export function seqOf(frame: Buffer): number {
  return numberAfter(frame, SEQ_KEY);
}
