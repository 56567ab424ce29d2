'use client';

import { useEffect, useRef, useState } from 'react';
import { useAppDispatch, useAppSelector } from '@/store/hooks';
import { selectNotificationById } from '@/store/notifications/slice';
import { selectToasts, toastDismissed, type Toast } from '@/store/toasts/slice';
import { describe } from './describe';
import { ExternalLink } from './ExternalLink';
import { Icon } from './Icon';

/** How long a toast stays, counted only while it is visible and not paused. */
export const TOAST_LIFETIME_MS = 6_000;
/** Toasts shown at once; the rest wait behind a "+N more" hint. */
export const VISIBLE_TOASTS = 3;

function usePageHidden(): boolean {
  const [hidden, setHidden] = useState(false);
  useEffect(() => {
    const update = () => setHidden(document.visibilityState === 'hidden');
    update();
    document.addEventListener('visibilitychange', update);
    return () => document.removeEventListener('visibilitychange', update);
  }, []);
  return hidden;
}

/**
 * The live toast feed: newest on top. Hovering or focusing the feed, or hiding
 * the tab, pauses every countdown, so nothing vanishes while being read.
 */
export function ToastFeed({ onOpenInbox }: { onOpenInbox: () => void }) {
  const toasts = useAppSelector(selectToasts);
  const [hovered, setHovered] = useState(false);
  const [focused, setFocused] = useState(false);
  const hidden = usePageHidden();
  const paused = hovered || focused || hidden;
  const visible = toasts.slice(0, VISIBLE_TOASTS);
  const more = toasts.length - visible.length;

  return (
    <section
      className="toast-feed"
      aria-label="Notifications"
      aria-live="polite"
      aria-relevant="additions"
      onMouseEnter={() => setHovered(true)}
      onMouseLeave={() => setHovered(false)}
      onFocus={() => setFocused(true)}
      onBlur={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setFocused(false);
      }}
    >
      <ol className="toast-list">
        {visible.map((t) => (
          <ToastItem key={t.id} toast={t} paused={paused} onOpenInbox={onOpenInbox} />
        ))}
      </ol>
      {more > 0 && (
        <p className="toast-more" data-testid="toast-more">
          +{more} more
        </p>
      )}
    </section>
  );
}

function ToastItem({ toast, paused, onOpenInbox }: { toast: Toast; paused: boolean; onOpenInbox: () => void }) {
  const dispatch = useAppDispatch();
  const remaining = useRef(TOAST_LIFETIME_MS);
  const notification = useAppSelector((s) =>
    toast.kind === 'notification' ? selectNotificationById(s, toast.notificationId) : undefined,
  );

  useEffect(() => {
    if (paused) return;
    const started = Date.now();
    const timer = setTimeout(() => dispatch(toastDismissed(toast.id)), remaining.current);
    return () => {
      clearTimeout(timer);
      remaining.current = Math.max(0, remaining.current - (Date.now() - started));
    };
  }, [paused, dispatch, toast.id]);

  const dismiss = () => dispatch(toastDismissed(toast.id));
  let icon: Parameters<typeof Icon>[0]['name'] = 'bell';
  let title: string;
  let detail: string | undefined;
  let link: string | undefined;
  if (toast.kind === 'summary') {
    const plural = toast.count === 1 ? '' : 's';
    title =
      toast.reason === 'away'
        ? `${toast.count} new notification${plural} while you were away`
        : `You have ${toast.count} unread notification${plural}`;
  } else if (notification) {
    const d = describe(notification.entityType, notification.data);
    icon = d.icon;
    title = d.title;
    detail = d.detail;
    link = d.link;
  } else {
    return null;
  }

  return (
    <li className={`toast toast-${icon}`} data-testid="toast" data-kind={toast.kind}>
      <span className="toast-icon">
        <Icon name={icon} />
      </span>
      <div className="toast-body">
        <p className="toast-title">{title}</p>
        {detail && <p className="toast-detail">{detail}</p>}
        {link && <ExternalLink href={link} />}
        {toast.kind === 'summary' && (
          <button
            type="button"
            className="link-button"
            onClick={() => {
              onOpenInbox();
              dismiss();
            }}
          >
            Open inbox
          </button>
        )}
      </div>
      <button type="button" className="icon-button toast-close" aria-label="Dismiss notification" onClick={dismiss}>
        <Icon name="close" size={16} />
      </button>
    </li>
  );
}
