/**
 * The wire contract shared by the server and its clients: types, event maps,
 * error codes, limits and the link rule. Browser-safe: no Node modules and no
 * zod (validation is the server's, in lib/validate).
 */
export * from './errors';
export * from './events';
export * from './limits';
export * from './links';
export * from './webhooks';
export * from './wire';
export * from './admin';
