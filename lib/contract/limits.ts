/** Limits that are part of the wire contract: the server enforces them, clients may rely on them. */
export const MAX_RECIPIENTS_PER_PUSH = 1000;
export const MAX_USER_ID_CHARS = 128;
export const MAX_DATA_BYTES = 16 * 1024;
/** Arrays and objects nested deeper than this in `data` are refused (validators and renderers recurse). */
export const MAX_DATA_DEPTH = 32;
export const MAX_PUSH_BODY_BYTES = 64 * 1024;
/** `POST /api/push/batch`: notifications per batch, bytes per body, and recipients summed over the batch. */
export const MAX_BATCH_ITEMS = 1000;
export const MAX_BATCH_BODY_BYTES = 4 * 1024 * 1024;
export const MAX_BATCH_RECIPIENTS = 100_000;
export const MAX_ENTITY_TYPE_CHARS = 64;
export const MAX_NOTIFICATION_ID_CHARS = 128;
export const MAX_PAGE_LIMIT = 100;
export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_READ_IDS = 200;
export const MAX_TOKEN_CHARS = 4096;
export const MAX_LINK_CHARS = 2048;
export const DEFAULT_ENTITY_TYPE = 'message';
/** Ids in one `notifications:seen`. */
export const MAX_SEEN_IDS = 200;
/** Recipients in one page of `GET /api/notifications/:id`. */
export const MAX_STATUS_PAGE = 100;
/** `ttl` of a push, in seconds: at least 1, at most 30 days. */
export const MAX_TTL_SECONDS = 30 * 24 * 3600;
/** Entity types one user may mute. */
export const MAX_MUTED_TYPES = 100;
/** Ids in one `notifications:archive`. */
export const MAX_ARCHIVE_IDS = 200;
