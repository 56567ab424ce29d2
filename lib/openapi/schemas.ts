import 'server-only';
import { z } from 'zod';
import {
  ErrorCodes,
  type ErrorBody,
  type ErrorCode,
  type JsonValue,
  type ListPage,
  type PushAccepted,
  type PushBatchAccepted,
  type NotificationChanged,
  type NotificationStatus,
  type WireNotification,
} from '../contract';
import { DevTokenBodySchema } from '../http/devToken';
import { EntityTypeSchema, NotificationIdSchema, PushBatchBodySchema, PushBodySchema, SeqSchema, UserIdSchema } from '../validate';

/**
 * The schemas of the OpenAPI document: the request schemas are lib/validate's
 * own (what the server parses with), and the answers are zod schemas held to
 * the contract's types with `satisfies`, so an answer type that changes without
 * its schema does not compile. Each is registered under its component name.
 */

export interface SchemaMeta {
  /** The component's name under `#/components/schemas/`. */
  id: string;
  description?: string;
  examples?: unknown[];
}

/** The document's components; z.toJSONSchema turns every use of a registered schema into a `$ref`. */
export const components = z.registry<SchemaMeta>();

export const JsonValueSchema = z.json() satisfies z.ZodType<JsonValue>;

export const NotificationSchema = z.strictObject({
  id: NotificationIdSchema,
  seq: SeqSchema,
  entityType: EntityTypeSchema,
  data: JsonValueSchema,
  createdAt: z.iso.datetime({ offset: true }),
  read: z.boolean(),
  collapseKey: NotificationIdSchema.optional(),
  group: z
    .strictObject({ actors: z.array(JsonValueSchema), count: z.number().int().min(1), pushes: z.number().int().min(1) })
    .optional()
    .describe("This user's group of a collapsed notification: its newest three distinct actors (from `data.actor`) and how many in all."),
  replaces: z.array(NotificationIdSchema).optional(),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  priority: z.literal('high').optional(),
  archived: z.boolean().optional(),
}) satisfies z.ZodType<WireNotification>;

const count = z.number().int().min(0);

export const NotificationChangedSchema = z.strictObject({
  id: NotificationIdSchema,
  recipients: count.describe('Recipients whose copy changed (or was removed).'),
}) satisfies z.ZodType<NotificationChanged>;

export const PushAcceptedSchema = z.strictObject({
  id: NotificationIdSchema,
  recipients: count,
  online: count,
}) satisfies z.ZodType<PushAccepted>;

/** One result per item of a batch, in order: accepted, or refused on its own. */
export const PushBatchAcceptedSchema = z.strictObject({
  results: z.array(z.union([PushAcceptedSchema, errorBodySchema([ErrorCodes.validationFailed, ErrorCodes.idempotencyConflict, ErrorCodes.unavailable])])),
}) satisfies z.ZodType<PushBatchAccepted>;

const instant = z.iso.datetime({ offset: true }).nullable();

export const NotificationStatusSchema = z.strictObject({
  notification: z.strictObject({ id: NotificationIdSchema, seq: SeqSchema, entityType: EntityTypeSchema, data: JsonValueSchema, createdAt: z.iso.datetime({ offset: true }) }),
  recipients: z.array(z.strictObject({ userId: UserIdSchema, deliveredAt: instant, seenAt: instant, readAt: instant })),
  nextCursor: UserIdSchema.nullable(),
}) satisfies z.ZodType<NotificationStatus>;

export const WebhooksRetriedSchema = z.strictObject({ retried: count });

export const HistoryPageSchema = z.strictObject({
  items: z.array(NotificationSchema),
  nextCursor: SeqSchema.nullable(),
  unread: count,
}) satisfies z.ZodType<ListPage & { unread: number }>;

export const DevTokenAnswerSchema = z.strictObject({
  token: z.string().min(1),
  userId: UserIdSchema,
  expiresIn: z.number().int().min(1),
});

export const HealthAnswerSchema = z.strictObject({ status: z.literal('ok'), uptimeSeconds: count });

const dependencyCheck = z.object({ ok: z.boolean(), error: z.string().optional() });

