import 'server-only';
import { z } from 'zod';
import {
  DEFAULT_PAGE_LIMIT,
  ErrorCodes,
  MAX_BATCH_BODY_BYTES,
  MAX_BATCH_ITEMS,
  MAX_BATCH_RECIPIENTS,
  MAX_PAGE_LIMIT,
  MAX_PUSH_BODY_BYTES,
  MAX_STATUS_PAGE,
  type ErrorCode,
} from '../contract';
import { SIGNATURE_WINDOW_SECONDS } from '../http/signature';
import { ListRequestSchema, NotificationIdSchema, NotificationPatchSchema, PreferencesSchema, PushBatchBodySchema, PushBodySchema, UserIdSchema } from '../validate';
import {
  DevTokenAnswerSchema,
  errorBodySchema,
  HealthAnswerSchema,
  HistoryPageSchema,
  PushAcceptedSchema,
  NotificationChangedSchema,
  NotificationStatusSchema,
  PushBatchAcceptedSchema,
  ReadyAnswerSchema,
  WebhooksRetriedSchema,
} from './schemas';
import { DevTokenBodySchema } from '../http/devToken';

/**
 * What the document says about each route, keyed by the route's `name` in the
 * route table (lib/http/router.ts). document.ts lists the routes the server
 * really serves and looks each one up here; a route with no entry still
 * appears, marked `x-herald-undocumented` (tests/integration/openapi.test.ts
 * fails on it).
 *
 * Each example is one exchange, written once: the request (body, query,
 * headers, which credentials) and the answer. document.ts spreads the request
 * into same-named request-body and parameter examples, as OpenAPI pairs them;
 * an example marked `replay` is sent to a running Herald by the tests.
 *
 * One file past the usual length: it is the API's description read route by
 * route, as the README's tables are, and splitting it would scatter that.
 */

/**
 * Which credentials an example request carries: the operation's first scheme, none, a wrong bearer, a
 * fresh signature, or one whose timestamp is long past.
 */
export type Credentials = 'valid' | 'none' | 'wrong' | 'signed' | 'expired-signature';

export interface ExchangeSpec {
  summary: string;
  request?: { body?: unknown; path?: Record<string, string>; query?: Record<string, string>; headers?: Record<string, string> };
  /** The answer's body (JSON) or text. */
  answer?: unknown;
  /** Replayed by the tests with these credentials; left out for answers a test cannot provoke at will (429, 503, 500). */
  replay?: Credentials;
}

export type HeaderName = 'retry-after' | 'www-authenticate' | 'idempotent-replayed';

export interface ResponseSpec {
  description: string;
  /** A JSON answer's schema. */
  json?: z.ZodType;
  /** A non-JSON answer's media type (its schema is a string). */
  mediaType?: string;
  headers?: HeaderName[];
  examples?: Record<string, ExchangeSpec>;
}

export interface ParameterSpec {
  name: string;
  in: 'query' | 'header' | 'path';
  required?: boolean;
  description: string;
  schema: z.ZodType;
}

export type SecurityName = 'pushKey' | 'signedTimestamp' | 'signedSignature' | 'userToken' | 'metricsToken';

export interface OperationSpec {
  summary: string;
  description?: string;
  tag: 'Push' | 'History' | 'Development' | 'Operations' | 'Documentation';
  /** Alternatives, as OpenAPI's `security`: each entry's schemes together; `{}` means none needed. */
  security: Array<Partial<Record<SecurityName, []>>>;
  parameters?: ParameterSpec[];
  requestBody?: { schema: z.ZodType; description?: string };
  responses: Record<number, ResponseSpec>;
}

const errorAnswer = (code: ErrorCode, message: string) => ({ error: { code, message } });

/** An error response: its codes narrow the schema's `code`. */
function errors(description: string, codes: ErrorCode[], examples: Record<string, ExchangeSpec> = {}, headers: HeaderName[] = []): ResponseSpec {
  return { description, json: errorBodySchema(codes), headers, examples };
}

const internalError = errors('A fault inside Herald; it is logged with the request id.', [ErrorCodes.internal], {
  internal: { summary: 'An unexpected fault', answer: errorAnswer(ErrorCodes.internal, 'internal error') },
});

const notJson = errors('Not `application/json`, or a compressed body.', [ErrorCodes.unsupportedMediaType], {
  textPlain: { summary: 'Content-Type: text/plain', answer: errorAnswer(ErrorCodes.unsupportedMediaType, 'Content-Type must be application/json') },
});

