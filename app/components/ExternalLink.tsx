import { isSafeLink } from '@/lib/contract';

/** The host of a link, for saying where it goes ("example.com"); empty when it cannot be read. */
export function hostOf(href: string): string {
  try {
    return new URL(href).host;
  } catch {
    return '';
  }
}

/** A backend-marked link: http(s) only (checked again here), opened without handing over this page. */
export function ExternalLink({ href, focusRole }: { href: string; focusRole?: string }) {
  if (!isSafeLink(href)) return null;
  const host = hostOf(href);
  if (!host) return null;
  return (
    <a
      className="item-link"
      href={href}
      target="_blank"
      rel="noopener noreferrer nofollow"
      data-testid="notification-link"
      data-focus-role={focusRole}
    >
      Open {host} <span aria-hidden="true">↗</span>
    </a>
  );
}