/** /readyz: everyone gets `status`; an operator (push key or metrics token) also gets the checks. */
export const ReadyAnswerSchema = z.strictObject({
  status: z.enum(['ready', 'unready']),
  accepting: z.boolean().optional(),
  node: z.string().optional(),
  checks: z
    .object({
      database: dependencyCheck.extend({ kind: z.string(), backlog: count.optional() }),
      redis: dependencyCheck.optional(),
      realtime: z.object({ ok: z.boolean(), connections: count }),
    })
    .optional(),
});

const allCodes = Object.values(ErrorCodes) as [ErrorCode, ...ErrorCode[]];

/** Every HTTP error answer, with `code` narrowed to the codes one response may carry. */
export function errorBodySchema(codes: readonly ErrorCode[] = allCodes) {
  return z.strictObject({
    error: z.strictObject({
      code: z.enum(codes as [ErrorCode, ...ErrorCode[]]),
      message: z.string().min(1),
    }),
  }) satisfies z.ZodType<ErrorBody>;
}

/**
 * What a schema checks in a refinement, which JSON Schema cannot learn from zod, said in JSON Schema
 * beside it: PushBodySchema's superRefine wants exactly one of `tokens` and `userIds`.
 */
export const refinements = new Map<unknown, Record<string, unknown>>([
  [PushBodySchema, { oneOf: [{ required: ['tokens'] }, { required: ['userIds'] }] }],
]);

components.add(UserIdSchema, { id: 'UserId', description: 'A user id: 1..128 characters, no control characters, well-formed Unicode.' });
components.add(NotificationIdSchema, {
  id: 'NotificationId',
  description: 'A notification id, also its idempotency key: 1..128 letters, digits and `. _ : ~ -`.',
});
components.add(EntityTypeSchema, { id: 'EntityType', description: 'What the notification is about, e.g. `like`, `comment`; default `message`.' });
components.add(SeqSchema, { id: 'Seq', description: "A position in the user's sequence; strictly increasing per user." });
components.add(JsonValueSchema, { id: 'JsonValue', description: 'Any JSON value.' });
components.add(PushBodySchema, {
  id: 'PushBody',
  description:
    'Give exactly one of `tokens` and `userIds` (an alias). `data` is any JSON of at most 16 KiB serialized and 32 levels deep; ' +
    'a `data.link` must be an absolute http(s) URL of at most 2048 characters. `id` is your id for the notification and its idempotency key.',
});
components.add(PushBatchBodySchema, {
  id: 'PushBatchBody',
  description: '1..1,000 push bodies (each a PushBody), at most 4 MiB in all and 100,000 recipients summed over the batch.',
});
components.add(PushBatchAcceptedSchema, {
  id: 'PushBatchAccepted',
  description:
    'One result per notification, in the order sent. An item with `error` was not stored: `unavailable` is worth a retry with the same id; ' +
    '`validation_failed` and `idempotency_conflict` are not.',
});
components.add(NotificationStatusSchema, {
  id: 'NotificationStatus',
  description:
    'The notification and, per recipient in user-id order, when it was first delivered to a socket, shown in a visible tab, and read; ' +
    'null where that has not happened. Pass `nextCursor` as `after` for the next page of recipients.',
});
components.add(WebhooksRetriedSchema, { id: 'WebhooksRetried', description: 'How many failed webhook batches were made due again.' });
components.add(NotificationSchema, { id: 'Notification', description: 'A stored notification as a user sees it.' });
components.add(PushAcceptedSchema, {
  id: 'PushAccepted',
  description: '`recipients`: distinct users named; `online`: how many of them had at least one live socket.',
});
components.add(HistoryPageSchema, {
  id: 'HistoryPage',
  description: 'Newest first. Pass `nextCursor` as `before` for the next (older) page; null when there is none.',
});
components.add(DevTokenBodySchema, { id: 'DevTokenRequest' });
components.add(DevTokenAnswerSchema, { id: 'DevToken', description: 'A user token (HS256 JWT) and its lifetime in seconds.' });
components.add(HealthAnswerSchema, { id: 'Health' });
components.add(ReadyAnswerSchema, { id: 'Readiness' });
components.add(errorBodySchema(), { id: 'Error', description: 'Every error answer: one stable code and a readable message.' });