const pushUnauthorized = errors(
  'No key, a wrong key, or a signed request that does not verify, is outside the time window, or was already received.',
  [ErrorCodes.unauthorized, ErrorCodes.signatureInvalid, ErrorCodes.signatureExpired, ErrorCodes.signatureReplayed],
  {
    noKey: {
      summary: 'No credentials',
      request: { body: { tokens: ['alice'] } },
      answer: errorAnswer(ErrorCodes.unauthorized, 'missing or wrong push-API key (Authorization: Bearer <key>)'),
      replay: 'none',
    },
    signatureExpired: {
      summary: 'A signature made long ago',
      request: { body: { tokens: ['alice'] } },
      answer: errorAnswer(ErrorCodes.signatureExpired, `x-herald-timestamp is more than ${SIGNATURE_WINDOW_SECONDS} s from the server's clock`),
      replay: 'expired-signature',
    },
    signatureInvalid: {
      summary: 'A signature that does not match the body',
      answer: errorAnswer(ErrorCodes.signatureInvalid, 'signature does not match the body'),
    },
    signatureReplayed: {
      summary: 'The same signed bytes twice',
      answer: errorAnswer(ErrorCodes.signatureReplayed, 'this signed request was already received'),
    },
  },
  ['www-authenticate'],
);

const pushKeyUnauthorized = errors('No push key, or a wrong one.', [ErrorCodes.unauthorized], {
  wrongKey: {
    summary: 'A wrong key',
    request: { query: { userId: 'alice' } },
    answer: errorAnswer(ErrorCodes.unauthorized, 'missing or wrong push-API key (Authorization: Bearer <key>)'),
    replay: 'wrong',
  },
}, ['www-authenticate']);

const pageParameters: ParameterSpec[] = [
  {
    name: 'limit',
    in: 'query',
    description: `Items per page, 1..${MAX_PAGE_LIMIT}; default ${DEFAULT_PAGE_LIMIT}.`,
    schema: ListRequestSchema.shape.limit.unwrap(),
  },
  { name: 'before', in: 'query', description: "A page's `nextCursor`: items older than it.", schema: ListRequestSchema.shape.before.unwrap() },
];

const sampleNotification = {
  id: 'order-42:shipped',
  seq: 7,
  entityType: 'like',
  data: { actor: 'Bob', target: 'Shipping Herald', text: 'liked your post' },
  createdAt: '2026-12-07T12:00:00.000Z',
  read: false,
};

