'use client';

import { useEffect, useId, useRef, useState } from 'react';
import { useAppSelector } from '@/store/hooks';
import { selectAllNotifications, selectHistory, selectUnreadCount, type Notification } from '@/store/notifications/slice';
import { describe, relativeTime } from './describe';
import { useHerald } from './HeraldSocketBridge';
import { ExternalLink } from './ExternalLink';
import { Icon } from './Icon';

/** How often relative times ("3 minutes ago") are refreshed. */
const CLOCK_TICK_MS = 30_000;
/** Badge shows "99+" past this. */
const MAX_BADGE = 99;

/** The current time, refreshed every CLOCK_TICK_MS, for relative times. */
export function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), CLOCK_TICK_MS);
    return () => clearInterval(timer);
  }, []);
  return now;
}

/** The bell with the unread badge; opens the inbox panel. */
export function InboxButton({ open, onToggle }: { open: boolean; onToggle: () => void }) {
  const unread = useAppSelector(selectUnreadCount);
  const label = unread === 0 ? 'Inbox, no unread notifications' : `Inbox, ${unread} unread notification${unread === 1 ? '' : 's'}`;
  return (
    <button
      type="button"
      className="bell"
      aria-label={label}
      aria-expanded={open}
      aria-controls="inbox-panel"
      data-testid="inbox-button"
      onClick={onToggle}
    >
      <Icon name="bell" size={22} />
      {unread > 0 && (
        <span className="badge" data-testid="unread-badge" aria-hidden="true">
          {unread > MAX_BADGE ? `${MAX_BADGE}+` : unread}
        </span>
      )}
    </button>
  );
}

/** The inbox: full history, newest first, paged back with a cursor; read state synced across tabs. */
export function InboxPanel({ onClose }: { onClose: () => void }) {
  const items = useAppSelector(selectAllNotifications);
  const history = useAppSelector(selectHistory);
  const unread = useAppSelector(selectUnreadCount);
  const { loadHistory, markRead, markAllRead } = useHerald();
  const [error, setError] = useState<string | null>(null);
  const headingId = useId();
  const headingRef = useRef<HTMLHeadingElement>(null);
  const now = useNow();

  useEffect(() => {
    headingRef.current?.focus();
    if (history.status === 'idle') void loadHistory({ first: true });
    // Only on open.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const attempt = (fn: () => Promise<void>) => {
    setError(null);
    fn().catch(() => setError('Could not reach the server. Try again when the connection is live.'));
  };

  return (
    <section id="inbox-panel" className="inbox" role="dialog" aria-labelledby={headingId} data-testid="inbox-panel">
      <header className="inbox-header">
        <h2 id={headingId} ref={headingRef} tabIndex={-1}>
          Inbox {unread > 0 && <span className="inbox-count">{unread} unread</span>}
        </h2>
        <div className="inbox-actions">
          <button type="button" className="link-button" disabled={unread === 0} onClick={() => attempt(markAllRead)}>
            Mark all as read
          </button>
          <button type="button" className="icon-button" aria-label="Close inbox" onClick={onClose}>
            <Icon name="close" size={18} />
          </button>
        </div>
      </header>
      {error && (
        <p className="inbox-error" role="alert">
          {error}
        </p>
      )}
      <div className="inbox-scroll">
        {items.length === 0 && history.status !== 'loading' ? (
          <p className="empty">Nothing here yet. Notifications you receive will be kept here.</p>
        ) : (
          <ul className="inbox-list">
            {items.map((n) => (
              <InboxItem key={n.id} n={n} now={now} onRead={() => attempt(() => markRead([n.id]))} />
            ))}
          </ul>
        )}
        {/* Inside the scroll area, so "the end" shows only once the end is reached. */}
        {history.status === 'loading' ? (
          <footer className="inbox-footer">
            <span className="muted">Loading…</span>
          </footer>
        ) : history.complete ? (
          items.length > 0 && (
            <footer className="inbox-footer">
              <span className="muted">That is everything.</span>
            </footer>
          )
        ) : (
          <footer className="inbox-footer">
            <button type="button" className="secondary" onClick={() => attempt(() => loadHistory())}>
              Load older
            </button>
          </footer>
        )}
      </div>
    </section>
  );
}

function InboxItem({ n, now, onRead }: { n: Notification; now: number; onRead: () => void }) {
  const d = describe(n.entityType, n.data);
  return (
    <li className={`inbox-item${n.read ? '' : ' unread'}`} data-testid="inbox-item" data-read={n.read} data-seq={n.seq}>
      <span className={`item-icon toast-${d.icon}`}>
        <Icon name={d.icon} size={18} />
      </span>
      <div className="item-body">
        <p className="item-title">{d.title}</p>
        {d.detail && <p className="item-detail">{d.detail}</p>}
        {d.link && <ExternalLink href={d.link} />}
        <time dateTime={n.createdAt} title={new Date(n.createdAt).toLocaleString()}>
          {relativeTime(n.createdAt, now)}
        </time>
      </div>
      {!n.read && (
        <button type="button" className="icon-button" aria-label={`Mark read: ${d.title}`} onClick={onRead}>
          <Icon name="check" size={18} />
        </button>
      )}
    </li>
  );
}
