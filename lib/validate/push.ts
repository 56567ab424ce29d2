import { z } from 'zod';
import {
  DEFAULT_ENTITY_TYPE,
  isSafeLink,
  MAX_ESCALATE_AFTER_SECONDS,
  MIN_ESCALATE_AFTER_SECONDS,
  MAX_DATA_BYTES,
  MAX_DATA_DEPTH,
  MAX_ENTITY_TYPE_CHARS,
  MAX_LINK_CHARS,
  MAX_NOTIFICATION_ID_CHARS,
  MAX_BATCH_ITEMS,
  MAX_TTL_SECONDS,
  MAX_RECIPIENTS_PER_PUSH,
  MAX_USER_ID_CHARS,
  type JsonValue,
  type PushRequest,
} from '../contract';
import { CONTROL_CHARS, ENTITY_TYPE_CHARS, EntityTypeSchema, LONE_SURROGATE, NOTIFICATION_ID_CHARS, NotificationIdSchema, UserIdSchema } from './ids';

/** The body of `POST /api/push`: its schema, the quick path for plainly valid bodies, and normalization. */

const recipients = z
  .array(UserIdSchema, { error: 'must be an array of user ids' })
  .min(1, 'must name at least one user')
  .max(MAX_RECIPIENTS_PER_PUSH, `must name at most ${MAX_RECIPIENTS_PER_PUSH} users`);

/**
 * A notification's `data`: depth first, without recursion, then z.json(): that
 * recurses, and 10,000 nested arrays (20 KB) overflowed the stack, a 500
 * instead of a 400. The size and the link rule are checked by the body's schema.
 */
export const DataSchema = z
  .unknown()
  .check((ctx) => {
    const problem = dataProblem(ctx.value, MAX_DATA_DEPTH);
    if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
  })
  .pipe(z.json({ error: 'must be a JSON value' }));

export const PushBodySchema = z
  .strictObject(
    {
      tokens: recipients.optional(),
      /** Alias of `tokens`. */
      userIds: recipients.optional(),
      entityType: EntityTypeSchema.optional(),
      data: DataSchema.optional(),
      id: NotificationIdSchema.optional(),
      escalate: z
        .strictObject({
          after: z
            .number({ error: 'must be a number of seconds' })
            .int('must be a whole number of seconds')
            .min(MIN_ESCALATE_AFTER_SECONDS, `must be at least ${MIN_ESCALATE_AFTER_SECONDS} seconds`)
            .max(MAX_ESCALATE_AFTER_SECONDS, `must be at most ${MAX_ESCALATE_AFTER_SECONDS} seconds`),
          unless: z.enum(['delivered', 'seen', 'read'], { error: 'must be "delivered", "seen" or "read"' }).optional(),
        })
        .optional(),
      collapseKey: NotificationIdSchema.optional(),
      expiresAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time, such as 2026-12-07T18:00:00Z' }).optional(),
      ttl: z
        .number({ error: 'must be a number of seconds' })
        .int('must be a whole number of seconds')
        .min(1, 'must be at least 1 second')
        .max(MAX_TTL_SECONDS, `must be at most ${MAX_TTL_SECONDS} seconds`)
        .optional(),
      priority: z.enum(['normal', 'high'], { error: 'must be "normal" or "high"' }).optional(),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : 'must be a JSON object') },
  )
  .superRefine((body, ctx) => {
    if (body.expiresAt !== undefined && body.ttl !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['ttl'], message: 'give either `expiresAt` or `ttl`, not both' });
    }
    if (body.expiresAt !== undefined) {
      const at = Date.parse(body.expiresAt);
      if (at <= Date.now()) ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: 'must be in the future' });
      else if (at > Date.now() + MAX_TTL_SECONDS * 1000) ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: `must be at most ${MAX_TTL_SECONDS} seconds ahead` });
    }
    if (body.tokens === undefined && body.userIds === undefined) {
      ctx.addIssue({ code: 'custom', path: ['tokens'], message: 'is required (an array of user ids; `userIds` is an alias)' });
    }
    if (body.tokens !== undefined && body.userIds !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['userIds'], message: 'give either `tokens` or `userIds`, not both' });
    }
    if (body.data !== undefined && utf8Length(JSON.stringify(body.data)) > MAX_DATA_BYTES) {
      ctx.addIssue({ code: 'custom', path: ['data'], message: `must serialize to at most ${MAX_DATA_BYTES} bytes` });
    }
    const data = body.data;
    if (data !== null && typeof data === 'object' && !Array.isArray(data) && 'link' in data && !isSafeLink(data.link)) {
      ctx.addIssue({ code: 'custom', path: ['data', 'link'], message: `must be an http(s) URL of at most ${MAX_LINK_CHARS} characters` });
    }
  });

