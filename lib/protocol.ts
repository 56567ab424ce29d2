import { z } from 'zod';

/**
 * The wire contract shared by the server and the browser. No Node imports: the
 * browser bundles this file.
 */

// ---------------------------------------------------------------------------
// Limits that are part of the contract
// ---------------------------------------------------------------------------
export const MAX_RECIPIENTS_PER_PUSH = 1000;
export const MAX_USER_ID_CHARS = 128;
export const MAX_DATA_BYTES = 16 * 1024;
/** Arrays and objects nested deeper than this in `data` are refused (validators and renderers recurse). */
export const MAX_DATA_DEPTH = 32;
export const MAX_PUSH_BODY_BYTES = 64 * 1024;
export const MAX_ENTITY_TYPE_CHARS = 64;
export const MAX_NOTIFICATION_ID_CHARS = 128;
export const MAX_PAGE_LIMIT = 100;
export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_READ_IDS = 200;
export const DEFAULT_ENTITY_TYPE = 'message';

// ---------------------------------------------------------------------------
// Error codes: one list for HTTP bodies, connect_error messages and acks
// ---------------------------------------------------------------------------
export const ErrorCodes = {
  /** Missing, malformed or forged credentials. */
  unauthorized: 'unauthorized',
  /** A user token whose `exp` has passed. */
  tokenExpired: 'token_expired',
  invalidJson: 'invalid_json',
  validationFailed: 'validation_failed',
  payloadTooLarge: 'payload_too_large',
  unsupportedMediaType: 'unsupported_media_type',
  methodNotAllowed: 'method_not_allowed',
  notFound: 'not_found',
  /** The same idempotency key was used with a different body. */
  idempotencyConflict: 'idempotency_conflict',
  /** A signed push whose HMAC does not match, or whose signature headers are malformed. */
  signatureInvalid: 'signature_invalid',
  /** A signed push whose timestamp is outside the 5-minute window. */
  signatureExpired: 'signature_expired',
  /** The exact signed request was already accepted (a replay). */
  signatureReplayed: 'signature_replayed',
  /** Over a rate limit; retry later (HTTP: see Retry-After). */
  rateLimited: 'rate_limited',
  /** Over the connections allowed per user or per address. */
  tooManyConnections: 'too_many_connections',
  /** A browser connection from an origin not in ALLOWED_ORIGINS. */
  originNotAllowed: 'origin_not_allowed',
  /** Storage is unreachable: nothing was accepted. */
  unavailable: 'unavailable',
  internal: 'internal_error',
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

// ---------------------------------------------------------------------------
// Identifiers
// ---------------------------------------------------------------------------
// C0 and C1 control characters, DEL, and the Unicode line/paragraph separators.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
// A UTF-16 surrogate not in a pair: stored as UTF-8 it becomes U+FFFD, i.e. another user's id.
const LONE_SURROGATE = /\p{Cs}/u;
const NOTIFICATION_ID_CHARS = /^[A-Za-z0-9._:~-]+$/;
const ENTITY_TYPE_CHARS = /^[A-Za-z0-9._-]+$/;

export const UserIdSchema = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(MAX_USER_ID_CHARS, `must be at most ${MAX_USER_ID_CHARS} characters`)
  .refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters')
  .refine((s) => !LONE_SURROGATE.test(s), 'must be well-formed Unicode (no lone surrogates)');

export const NotificationIdSchema = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(MAX_NOTIFICATION_ID_CHARS, `must be at most ${MAX_NOTIFICATION_ID_CHARS} characters`)
  .regex(NOTIFICATION_ID_CHARS, 'may contain only letters, digits and . _ : ~ -');

export const EntityTypeSchema = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(MAX_ENTITY_TYPE_CHARS, `must be at most ${MAX_ENTITY_TYPE_CHARS} characters`)
  .regex(ENTITY_TYPE_CHARS, 'may contain only letters, digits and . _ -');

/** A per-user sequence number; JSON-safe integer. */
export const SeqSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

// ---------------------------------------------------------------------------
// Push API body
// ---------------------------------------------------------------------------
const recipients = z
  .array(UserIdSchema, { error: 'must be an array of user ids' })
  .min(1, 'must name at least one user')
  .max(MAX_RECIPIENTS_PER_PUSH, `must name at most ${MAX_RECIPIENTS_PER_PUSH} users`);

export const PushBodySchema = z
  .strictObject(
    {
      tokens: recipients.optional(),
      /** Alias of `tokens`. */
      userIds: recipients.optional(),
      entityType: EntityTypeSchema.optional(),
      // Depth first, without recursion: z.json() recurses, and 10,000 nested
      // arrays (20 KB) overflowed the stack, a 500 instead of a 400.
      data: z
        .unknown()
        .check((ctx) => {
          const problem = dataProblem(ctx.value, MAX_DATA_DEPTH);
          if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
        })
        .pipe(z.json({ error: 'must be a JSON value' }))
        .optional(),
      id: NotificationIdSchema.optional(),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : 'must be a JSON object') },
  )
  .superRefine((body, ctx) => {
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
 * PushBodySchema's verdict on a parsed JSON body, the common case first: a
 * body that is plainly valid is checked by `quickPushBody` (a few µs less per
 * push than zod, which was the largest single cost of validation on the
 * single-recipient path), anything else goes to the schema, which alone writes
 * the error messages.
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
    } else if (key === 'id') {
      if (typeof v !== 'string' || v.length < 1 || v.length > MAX_NOTIFICATION_ID_CHARS || !NOTIFICATION_ID_CHARS.test(v)) return undefined;
      out.id = v;
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

export interface PushRequest {
  userIds: string[];
  entityType: string;
  data: JsonValue;
  id?: string;
}

/** Normalizes a parsed body: alias folded, recipients de-duplicated, defaults applied. */
export function toPushRequest(body: PushBody): PushRequest {
  const ids = body.tokens ?? body.userIds ?? [];
  return {
    userIds: [...new Set(ids)],
    entityType: body.entityType ?? DEFAULT_ENTITY_TYPE,
    data: (body.data ?? null) as JsonValue,
    ...(body.id !== undefined ? { id: body.id } : {}),
  };
}

export interface PushAccepted {
  id: string;
  recipients: number;
  online: number;
}

// ---------------------------------------------------------------------------
// Notifications on the wire
// ---------------------------------------------------------------------------
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface WireNotification {
  id: string;
  /** Strictly increasing for each user; one sequence shared by all users. */
  seq: number;
  entityType: string;
  data: JsonValue;
  /** ISO 8601. */
  createdAt: string;
  read: boolean;
}

/** A notification sent during catch-up after (re)connecting, not live. */
export interface ReplayedNotification extends WireNotification {
  replay: true;
}

export const ListRequestSchema = z.strictObject({
  before: SeqSchema.optional(),
  limit: z.number().int().min(1).max(MAX_PAGE_LIMIT).optional(),
});
export type ListRequest = z.infer<typeof ListRequestSchema>;

export interface ListPage {
  items: WireNotification[];
  /** Pass as `before` to get the next (older) page; null when there is none. */
  nextCursor: number | null;
}

export const ReadRequestSchema = z.strictObject({
  ids: z.array(NotificationIdSchema).min(1).max(MAX_READ_IDS),
});

export interface ReadState {
  unread: number;
  /** The unread count covers seqs up to here; a client adds unread ones it holds above it. */
  headSeq: number;
  /** Ids that this change marked read; empty after read-all (then everything is read). */
  readIds: string[];
  all?: boolean;
}

export interface SyncDone {
  /** How many notifications the catch-up replayed. */
  replayed: number;
  unread: number;
  /** The highest seq the server holds for this user (0 when none). */
  headSeq: number;
  /** The server's clock when it sent this (ms since the epoch): clients correct relative times with it. */
  serverTime: number;
}

export const RefreshSchema = z.strictObject({ token: z.string().min(1).max(4096) });

export const HandshakeAuthSchema = z.object({
  token: z.string().min(1).max(4096),
  lastSeq: SeqSchema.optional(),
});

export const UserLoginSchema = z.union([
  z.strictObject({ token: z.string().min(1).max(4096), lastSeq: SeqSchema.optional() }),
  z.strictObject({ tokenId: UserIdSchema, lastSeq: SeqSchema.optional() }),
  z.strictObject({ userId: UserIdSchema, lastSeq: SeqSchema.optional() }),
]);

export type Ack<T> = ({ ok: true } & T) | { ok: false; error: ErrorCode; message?: string };

// ---------------------------------------------------------------------------
// socket.io event maps
// ---------------------------------------------------------------------------
export interface ServerToClientEvents {
  /** A notification for this user: live, or (with `replay: true`) caught up after a reconnect. */
  receive_message: (n: WireNotification | ReplayedNotification) => void;
  /** Catch-up finished: everything after the client's `lastSeq` has been sent. */
  'notifications:synced': (s: SyncDone) => void;
  /** The client's `lastSeq` is older than retention kept: reload the first inbox page. */
  sync_reset: (s: { headSeq: number }) => void;
  /** Read state changed (from any tab of this user). */
  'notifications:state': (s: ReadState) => void;
  /** Sent just before the server cuts this socket off (token expired, over a limit). */
  'herald:error': (e: { code: ErrorCode; message: string }) => void;
}

export interface ClientToServerEvents {
  /** Page back through history, newest first. */
  'notifications:list': (req: ListRequest, ack: (res: Ack<ListPage>) => void) => void;
  /** Mark some notifications read. */
  'notifications:read': (req: { ids: string[] }, ack: (res: Ack<ReadState>) => void) => void;
  /** Mark every notification read. */
  'notifications:read-all': (ack: (res: Ack<ReadState>) => void) => void;
  /** A fresh token for the same user, so a long-lived tab stays signed in without reconnecting. */
  'auth:refresh': (req: { token: string }, ack: (res: Ack<{ exp: number }>) => void) => void;
  /** Legacy: (re)bind this socket's identity. */
  user_login: (req: { token?: string; tokenId?: string; userId?: string; lastSeq?: number }, ack?: (res: Ack<{ userId: string }>) => void) => void;
}

export interface SocketData {
  userId: string;
  /** Token expiry, seconds since the epoch. */
  exp: number;
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------
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

/** A readable "field: problem; field: problem" from a zod error. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

export const roomOf = (userId: string): string => `user:${userId}`;

export const MAX_LINK_CHARS = 2048;

/**
 * `data.link` is how a backend marks a notification as a link. Only absolute
 * http(s) URLs: never javascript:, data: or relative ones. Checked on push and
 * again where it is rendered.
 */
export function isSafeLink(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > MAX_LINK_CHARS) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}
