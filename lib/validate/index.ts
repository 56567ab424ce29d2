import 'server-only';

/**
 * Validation of everything Herald receives from outside, with zod: the push
 * body, socket payloads, identifiers. Server-side only; the browser gets the
 * types and the link rule from lib/contract without zod.
 */
export * from './ids';
export * from './issues';
export * from './push';
export * from './socket';