export const operations: Record<string, OperationSpec> = {
  push: {
    summary: 'Push a notification',
    description:
      'Stores the notification for every user named, then delivers it to their live sockets; 202 once it is committed, so it ' +
      'survives a crash and reaches offline users when they return. Authenticate with the push key as a bearer, or sign the ' +
      'request. A push with the same `id` or `Idempotency-Key` within 24 hours returns the first answer with ' +
      '`Idempotent-Replayed: true` and delivers nothing new; the same key with another body is a 409.',
    tag: 'Push',
    security: [{ pushKey: [] }, { signedTimestamp: [], signedSignature: [] }],
    parameters: [
      {
        name: 'Idempotency-Key',
        in: 'header',
        description: 'Makes a retry safe: the same key returns the first answer. The body\'s `id` does the same.',
        schema: NotificationIdSchema,
      },
    ],
    requestBody: { schema: PushBodySchema },
    responses: {
      202: {
        description: 'Stored and being delivered.',
        json: PushAcceptedSchema,
        headers: ['idempotent-replayed'],
        examples: {
          like: {
            summary: 'A like for two users',
            request: { body: { tokens: ['alice', 'bob'], entityType: 'like', data: { actor: 'Carol', target: 'Shipping Herald' } } },
            answer: { id: '0b6c1c9e-5d2f-4a8e-9a51-2f0b7c3d4e5f', recipients: 2, online: 1 },
            replay: 'valid',
          },
          withId: {
            summary: 'With your own id (also the idempotency key) and a link',
            request: { body: { userIds: ['alice'], entityType: 'order.shipped', id: 'order-42:shipped', data: { text: 'Your order shipped', link: 'https://shop.example/orders/42' } } },
            answer: { id: 'order-42:shipped', recipients: 1, online: 0 },
            replay: 'valid',
          },
          withKey: {
            summary: 'With an Idempotency-Key header',
            request: { body: { tokens: ['alice'], data: 'Your invoice is ready' }, headers: { 'Idempotency-Key': 'invoice-1001' } },
            answer: { id: '6f1d2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b', recipients: 1, online: 0 },
            replay: 'valid',
          },
          signed: {
            summary: 'A signed request (X-Herald-Timestamp and X-Herald-Signature instead of the key)',
            request: { body: { tokens: ['bob'], entityType: 'follow', data: { actor: 'Carol' } } },
            answer: { id: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', recipients: 1, online: 0 },
            replay: 'signed',
          },
        },
      },
      400: errors('The body is not JSON, or a field is wrong (the message names it).', [ErrorCodes.invalidJson, ErrorCodes.validationFailed], {
        notJson: { summary: 'A body that is not JSON', answer: errorAnswer(ErrorCodes.invalidJson, 'body is not valid JSON: Unexpected token') },
        emptyTokens: {
          summary: 'A recipient list that is empty',
          request: { body: { tokens: [] } },
          answer: errorAnswer(ErrorCodes.validationFailed, 'tokens: must name at least one user'),
          replay: 'valid',
        },
        unknownField: {
          summary: 'A field Herald does not know',
          request: { body: { tokens: ['alice'], message: 'hi' } },
          answer: errorAnswer(ErrorCodes.validationFailed, 'unknown field(s): message'),
          replay: 'valid',
        },
        unsafeLink: {
          summary: 'A link that is not http(s)',
          request: { body: { tokens: ['alice'], data: { link: 'javascript:alert(1)' } } },
          answer: errorAnswer(ErrorCodes.validationFailed, 'data.link: must be an http(s) URL of at most 2048 characters'),
          replay: 'valid',
        },
        badIdempotencyKey: {
          summary: 'An Idempotency-Key with a space',
          request: { body: { tokens: ['alice'] }, headers: { 'Idempotency-Key': 'not a key' } },
          answer: errorAnswer(ErrorCodes.validationFailed, 'Idempotency-Key: 1..128 characters of letters, digits and . _ : ~ -'),
          replay: 'valid',
        },
      }),
      401: pushUnauthorized,
      409: errors('The idempotency key was used before with another body.', [ErrorCodes.idempotencyConflict], {
        keyConflict: {
          summary: 'The key of an earlier push with another body',
          request: { body: { tokens: ['alice'], data: 'Another text' }, headers: { 'Idempotency-Key': 'invoice-1001' } },
          answer: errorAnswer(ErrorCodes.idempotencyConflict, 'this idempotency key was used with a different body'),
          replay: 'valid',
        },
      }),
      413: errors(`The body is over ${MAX_PUSH_BODY_BYTES} bytes.`, [ErrorCodes.payloadTooLarge], {
        tooLarge: { summary: 'A 70 KB body', answer: errorAnswer(ErrorCodes.payloadTooLarge, `body must be at most ${MAX_PUSH_BODY_BYTES} bytes`) },
      }),
      415: notJson,
      429: errors(
        'Over the key\'s pushes per second (PUSH_RATE_LIMIT), or too many signed requests inside the replay window; retry after `Retry-After` seconds.',
        [ErrorCodes.rateLimited],
        { overLimit: { summary: 'Over the rate limit', answer: errorAnswer(ErrorCodes.rateLimited, 'over 100 pushes per second for this key') } },
        ['retry-after'],
      ),
      500: internalError,
      503: errors(
        'The inbox cannot be written: nothing was accepted; retry (with the same idempotency key).',
        [ErrorCodes.unavailable],
        { storageDown: { summary: 'Storage unreachable', answer: errorAnswer(ErrorCodes.unavailable, 'storage is unavailable; nothing was accepted') } },
        ['retry-after'],
      ),
    },
  },
  'push-batch': {
    summary: 'Push many notifications at once',
    description:
      `Up to ${MAX_BATCH_ITEMS} push bodies in one request (${MAX_BATCH_BODY_BYTES / 1024 / 1024} MiB, ${MAX_BATCH_RECIPIENTS.toLocaleString('en-US')} recipients in all). ` +
      'Each is validated, stored and delivered as if pushed alone, its `id` its idempotency key; all are handed to the inbox at once, ' +
      'so group commit stores them together. The answer has one result per item, in order: an item refused on its own carries ' +
      '`{error}` while the others are stored. Every item is one push of the key\'s budget (PUSH_RATE_LIMIT). An `Idempotency-Key` ' +
      'header is refused: give each item its `id`.',
    tag: 'Push',
    security: [{ pushKey: [] }, { signedTimestamp: [], signedSignature: [] }],
    parameters: [
      {
        name: 'Idempotency-Key',
        in: 'header',
        description: 'Refused on a batch (400): each notification\'s `id` is its idempotency key.',
        schema: NotificationIdSchema,
      },
    ],
    requestBody: { schema: PushBatchBodySchema },
    responses: {
      202: {
        description: 'Every valid item stored and being delivered; the refused ones say why.',
        json: PushBatchAcceptedSchema,
        examples: {
          twoLikes: {
            summary: 'Two notifications with ids of their own',
            request: {
              body: {
                notifications: [
                  { id: 'batch-like-1', tokens: ['alice'], entityType: 'like', data: { actor: 'Bob', target: 'Shipping Herald' } },
                  { id: 'batch-follow-1', tokens: ['bob'], entityType: 'follow', data: { actor: 'Carol' } },
                ],
              },
            },
            answer: { results: [{ id: 'batch-like-1', recipients: 1, online: 0 }, { id: 'batch-follow-1', recipients: 1, online: 0 }] },
            replay: 'valid',
          },
          oneRefused: {
            summary: 'One item refused on its own, the other stored',
            request: { body: { notifications: [{ id: 'batch-ok-1', tokens: ['alice'] }, { tokens: [] }] } },
            answer: { results: [{ id: 'batch-ok-1', recipients: 1, online: 0 }, errorAnswer(ErrorCodes.validationFailed, 'tokens: must name at least one user')] },
            replay: 'valid',
          },
          signed: {
            summary: 'A signed batch',
            request: { body: { notifications: [{ id: 'batch-signed-1', tokens: ['bob'] }] } },
            answer: { results: [{ id: 'batch-signed-1', recipients: 1, online: 0 }] },
            replay: 'signed',
          },
        },
      },
      400: errors('The body is not JSON, the envelope is wrong, or the batch is larger than the key\'s burst; nothing was stored.', [ErrorCodes.invalidJson, ErrorCodes.validationFailed], {
        emptyBatch: {
          summary: 'No notifications',
          request: { body: { notifications: [] } },
          answer: errorAnswer(ErrorCodes.validationFailed, 'notifications: must hold at least one notification'),
          replay: 'valid',
        },
        idempotencyKeyHeader: {
          summary: 'An Idempotency-Key header on a batch',
          request: { body: { notifications: [{ tokens: ['alice'] }] }, headers: { 'Idempotency-Key': 'batch-1' } },
          answer: errorAnswer(ErrorCodes.validationFailed, 'Idempotency-Key applies to one push: in a batch, give each notification its own `id`'),
          replay: 'valid',
        },
      }),
      401: errors('No key, a wrong key, or a signed request that does not verify, is outside the time window, or was already received.', [
        ErrorCodes.unauthorized,
        ErrorCodes.signatureInvalid,
        ErrorCodes.signatureExpired,
        ErrorCodes.signatureReplayed,
      ], {
        noKey: {
          summary: 'No credentials',
          request: { body: { notifications: [{ tokens: ['alice'] }] } },
          answer: errorAnswer(ErrorCodes.unauthorized, 'missing or wrong push-API key (Authorization: Bearer <key>)'),
          replay: 'none',
        },
      }, ['www-authenticate']),
      413: errors(`The body is over ${MAX_BATCH_BODY_BYTES} bytes.`, [ErrorCodes.payloadTooLarge], {
        tooLarge: { summary: 'A 5 MiB body', answer: errorAnswer(ErrorCodes.payloadTooLarge, `body must be at most ${MAX_BATCH_BODY_BYTES} bytes`) },
      }),
      415: notJson,
      429: errors(
        'The key\'s budget cannot pay for every item now; nothing was stored. Retry after `Retry-After` seconds.',
        [ErrorCodes.rateLimited],
        { overLimit: { summary: 'Over the rate limit', answer: errorAnswer(ErrorCodes.rateLimited, 'over 100 pushes per second for this key') } },
        ['retry-after'],
      ),
      500: internalError,
      503: errors(
        'The inbox could store none of the items: nothing was accepted; retry with the same ids.',
        [ErrorCodes.unavailable],
        { storageDown: { summary: 'Storage unreachable', answer: errorAnswer(ErrorCodes.unavailable, 'storage is unavailable; nothing was accepted') } },
        ['retry-after'],
      ),
    },
  },
  'notification-status': {
    summary: "A notification's receipts, per recipient",
    description:
      'The notification and, for each recipient in user-id order, `deliveredAt` (a socket of theirs confirmed it), `seenAt` (shown in a ' +
      `visible tab) and \`readAt\`, null where not reached yet. ${MAX_STATUS_PAGE} recipients per page; pass \`nextCursor\` as \`after\`.`,
    tag: 'Push',
    security: [{ pushKey: [] }],
    parameters: [
      { name: 'id', in: 'path', required: true, description: 'The notification id (yours, or the one the push answered).', schema: NotificationIdSchema },
      { name: 'after', in: 'query', description: "A page's `nextCursor`: recipients after this user id.", schema: UserIdSchema },
      { name: 'limit', in: 'query', description: `Recipients per page, 1..${MAX_STATUS_PAGE}; default ${MAX_STATUS_PAGE}.`, schema: z.number().int().min(1).max(MAX_STATUS_PAGE) },
    ],
    responses: {
      200: {
        description: 'The notification and a page of its recipients.',
        json: NotificationStatusSchema,
        examples: {
          status: {
            summary: 'A like for two users: one read it, the other has not connected since',
            request: { path: { id: 'order-42:shipped' } },
            answer: {
              notification: { id: 'order-42:shipped', seq: 7, entityType: 'order.shipped', data: { text: 'Your order shipped' }, createdAt: '2026-12-07T12:00:00.000Z' },
              recipients: [{ userId: 'alice', deliveredAt: '2026-12-07T12:00:00.120Z', seenAt: '2026-12-07T12:00:01.000Z', readAt: '2026-12-07T12:03:10.000Z' }],
              nextCursor: null,
            },
            replay: 'valid',
          },
        },
      },
      400: errors('A malformed id or query.', [ErrorCodes.validationFailed], {
        badLimit: {
          summary: 'A limit over the page size',
          request: { path: { id: 'order-42:shipped' }, query: { limit: '1000' } },
          answer: errorAnswer(ErrorCodes.validationFailed, `limit: must be at most ${MAX_STATUS_PAGE}`),
          replay: 'valid',
        },
      }),
      401: errors('No push key, or a wrong one.', [ErrorCodes.unauthorized], {
        wrongKey: {
          summary: 'A wrong key',
          request: { path: { id: 'order-42:shipped' } },
          answer: errorAnswer(ErrorCodes.unauthorized, 'missing or wrong push-API key (Authorization: Bearer <key>)'),
          replay: 'wrong',
        },
      }, ['www-authenticate']),
      404: errors('No notification with this id (never pushed, or past retention).', [ErrorCodes.notFound], {
        unknown: {
          summary: 'An id never pushed',
          request: { path: { id: 'never-pushed-1' } },
          answer: errorAnswer(ErrorCodes.notFound, 'no notification with id never-pushed-1'),
          replay: 'valid',
        },
      }),
      500: internalError,
      503: errors('The inbox cannot be read.', [ErrorCodes.unavailable], {
        storageDown: { summary: 'Storage unreachable', answer: errorAnswer(ErrorCodes.unavailable, 'storage is unavailable; nothing was accepted') },
      }, ['retry-after']),
    },
  },
  'notification-update': {
    summary: "Change a notification's content",
    description:
      'Replaces `data`, `entityType` or both for every recipient still holding it. Inbox items and toasts on screen change in place ' +
      '(`notification:update`); read state is kept. A tab that was away gets the change in its catch-up.',
    tag: 'Push',
    security: [{ pushKey: [] }],
    parameters: [{ name: 'id', in: 'path', required: true, description: 'The notification id.', schema: NotificationIdSchema }],
    requestBody: { schema: NotificationPatchSchema },
    responses: {
      200: {
        description: 'Changed: how many recipients hold it.',
        json: NotificationChangedSchema,
        examples: { changed: { summary: 'A progress notification updated', request: { path: { id: 'export-7' }, body: { data: { text: 'Export ready' } } }, answer: { id: 'export-7', recipients: 1 } } },
      },
      400: errors('A malformed id or body.', [ErrorCodes.validationFailed], {
        empty: {
          summary: 'Nothing to change',
          request: { path: { id: 'export-7' }, body: {} },
          answer: errorAnswer(ErrorCodes.validationFailed, 'give `data`, `entityType` or both'),
          replay: 'valid',
        },
      }),
      401: pushKeyUnauthorized,
      404: errors('No notification with this id.', [ErrorCodes.notFound], {
        unknown: {
          summary: 'An id never pushed',
          request: { path: { id: 'never-pushed-2' }, body: { data: { text: 'x' } } },
          answer: errorAnswer(ErrorCodes.notFound, 'no notification with id never-pushed-2'),
          replay: 'valid',
        },
      }),
      415: notJson,
      500: internalError,
    },
  },
  'notification-retract': {
    summary: 'Retract a notification',
    description:
      'Removes it from every recipient\'s inbox, or with `userId` from one user\'s, and live from their screens (`notification:remove`); ' +
      'unread counts are corrected. 404 when no one (or not that user) holds it any more.',
    tag: 'Push',
    security: [{ pushKey: [] }],
    parameters: [
      { name: 'id', in: 'path', required: true, description: 'The notification id.', schema: NotificationIdSchema },
      { name: 'userId', in: 'query', description: 'Only this recipient\'s copy.', schema: UserIdSchema },
    ],
    responses: {
      200: {
        description: 'Removed: from how many recipients.',
        json: NotificationChangedSchema,
        examples: { retracted: { summary: 'Sent by mistake', request: { path: { id: 'order-42:shipped' } }, answer: { id: 'order-42:shipped', recipients: 2 } } },
      },
      400: errors('A malformed id or query.', [ErrorCodes.validationFailed]),
      401: pushKeyUnauthorized,
      404: errors('No one holds a notification with this id.', [ErrorCodes.notFound], {
        unknown: {
          summary: 'An id never pushed',
          request: { path: { id: 'never-pushed-3' } },
          answer: errorAnswer(ErrorCodes.notFound, 'no one holds notification never-pushed-3'),
          replay: 'valid',
        },
      }),
      500: internalError,
    },
  },
  'preferences-get': {
    summary: "A user's notification preferences",
    description: 'The entity types the user muted: stored and listed, never toasted, not counted as unread. Read them to skip e-mail too.',
    tag: 'Push',
    security: [{ pushKey: [] }],
    parameters: [{ name: 'id', in: 'path', required: true, description: 'The user id.', schema: UserIdSchema }],
    responses: {
      200: {
        description: 'The preferences.',
        json: PreferencesSchema,
        examples: { none: { summary: 'Nothing muted', request: { path: { id: 'carol' } }, answer: { mutedTypes: [] }, replay: 'valid' } },
      },
      400: errors('A malformed user id.', [ErrorCodes.validationFailed]),
      401: pushKeyUnauthorized,
      500: internalError,
    },
  },
  'preferences-put': {
    summary: "Replace a user's notification preferences",
    description: 'Every tab of the user learns of them at once (`notifications:preferences`).',
    tag: 'Push',
    security: [{ pushKey: [] }],
    parameters: [{ name: 'id', in: 'path', required: true, description: 'The user id.', schema: UserIdSchema }],
    requestBody: { schema: PreferencesSchema },
    responses: {
      200: {
        description: 'The preferences now stored.',
        json: PreferencesSchema,
        examples: {
          mute: { summary: 'Mute marketing', request: { path: { id: 'dave' }, body: { mutedTypes: ['marketing'] } }, answer: { mutedTypes: ['marketing'] }, replay: 'valid' },
        },
      },
      400: errors('A malformed user id or body.', [ErrorCodes.validationFailed], {
        notAList: {
          summary: 'Not a list',
          request: { path: { id: 'dave' }, body: { mutedTypes: 'marketing' } },
          answer: errorAnswer(ErrorCodes.validationFailed, 'mutedTypes: Invalid input: expected array, received string'),
          replay: 'valid',
        },
      }),
      401: pushKeyUnauthorized,
      415: notJson,
      500: internalError,
    },
  },
  'webhooks-retry': {
    summary: 'Send failed webhook batches again',
    description:
      'Makes every webhook batch kept as failed (its retries spent, or its URL answered 410) due again, and lifts a 410 stop. ' +
      '404 when WEBHOOK_URL is unset. A body, if any, is ignored.',
    tag: 'Operations',
    security: [{ pushKey: [] }],
    responses: {
      200: { description: 'How many batches were made due again.', json: WebhooksRetriedSchema, examples: { none: { summary: 'Nothing had failed', answer: { retried: 0 } } } },
      401: errors('No push key, or a wrong one.', [ErrorCodes.unauthorized], {
        wrongKey: {
          summary: 'A wrong key',
          answer: errorAnswer(ErrorCodes.unauthorized, 'missing or wrong push-API key (Authorization: Bearer <key>)'),
          replay: 'wrong',
        },
      }, ['www-authenticate']),
      404: errors('Webhooks are not configured.', [ErrorCodes.notFound], {
        notConfigured: {
          summary: 'WEBHOOK_URL is unset',
          answer: errorAnswer(ErrorCodes.notFound, 'webhooks are not configured (WEBHOOK_URL is unset)'),
          replay: 'valid',
        },
      }),
      500: internalError,
    },
  },
  notifications: {
    summary: "A user's history, for backends",
    description: 'Newest first, with the unread count. Page with `before` (the previous page\'s `nextCursor`).',
    tag: 'History',
    security: [{ pushKey: [] }],
    parameters: [{ name: 'userId', in: 'query', required: true, description: 'Whose history.', schema: UserIdSchema }, ...pageParameters],
    responses: {
      200: {
        description: 'One page of the history.',
        json: HistoryPageSchema,
        examples: {
          firstPage: {
            summary: "The newest two of alice's notifications",
            request: { query: { userId: 'alice', limit: '2' } },
            answer: { items: [sampleNotification], nextCursor: null, unread: 1 },
            replay: 'valid',
          },
        },
      },
      400: errors('`userId` is missing or invalid, or `limit`/`before` is out of range.', [ErrorCodes.validationFailed], {
        noUser: {
          summary: 'Without userId',
          request: { query: { limit: '5' } },
          answer: errorAnswer(ErrorCodes.validationFailed, 'userId: must be a string'),
          replay: 'valid',
        },
        limitTooHigh: {
          summary: `A limit over ${MAX_PAGE_LIMIT}`,
          request: { query: { userId: 'alice', limit: '1000' } },
          answer: errorAnswer(ErrorCodes.validationFailed, `limit: Too big: expected number to be <=${MAX_PAGE_LIMIT}`),
          replay: 'valid',
        },
      }),
      401: pushKeyUnauthorized,
      500: internalError,
      503: errors('The inbox cannot be read.', [ErrorCodes.unavailable], {}, ['retry-after']),
    },
  },
  'me-notifications': {
    summary: "The token holder's own history",
    description: 'For a browser or an app holding a user token (the one it connects with): its history, newest first, with the unread count.',
    tag: 'History',
    security: [{ userToken: [] }],
    parameters: pageParameters,
    responses: {
      200: {
        description: 'One page of the history.',
        json: HistoryPageSchema,
        examples: {
          mine: { summary: 'The newest page', request: { query: { limit: '20' } }, answer: { items: [sampleNotification], nextCursor: 6, unread: 3 }, replay: 'valid' },
        },
      },
      400: errors('`limit` or `before` is out of range.', [ErrorCodes.validationFailed], {
        badLimit: {
          summary: 'A limit of zero',
          request: { query: { limit: '0' } },
          answer: errorAnswer(ErrorCodes.validationFailed, 'limit: Too small: expected number to be >=1'),
          replay: 'valid',
        },
      }),
      401: errors('No token, a token that does not verify, or an expired one.', [ErrorCodes.unauthorized, ErrorCodes.tokenExpired], {
        badToken: { summary: 'A token that does not verify', answer: errorAnswer(ErrorCodes.unauthorized, 'token is not valid'), replay: 'wrong' },
      }, ['www-authenticate']),
      500: internalError,
      503: errors('The inbox cannot be read.', [ErrorCodes.unavailable], {}, ['retry-after']),
    },
  },
  'dev-token': {
    summary: 'Mint a user token (development only)',
    description: 'Exists only in dev auth mode (no AUTH_SECRET, not production): signs a token with the per-boot secret so the demo connects as production does.',
    tag: 'Development',
    security: [{}],
    requestBody: { schema: DevTokenBodySchema },
    responses: {
      200: {
        description: 'A token for the user.',
        json: DevTokenAnswerSchema,
        examples: { alice: { summary: 'A token for alice', request: { body: { userId: 'alice' } }, answer: { token: 'eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl', userId: 'alice', expiresIn: 3600 }, replay: 'valid' } },
      },
      400: errors('The body is not JSON, or `userId` is invalid.', [ErrorCodes.invalidJson, ErrorCodes.validationFailed], {
        noUser: { summary: 'Without userId', request: { body: {} }, answer: errorAnswer(ErrorCodes.validationFailed, 'userId: must be a string'), replay: 'valid' },
      }),
      413: errors('The body is over 1024 bytes.', [ErrorCodes.payloadTooLarge]),
      415: errors('Not `application/json`.', [ErrorCodes.unsupportedMediaType]),
      500: internalError,
    },
  },
  metrics: {
    summary: 'Prometheus metrics',
    description: 'The text exposition format, behind METRICS_TOKEN. Without METRICS_TOKEN it is open in development and absent in production.',
    tag: 'Operations',
    security: [{ metricsToken: [] }],
    responses: {
      200: {
        description: 'The metrics.',
        mediaType: 'text/plain',
        examples: { scrape: { summary: 'A scrape', answer: '# HELP herald_pushes_total Pushes answered.\n', replay: 'valid' } },
      },
      401: errors('No token, or a wrong one.', [ErrorCodes.unauthorized], {
        noToken: { summary: 'No token', answer: errorAnswer(ErrorCodes.unauthorized, 'missing or wrong metrics token (Authorization: Bearer <METRICS_TOKEN>)'), replay: 'none' },
      }, ['www-authenticate']),
      500: internalError,
    },
  },
  healthz: {
    summary: 'Liveness',
    description: 'The process is up.',
    tag: 'Operations',
    security: [{}],
    responses: {
      200: { description: 'Up.', json: HealthAnswerSchema, examples: { up: { summary: 'Up', answer: { status: 'ok', uptimeSeconds: 42 }, replay: 'valid' } } },
    },
  },
  readyz: {
    summary: 'Readiness',
    description:
      'Whether this node should get traffic: the database (and Redis, when clustered) answering, not shutting down. Anyone gets ' +
      '`status`; with the push key or the metrics token as a bearer, also the checks.',
    tag: 'Operations',
    security: [{}, { pushKey: [] }, { metricsToken: [] }],
    responses: {
      200: {
        description: 'Ready.',
        json: ReadyAnswerSchema,
        examples: {
          ready: { summary: 'Ready, as a balancer sees it', answer: { status: 'ready' }, replay: 'none' },
          operator: {
            summary: 'Ready, as an operator sees it',
            answer: {
              status: 'ready',
              accepting: true,
              node: 'herald-1',
              checks: { database: { ok: true, kind: 'sqlite', backlog: 0 }, realtime: { ok: true, connections: 12 } },
            },
            replay: 'valid',
          },
        },
      },
      503: {
        description: 'Not ready: a dependency is down or the node is shutting down.',
        json: ReadyAnswerSchema,
        examples: { unready: { summary: 'Unready', answer: { status: 'unready' } } },
      },
    },
  },
  openapi: {
    summary: 'This document',
    tag: 'Documentation',
    security: [{}],
    responses: { 200: { description: 'The OpenAPI 3.1 document.', mediaType: 'application/json', examples: { document: { summary: 'The document (abridged)', answer: { openapi: '3.1.1', info: { title: 'Herald', version: '0.1.0' } }, replay: 'valid' } } } },
  },
  docs: {
    summary: 'This document, rendered',
    description: 'An HTML page that renders this document with Redoc, served by Herald itself (no CDN), under its own Content-Security-Policy.',
    tag: 'Documentation',
    security: [{}],
    responses: { 200: { description: 'The page.', mediaType: 'text/html', examples: { page: { summary: 'The page (abridged)', answer: '<!doctype html><title>Herald API</title><redoc spec-url="/api/openapi.json"></redoc>', replay: 'valid' } } } },
  },
  'docs-viewer': {
    summary: "The viewer's script",
    description: "Redoc's standalone bundle, which /api/docs loads.",
    tag: 'Documentation',
    security: [{}],
    responses: { 200: { description: 'The script.', mediaType: 'text/javascript', examples: { script: { summary: 'The script (abridged)', answer: '/*! Redoc */', replay: 'valid' } } } },
  },
};