export type PushBody = z.infer<typeof PushBodySchema>;

/**
 * The body of `POST /api/push/batch`: the envelope only. Each item is a push
 * body, checked on its own by parsePushBody so that one bad item is refused in
 * its own result while the others are stored.
 */
export const PushBatchBodySchema = z.strictObject(
  {
    notifications: z
      .array(z.unknown(), { error: 'must be an array of push bodies' })
      .min(1, 'must hold at least one notification')
      .max(MAX_BATCH_ITEMS, `must hold at most ${MAX_BATCH_ITEMS} notifications`),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : 'must be a JSON object') },
);

/**
 * PushBodySchema's verdict on a parsed JSON body, the common case first: a
 * body that is plainly valid is checked by `quickPushBody`, which costs less
 * than zod on the single-recipient path (docs/benchmarks.md); anything else
 * goes to the schema, which alone writes the error messages.
 */
export function parsePushBody(value: unknown): { success: true; data: PushBody } | { success: false; error: z.ZodError } {
  const quick = quickPushBody(value);
  if (quick) return { success: true, data: quick };
  return PushBodySchema.safeParse(value);
}

const isUserIdValue = (s: unknown): boolean =>
  typeof s === 'string' &&
  s.length >= 1 &&
  (s.length <= MAX_USER_ID_CHARS || codePoints(s) <= MAX_USER_ID_CHARS) &&
  !CONTROL_CHARS.test(s) &&
  !LONE_SURROGATE.test(s);

/** zod measures a string's length in code points (a surrogate pair is one), not UTF-16 units. */
function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < s.length) {
      const low = s.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}
/** A recipient array as the schema accepts it; indexed, not `every`, which would skip a hole the schema refuses. */
function isRecipientList(v: unknown): v is string[] {
  if (!Array.isArray(v) || v.length < 1 || v.length > MAX_RECIPIENTS_PER_PUSH) return false;
  for (let i = 0; i < v.length; i++) if (!isUserIdValue(v[i])) return false;
  return true;
}

/**
 * The body as PushBodySchema would return it, when the body is one it accepts
 * without doubt; undefined otherwise (including for some valid bodies: then the
 * schema decides). It must never accept what the schema refuses: the tests
 * compare the two on many generated bodies. `data` comes back as given, not
 * copied; it is JSON.parse's own output.
 */
export function quickPushBody(value: unknown): PushBody | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) {
    return undefined;
  }
  const body = value as Record<string, unknown>;
  const out: PushBody = {};
  let count = 0;
  for (const key of Object.keys(body)) {
    count++;
    const v = body[key];
    if (key === 'tokens' || key === 'userIds') {
      if (!isRecipientList(v)) return undefined;
      out[key] = v;
    } else if (key === 'entityType') {
      if (typeof v !== 'string' || v.length < 1 || v.length > MAX_ENTITY_TYPE_CHARS || !ENTITY_TYPE_CHARS.test(v)) return undefined;
      out.entityType = v;
    } else if (key === 'id' || key === 'collapseKey') {
      if (typeof v !== 'string' || v.length < 1 || v.length > MAX_NOTIFICATION_ID_CHARS || !NOTIFICATION_ID_CHARS.test(v)) return undefined;
      out[key] = v;
    } else if (key === 'priority') {
      if (v !== 'normal' && v !== 'high') return undefined;
      out.priority = v;
    } else if (key === 'ttl') {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_TTL_SECONDS) return undefined;
      out.ttl = v;
    } else if (key === 'data') {
      if (v === undefined || !plainJson(v, MAX_DATA_DEPTH)) return undefined;
      out.data = v as JsonValue;
    } else {
      return undefined;
    }
  }
  // Symbol or non-enumerable keys: not from JSON.parse; let the schema judge.
  if (Reflect.ownKeys(body).length !== count) return undefined;
  if ((out.tokens === undefined) === (out.userIds === undefined)) return undefined;
  if (out.data !== undefined) {
    const text = JSON.stringify(out.data);
    // Three bytes per UTF-16 unit at most: most bodies never need the exact count.
    if (text.length * 3 > MAX_DATA_BYTES && utf8Length(text) > MAX_DATA_BYTES) return undefined;
    const data = out.data;
    if (data !== null && typeof data === 'object' && !Array.isArray(data) && 'link' in data && !isSafeLink(data.link)) return undefined;
  }
  return out;
}

