'use client';

import { useEffect, useRef, useState } from 'react';
import { useAppSelector } from '@/store/hooks';
import { selectLiveNotifications, selectMutedTypes } from '@/store/notifications/slice';
import { selectToasts } from '@/store/toasts/slice';
import { describe } from './describe';

/** Arrivals this close together are announced as one sentence. */
const QUIET_MS = 700;
/** A burst that never pauses is still announced at least this often. */
const MAX_WAIT_MS = 3_000;

/** A new message for the live region; a new key makes the same words heard again. */
const announce =
  (text: string) =>
  (m: { text: string; key: number } | null): { text: string; key: number } => ({ text, key: (m?.key ?? 0) + 1 });

/**
 * Tells screen readers what arrived, once per burst: the notification's title
 * when one came, "12 new notifications" when many did, and the summary of a
 * catch-up. A polite live region, visually hidden; the toasts themselves are
 * not a live region, so nothing is announced twice or again as a toast moves up.
 */
export function Announcer() {
  const live = useAppSelector(selectLiveNotifications);
  const toasts = useAppSelector(selectToasts);
  const mutedTypes = useAppSelector(selectMutedTypes);
  const [message, setMessage] = useState<{ text: string; key: number } | null>(null);
  const seen = useRef<Set<string> | null>(null);
  const pending = useRef<string[]>([]);
  const firstPendingAt = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const announcedSummaries = useRef(new Set<string>());
  /** The live list as it is now, for a timer set before its latest change. */
  const latest = useRef(live);
  latest.current = live;
  const muted = useRef(mutedTypes);
  muted.current = mutedTypes;

  useEffect(() => {
    // What is already on the page when it mounts has been seen.
    if (seen.current === null) {
      seen.current = new Set(live.map((n) => n.id));
      return;
    }
    const fresh = live.filter((n) => !seen.current?.has(n.id));
    if (fresh.length === 0) return;
    for (const n of fresh) seen.current.add(n.id);
    // A muted type is not toasted, nor announced (a high-priority one is both).
    const unread = fresh.filter((n) => !n.read && (n.priority === 'high' || !muted.current.includes(n.entityType)));
    if (unread.length === 0) return;
    if (pending.current.length === 0) firstPendingAt.current = Date.now();
    // Newest first, as the list shows them.
    pending.current = [...unread.map((n) => n.id), ...pending.current];
    clearTimeout(timer.current);
    const wait = Math.min(QUIET_MS, Math.max(0, firstPendingAt.current + MAX_WAIT_MS - Date.now()));
    timer.current = setTimeout(() => {
      // Only what is still there: a collapse replaced its group's previous item, a removal took one away.
      const ids = pending.current.filter((id) => latest.current.some((n) => n.id === id));
      pending.current = [];
      if (ids.length === 0) return;
      if (ids.length === 1) {
        const n = latest.current.find((x) => x.id === ids[0]);
        setMessage(announce(n ? describe(n.entityType, n.data, { group: n.group }).title : '1 new notification'));
      } else {
        setMessage(announce(`${ids.length} new notifications`));
      }
    }, wait);
  }, [live]);

  useEffect(() => () => clearTimeout(timer.current), []);

  useEffect(() => {
    for (const t of toasts) {
      if (t.kind !== 'summary' || t.reason === 'burst' || announcedSummaries.current.has(t.id)) continue;
      announcedSummaries.current.add(t.id);
      const plural = t.count === 1 ? '' : 's';
      setMessage(
        announce(
          t.reason === 'away'
            ? `${t.count} new notification${plural} while you were away`
            : `You have ${t.count} unread notification${plural}`,
        ),
      );
    }
  }, [toasts]);

  return (
    <div className="sr-only" role="status" aria-live="polite" aria-atomic="true" data-testid="announcer">
      {message && <p key={message.key}>{message.text}</p>}
    </div>
  );
}
