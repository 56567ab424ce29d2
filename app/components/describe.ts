import { isSafeLink, type JsonValue, type NotificationGroup } from '@/lib/contract';

/**
 * Turns a notification into what a person reads. Everything returned is plain
 * text: React renders it as text, so HTML in the data shows literally. Text
 * that came from the backend is marked in `titleParts`, so the page can isolate
 * it (<bdi>) inside a sentence: a right-to-left name cannot reorder the words
 * around it.
 */
export type IconName = 'like' | 'comment' | 'follow' | 'mention' | 'message';

/** A piece of a title: the page's own words, or `{ user }` text from the notification. */
export type TitlePart = string | { user: string };

/** One field of a notification whose shape is not known, as a label and a value. */
export interface Field {
  label: string;
  value: string;
}

export interface Described {
  icon: IconName;
  /** One sentence: "Alice liked your post". */
  title: string;
  /** The title in parts, user-provided text marked. */
  titleParts: TitlePart[];
  /** Secondary text, e.g. a comment's words, or an unknown shape's fields as "Label: value · …". */
  detail?: string;
  /** An http(s) URL the backend marked as the notification's link (`data.link`). */
  link?: string;
  /** Every field of an unknown shape, labelled (the inbox's detail view lists them). */
  fields?: Field[];
  /** True when something was cut to fit; `describe(…, { full: true })` has all of it. */
  clipped: boolean;
}

/** Longest title or detail shown in toasts and lists before it is cut with an ellipsis. */
export const MAX_DETAIL_CHARS = 240;
/** Fields of an unknown shape listed, in full view; the rest are counted. */
const MAX_FIELDS = 50;
/** Fields summed up in the one-line detail of a toast or a list item. */
const SUMMARY_FIELDS = 4;
/** Nesting followed when listing fields ("Build › Status"); deeper values are summed up. */
const MAX_FIELD_DEPTH = 3;

