import { z } from 'zod';
import {
  isSafeLink,
  MAX_ARCHIVE_IDS,
  MAX_LINK_CHARS,
  MAX_DATA_BYTES,
  MAX_MUTED_TYPES,
  MAX_PAGE_LIMIT,
  MAX_READ_IDS,
  MAX_SEEN_IDS,
  MAX_TOKEN_CHARS,
  type ArchiveRequest,
  type HandshakeAuth,
  type Preferences,
  type ListRequest,
  type ReadRequest,
  type ReceivedRequest,
  type RefreshRequest,
  type SeenRequest,
  type UserLoginRequest,
} from '../contract';
import { EntityTypeSchema, NotificationIdSchema, SeqSchema, UserIdSchema } from './ids';
import { DataSchema, utf8Length } from './push';

/**
 * Schemas for what clients send over the socket (and the history endpoints'
 * query), each held to its contract type: a schema that drifts from the type
 * it validates does not compile.
 */

const TokenSchema = z.string().min(1).max(MAX_TOKEN_CHARS);

export const InboxViewSchema = z.enum(['unread', 'all', 'archived'], { error: 'must be "unread", "all" or "archived"' });

export const ListRequestSchema = z.strictObject({
  before: SeqSchema.optional(),
  limit: z.number().int().min(1).max(MAX_PAGE_LIMIT).optional(),
  view: InboxViewSchema.optional(),
}) satisfies z.ZodType<ListRequest>;

export const ArchiveRequestSchema = z.strictObject({
  ids: z.array(NotificationIdSchema).min(1).max(MAX_ARCHIVE_IDS),
  archived: z.boolean().optional(),
}) satisfies z.ZodType<ArchiveRequest>;

/** `{ mutedTypes }`: the whole list, replacing the one stored. */
export const PreferencesSchema = z.strictObject({
  mutedTypes: z.array(EntityTypeSchema).max(MAX_MUTED_TYPES, `must name at most ${MAX_MUTED_TYPES} types`),
}) satisfies z.ZodType<Preferences>;

/** `notifications:preferences`: `{}` reads, `{ mutedTypes }` replaces. */
export const PreferencesRequestSchema = z.union([PreferencesSchema, z.strictObject({}), z.undefined()]);

/** `PATCH /api/notifications/{id}`'s body: at least one of the two. */
export const NotificationPatchSchema = z
  .strictObject(
    {
      data: DataSchema.refine((d) => utf8Length(JSON.stringify(d)) <= MAX_DATA_BYTES, `must serialize to at most ${MAX_DATA_BYTES} bytes`)
        .optional(),
      entityType: EntityTypeSchema.optional(),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : 'must be a JSON object') },
  )
  .superRefine((p, ctx) => {
    if (p.data === undefined && p.entityType === undefined) ctx.addIssue({ code: 'custom', message: 'give `data`, `entityType` or both' });
    const data = p.data;
    if (data !== null && typeof data === 'object' && !Array.isArray(data) && 'link' in data && !isSafeLink(data.link)) {
      ctx.addIssue({ code: 'custom', path: ['data', 'link'], message: `must be an http(s) URL of at most ${MAX_LINK_CHARS} characters` });
    }
  });

export const ReadRequestSchema = z.strictObject({
  ids: z.array(NotificationIdSchema).min(1).max(MAX_READ_IDS),
}) satisfies z.ZodType<ReadRequest>;

export const ReceivedRequestSchema = z.strictObject({ upTo: SeqSchema }) satisfies z.ZodType<ReceivedRequest>;

export const SeenRequestSchema = z.strictObject({
  ids: z.array(NotificationIdSchema).min(1).max(MAX_SEEN_IDS),
}) satisfies z.ZodType<SeenRequest>;

export const RefreshSchema = z.strictObject({ token: TokenSchema }) satisfies z.ZodType<RefreshRequest>;

/** The handshake's `auth`: unknown fields are ignored (clients add their own). */
export const HandshakeAuthSchema = z.object({
  token: TokenSchema,
  lastSeq: SeqSchema.optional(),
}) satisfies z.ZodType<HandshakeAuth>;

export const UserLoginSchema = z.union([
  z.strictObject({ token: TokenSchema, lastSeq: SeqSchema.optional() }),
  z.strictObject({ tokenId: UserIdSchema, lastSeq: SeqSchema.optional() }),
  z.strictObject({ userId: UserIdSchema, lastSeq: SeqSchema.optional() }),
]) satisfies z.ZodType<UserLoginRequest>;

/**
 * An event that takes no payload: nothing, or an empty object, which many
 * socket.io clients send for "no payload".
 */
export const NoPayloadSchema = z.union([z.undefined(), z.strictObject({})]).transform(() => undefined);
