import { z } from 'zod';
import { MAX_ENTITY_TYPE_CHARS, MAX_NOTIFICATION_ID_CHARS, MAX_USER_ID_CHARS } from '../contract';

/** Identifiers: user ids, notification ids (and idempotency keys), entity types, seqs. */

// C0 and C1 control characters, DEL, and the Unicode line/paragraph separators.
// eslint-disable-next-line no-control-regex
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
// A UTF-16 surrogate not in a pair: stored as UTF-8 it becomes U+FFFD, i.e. another user's id.
export const LONE_SURROGATE = /\p{Cs}/u;
export const NOTIFICATION_ID_CHARS = /^[A-Za-z0-9._:~-]+$/;
export const ENTITY_TYPE_CHARS = /^[A-Za-z0-9._-]+$/;

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