type Obj = { [key: string]: JsonValue };
const isObj = (v: JsonValue | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A display name from a string or an object with name/username/displayName. */
function nameOf(v: JsonValue | undefined): string | undefined {
  if (typeof v === 'string' && v.trim()) return v.trim();
  if (typeof v === 'number') return String(v);
  if (isObj(v)) return nameOf(v.name ?? v.displayName ?? v.username ?? v.title);
  return undefined;
}

const ICONS: Record<string, IconName> = {
  like: 'like',
  comment: 'comment',
  reply: 'comment',
  follow: 'follow',
  mention: 'mention',
};

const FALLBACK_TITLE: Record<IconName, string> = {
  like: 'New like',
  comment: 'New comment',
  follow: 'New follower',
  mention: 'New mention',
  message: 'New notification',
};

/** Keys the sentences read; an unknown shape lists every other key as a field. */
const KNOWN_KEYS = new Set(['actor', 'user', 'from', 'target', 'post', 'text', 'message', 'link']);

/**
 * `group`: the people a collapsed notification stands for (its `group`), named
 * in place of `data.actor`: "Bob, Alice and 11 others liked “Shipping Herald”".
 */
export function describe(
  entityType: string,
  data: JsonValue,
  { full = false, group }: { full?: boolean; group?: NotificationGroup } = {},
): Described {
  let clipped = false;
  const clip = (s: string): string => {
    if (full || s.length <= MAX_DETAIL_CHARS) return s;
    clipped = true;
    return s.slice(0, MAX_DETAIL_CHARS - 1) + '…';
  };
  const described = describeText(entityType, data, clip, full, group);
  // Only a link the backend marked, and only http(s): text is never turned into links.
  const link = isObj(data) && isSafeLink(data.link) ? data.link : undefined;
  const title = described.titleParts.map((p) => (typeof p === 'string' ? p : p.user)).join('');
  return {
    icon: described.icon,
    title,
    titleParts: described.titleParts,
    ...(described.detail ? { detail: described.detail } : {}),
    ...(link ? { link } : {}),
    ...(described.fields && described.fields.length > 0 ? { fields: described.fields } : {}),
    clipped: clipped || described.fieldsCut,
  };
}

interface Text {
  icon: IconName;
  titleParts: TitlePart[];
  detail?: string;
  fields?: Field[];
  fieldsCut: boolean;
}

/** Names shown before "and N others". */
const NAMED_BEFORE_OTHERS = 2;

/**
 * Who a notification is from, as title parts: one actor, or a group's, newest
 * first: "Bob", "Bob and Alice", "Bob, Alice and Carol", and past three the
 * newest two and the rest counted: "Bob, Alice and 11 others".
 */
export function actorParts(actor: string | undefined, group: NotificationGroup | undefined, clip: (s: string) => string = (s) => s): TitlePart[] | undefined {
  const names = (group?.actors ?? []).flatMap((a) => nameOf(a) ?? []);
  if (names.length === 0) return actor ? [{ user: clip(actor) }] : undefined;
  const count = Math.max(group?.count ?? 1, names.length);
  const listed = count <= names.length ? names.slice(0, count) : names.slice(0, NAMED_BEFORE_OTHERS);
  const others = count - listed.length;
  const parts: TitlePart[] = [];
  listed.forEach((name, i) => {
    if (i > 0) parts.push(i === listed.length - 1 && others === 0 ? ' and ' : ', ');
    parts.push({ user: clip(name) });
  });
  if (others > 0) parts.push(` and ${others} other${others === 1 ? '' : 's'}`);
  return parts;
}

function describeText(entityType: string, data: JsonValue, clip: (s: string) => string, full: boolean, group?: NotificationGroup): Text {
  // hasOwn: entity types such as "constructor" must not reach Object.prototype.
  const icon = (Object.hasOwn(ICONS, entityType) ? ICONS[entityType] : undefined) ?? 'message';
  const who = actorParts(isObj(data) ? nameOf(data.actor ?? data.user ?? data.from) : undefined, group, clip);
  const target = isObj(data) ? nameOf(data.target ?? data.post) : undefined;
  const rawText = isObj(data) ? (data.text ?? data.message) : undefined;
  const text = typeof rawText === 'string' && rawText.trim() ? clip(rawText) : undefined;
  const plain = (titleParts: TitlePart[], detail?: string): Text => ({ icon, titleParts, ...(detail ? { detail } : {}), fieldsCut: false });

  if (who) {
    const on: TitlePart[] = target ? ['“', { user: clip(target) }, '”'] : ['your post'];
    switch (entityType) {
      case 'like':
        return plain([...who, ' liked ', ...on], text);
      case 'comment':
      case 'reply':
        return plain([...who, ' commented on ', ...on], text);
      case 'follow':
        return plain([...who, ' started following you'], text);
      case 'mention':
        return plain([...who, ' mentioned you', ...(target ? [' in ', ...on] : [])], text);
      default: {
        if (text) return plain([...who, ': ', { user: text }]);
        // A type this page has no sentence for: say who, and list what else came.
        const rest = fieldsOf(data, { skipKnown: true });
        return withFields(icon, ['New notification from ', ...who], rest, target ? `About “${clip(target)}”` : undefined, full);
      }
    }
  }
  if (typeof data === 'string' && data.trim()) return plain([{ user: clip(data) }]);
  if (text) return plain([{ user: text }]);
  if (data === null || typeof data === 'string') return plain([FALLBACK_TITLE[icon]]);
  if (typeof data === 'number') return plain([FALLBACK_TITLE[icon]], String(data));
  if (typeof data === 'boolean') return plain([FALLBACK_TITLE[icon]], data ? 'yes' : 'no');
  // An unknown shape: a neutral title, and its fields as labelled text (never raw JSON).
  return withFields(icon, [FALLBACK_TITLE[icon]], fieldsOf(data, { skipKnown: isObj(data) }), undefined, full);
}

function withFields(
  icon: IconName,
  titleParts: TitlePart[],
  found: { fields: Field[]; cut: boolean },
  lead?: string,
  full = false,
): Text {
  const summary = found.fields
    .slice(0, SUMMARY_FIELDS)
    .map((f) => `${f.label}: ${f.value.length > 80 ? f.value.slice(0, 79) + '…' : f.value}`);
  if (found.fields.length > SUMMARY_FIELDS) summary.push(`${found.fields.length - SUMMARY_FIELDS} more`);
  // In full view the fields are listed one by one (Described.fields); the detail keeps only the lead.
  const detail = full ? lead : [lead, summary.join(' · ')].filter(Boolean).join(' · ');
  // The one-line summary leaves fields out; the full view lists them all (up to MAX_FIELDS).
  const summaryCut = !full && (found.fields.length > SUMMARY_FIELDS || found.fields.some((f) => f.value.length > 80));
  return { icon, titleParts, ...(detail ? { detail } : {}), fields: found.fields, fieldsCut: found.cut || summaryCut };
}

/**
 * The fields of an arbitrary JSON value, depth first, each with a readable label
 * ("buildNumber" → "Build number", nested: "Build › Status") and its value as text.
 */
function fieldsOf(data: JsonValue, { skipKnown }: { skipKnown: boolean }): { fields: Field[]; cut: boolean } {
  const fields: Field[] = [];
  let cut = false;
  const walk = (value: JsonValue, label: string, depth: number) => {
    if (fields.length >= MAX_FIELDS) {
      cut = true;
      return;
    }
    if (Array.isArray(value)) {
      if (value.every((v) => v === null || typeof v !== 'object')) {
        fields.push({ label: label || 'Items', value: value.map(scalarText).join(', ') || 'none' });
        return;
      }
      if (depth >= MAX_FIELD_DEPTH) {
        fields.push({ label: label || 'Items', value: `${value.length} item${value.length === 1 ? '' : 's'}` });
        return;
      }
      value.forEach((v, i) => walk(v, join(label || 'Item', String(i + 1)), depth + 1));
      return;
    }
    if (isObj(value)) {
      const keys = Object.keys(value).filter((k) => !(depth === 0 && skipKnown && KNOWN_KEYS.has(k)));
      if (depth >= MAX_FIELD_DEPTH) {
        fields.push({ label, value: `${keys.length} field${keys.length === 1 ? '' : 's'}` });
        return;
      }
      for (const key of keys) walk(value[key] as JsonValue, join(label, humanize(key)), depth + 1);
      return;
    }
    fields.push({ label: label || 'Value', value: scalarText(value) });
  };
  walk(data, '', 0);
  return { fields, cut };
}

const join = (parent: string, child: string) => (parent ? `${parent} › ${child}` : child);

function scalarText(v: JsonValue): string {
  if (v === null) return 'none';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'object') return Array.isArray(v) ? `${v.length} items` : 'fields';
  return String(v);
}

/** "buildNumber", "build_number", "build-number" → "Build number"; runs of capitals ("HTML") are kept. */
export function humanize(key: string): string {
  const words = key
    .replace(/[_\-.]+/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map((w, i) => (/^[A-Z0-9]+$/.test(w) && w.length > 1 ? w : i === 0 ? w : w.toLowerCase()));
  const text = words.join(' ');
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : key;
}
