import type { TitlePart } from './describe';

type Tag = 'p' | 'span' | 'h3';

/**
 * A notification's title. Text from the notification is isolated (<bdi>) inside
 * the page's sentence, so a right-to-left name cannot reorder the words around
 * it; a title that is all the notification's text takes its own direction.
 */
export function Title({ parts, as: As = 'p', className, id }: { parts: TitlePart[]; as?: Tag; className?: string; id?: string }) {
  const only = parts.length === 1 ? parts[0] : undefined;
  if (only !== undefined && typeof only !== 'string') {
    return (
      <As className={className} id={id} dir="auto">
        {only.user}
      </As>
    );
  }
  return (
    <As className={className} id={id}>
      {parts.map((p, i) => (typeof p === 'string' ? p : <bdi key={i}>{p.user}</bdi>))}
    </As>
  );
}

/** Shortens a title for a control's accessible name ("Dismiss: Alice liked …"). */
export function short(title: string, max = 60): string {
  return title.length > max ? `${title.slice(0, max - 1).trimEnd()}…` : title;
}
