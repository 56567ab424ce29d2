import { isSafeLink } from '@/lib/contract';

/** A backend-marked link: http(s) only (checked again here), opened without handing over this page. */
export function ExternalLink({ href }: { href: string }) {
  if (!isSafeLink(href)) return null;
  let host = '';
  try {
    host = new URL(href).host;
  } catch {
    return null;
  }
  return (
    <a className="item-link" href={href} target="_blank" rel="noopener noreferrer nofollow" data-testid="notification-link">
      Open {host} ↗
    </a>
  );
}