/**
 * True when `value` is what JSON.parse makes and z.json() keeps as it is:
 * strings, finite numbers, booleans, null, and plain arrays and objects, nested
 * at most `max` levels, with no own "__proto__" key (see dataProblem).
 */
function plainJson(value: unknown, max: number): boolean {
  const stack: unknown[] = [value];
  const depths: number[] = [1];
  while (stack.length > 0) {
    const v = stack.pop();
    const depth = depths.pop() as number;
    if (v === null || typeof v === 'string' || typeof v === 'boolean') continue;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return false;
      continue;
    }
    if (typeof v !== 'object' || depth > max) return false;
    if (Array.isArray(v)) {
      if (Object.getPrototypeOf(v) !== Array.prototype) return false;
      for (let i = 0; i < v.length; i++) {
        // A hole (never from JSON.parse): let the schema judge.
        if (!(i in v)) return false;
        stack.push(v[i]);
        depths.push(depth + 1);
      }
      continue;
    }
    if (Object.getPrototypeOf(v) !== Object.prototype) return false;
    const keys = Object.keys(v);
    if (Reflect.ownKeys(v).length !== keys.length) return false;
    for (const key of keys) {
      if (key === '__proto__') return false;
      stack.push((v as Record<string, unknown>)[key]);
      depths.push(depth + 1);
    }
  }
  return true;
}


/**
 * Normalizes a parsed body: alias folded, recipients de-duplicated, defaults applied.
 * A `ttl` becomes an `expiresAt` counted from `now`.
 */
export function toPushRequest(body: PushBody, now = Date.now()): PushRequest {
  const ids = body.tokens ?? body.userIds ?? [];
  return {
    userIds: [...new Set(ids)],
    entityType: body.entityType ?? DEFAULT_ENTITY_TYPE,
    data: (body.data ?? null),
    ...(body.id !== undefined ? { id: body.id } : {}),
    ...(body.escalate !== undefined ? { escalate: { after: body.escalate.after, unless: body.escalate.unless ?? 'read' } } : {}),
    ...(body.collapseKey !== undefined ? { collapseKey: body.collapseKey } : {}),
    ...(body.expiresAt !== undefined ? { expiresAt: Date.parse(body.expiresAt) } : {}),
    ...(body.ttl !== undefined ? { expiresAt: now + body.ttl * 1000 } : {}),
    ...(body.priority === 'high' ? { priority: 'high' as const } : {}),
  };
}

export function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

/**
 * What is wrong with a push's `data`, found in one walk (iterative: any depth is
 * safe): arrays and objects nested more than `max` levels, or an own "__proto__" key.
 */
export function dataProblem(value: unknown, max: number): string | null {
  const stack: Array<{ v: unknown; depth: number }> = [{ v: value, depth: 1 }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { v, depth } = item;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return `must nest at most ${max} levels deep`;
    // JSON.parse makes "__proto__" an own key, but copying the object (z.json(),
    // a spread) sets the prototype instead: the key would vanish between the 202
    // and the browser. Refused, so that what is accepted is delivered as sent.
    if (!Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, '__proto__')) {
      return 'must not contain a "__proto__" key (it cannot be delivered as sent)';
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push({ v: child, depth: depth + 1 });
  }
  return null;
}
