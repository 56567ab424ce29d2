import { z } from 'zod';
import {
  MAX_PAGE_LIMIT,
  MAX_READ_IDS,
  MAX_SEEN_IDS,
  MAX_TOKEN_CHARS,
  type HandshakeAuth,
  type ListRequest,
  type ReadRequest,
  type ReceivedRequest,
  type RefreshRequest,
  type SeenRequest,
  type UserLoginRequest,
} from '../contract';
import { NotificationIdSchema, SeqSchema, UserIdSchema } from './ids';

/**
 * Schemas for what clients send over the socket (and the history endpoints'
 * query), each held to its contract type: a schema that drifts from the type
 * it validates does not compile.
 */

const TokenSchema = z.string().min(1).max(MAX_TOKEN_CHARS);

export const ListRequestSchema = z.strictObject({
  before: SeqSchema.optional(),
  limit: z.number().int().min(1).max(MAX_PAGE_LIMIT).optional(),
}) satisfies z.ZodType<ListRequest>;

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
