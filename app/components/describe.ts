import { isSafeLink, type JsonValue } from '@/lib/contract';

/**
 * Turns a notification into what a person reads. Everything returned is plain
 * text: React renders it as text, so HTML in the data shows literally.
 */
export type IconName = 'like' | 'comment' | 'follow' | 'mention' | 'message';

export interface Described {
  icon: IconName;
  /** One sentence: "Alice liked your post". */
  title: string;
  /** Secondary text, e.g. a comment's words. */
  detail?: string;
  /** An http(s) URL the backend marked as the notification's link (`data.link`). */
  link?: string;
}

/** Longest detail shown before it is cut with an ellipsis. */
const MAX_DETAIL_CHARS = 240;

type Obj = { [key: string]: JsonValue };
const isObj = (v: JsonValue | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A display name from a string or an object with name/username/displayName. */
function nameOf(v: JsonValue | undefined): string | undefined {
  if (typeof v === 'string' && v.trim()) return v.trim();
  if (typeof v === 'number') return String(v);
  if (isObj(v)) return nameOf(v.name ?? v.displayName ?? v.username ?? v.title);
  return undefined;
}

const clip = (s: string) => (s.length > MAX_DETAIL_CHARS ? s.slice(0, MAX_DETAIL_CHARS - 1) + '…' : s);

/** The raw data as text, for shapes we do not know. */
export function rawText(data: JsonValue): string {
  if (data === null) return '';
  return clip(typeof data === 'string' ? data : JSON.stringify(data));
}

const ICONS: Record<string, IconName> = {
  like: 'like',
  comment: 'comment',
  reply: 'comment',
  follow: 'follow',
  mention: 'mention',
};

export function describe(entityType: string, data: JsonValue): Described {
  const described = describeText(entityType, data);
  // Only a link the backend marked, and only http(s): text is never turned into links.
  const link = isObj(data) && isSafeLink(data.link) ? data.link : undefined;
  return link ? { ...described, link } : described;
}

function describeText(entityType: string, data: JsonValue): Described {
  // hasOwn: entity types such as "constructor" must not reach Object.prototype.
  const icon = (Object.hasOwn(ICONS, entityType) ? ICONS[entityType] : undefined) ?? 'message';
  const actor = isObj(data) ? nameOf(data.actor ?? data.user ?? data.from) : undefined;
  const target = isObj(data) ? nameOf(data.target ?? data.post) : undefined;
  const text = isObj(data) && typeof (data.text ?? data.message) === 'string' ? clip(String(data.text ?? data.message)) : undefined;

  if (actor) {
    const on = target ? `“${target}”` : 'your post';
    switch (entityType) {
      case 'like':
        return { icon, title: `${actor} liked ${on}`, detail: text };
      case 'comment':
      case 'reply':
        return { icon, title: `${actor} commented on ${on}`, detail: text };
      case 'follow':
        return { icon, title: `${actor} started following you`, detail: text };
      case 'mention':
        return { icon, title: `${actor} mentioned you${target ? ` in ${on}` : ''}`, detail: text };
      default:
        if (text) return { icon, title: `${actor}: ${text}` };
    }
  }
  const fallbackTitle: Record<IconName, string> = {
    like: 'New like',
    comment: 'New comment',
    follow: 'New follower',
    mention: 'New mention',
    message: 'New notification',
  };
  if (typeof data === 'string' && data.trim()) return { icon, title: clip(data) };
  if (text) return { icon, title: text };
  const raw = rawText(data);
  return { icon, title: fallbackTitle[icon], ...(raw ? { detail: raw } : {}) };
}

const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

/** "just now", "3 minutes ago", "yesterday". */
export function relativeTime(iso: string, now: number = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  if (!Number.isFinite(seconds)) return '';
  if (Math.abs(seconds) < 45) return 'just now';
  const fmt = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return fmt.format(Math.round(seconds / size), unit);
  }
  return fmt.format(Math.round(seconds / 60) || -1, 'minute');
}
