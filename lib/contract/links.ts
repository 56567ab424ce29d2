import { MAX_LINK_CHARS } from './limits';

/**
 * `data.link` is how a backend marks a notification as a link. Only absolute
 * http(s) URLs without credentials: never javascript:, data: or relative ones.
 * Checked on push and again where it is rendered.
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
