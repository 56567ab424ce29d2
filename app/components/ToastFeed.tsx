'use client';

import { useCallback, useEffect, useLayoutEffect, useRef, useState, type CSSProperties, type RefObject } from 'react';
import { useAppDispatch, useAppSelector } from '@/store/hooks';
import { selectNotificationById, selectUnreadCount } from '@/store/notifications/slice';
import { selectToastOwner, selectToasts, toastDismissed, toastsExpired, type Toast } from '@/store/toasts/slice';
import { inboxOpened, selectInboxOpen } from '@/store/ui/slice';
import { describe, type IconName, type TitlePart } from './describe';
import { ExternalLink } from './ExternalLink';
import { Icon } from './Icon';
import { short, Title } from './Title';
import { useFocusRescue } from './useFocusRescue';
import { useHerald } from './HeraldSocketBridge';

/** How long a toast stays, counted only while the feed is neither hovered, focused from the keyboard, nor hidden. */
export const TOAST_LIFETIME_MS = 6_000;
/** Toasts drawn when the stack is collapsed: the front one and the edges of two behind it. */
const COLLAPSED_LAYERS = 3;
/** How much of each toast behind the front one shows above it when collapsed. */
const PEEK_PX = 10;
/** How much smaller each toast behind the front one is drawn when collapsed. */
const SCALE_STEP = 0.05;
/** Space between toasts when the stack is expanded. */
const GAP_PX = 10;
/** Space kept free above an expanded stack: it never reaches the top of the screen. */
const TOP_MARGIN_PX = 16;
/** The stack's distance from the bottom of the screen (matches .toast-feed in globals.css). */
const BOTTOM_OFFSET_PX = 16;
/** Height of the "+N more" button above a stack too tall for the screen. */
const MORE_BUTTON_PX = 44;

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

function useViewportHeight(): number {
  const [height, setHeight] = useState(720);
  useEffect(() => {
    const update = () => setHeight(window.innerHeight);
    update();
    window.addEventListener('resize', update);
    return () => window.removeEventListener('resize', update);
  }, []);
  return height;
}

/**
 * True while focus is inside `ref` and got there from the keyboard. Focus that
 * a click left behind (or that followed a clicked toast's removal) does not
 * count: it would hold the toasts after the pointer has gone.
 */
function useKeyboardFocusWithin(ref: RefObject<HTMLElement | null>): boolean {
  const [inside, setInside] = useState(false);
  useEffect(() => {
    let keyboard = false;
    const update = () => {
      const root = ref.current;
      setInside(keyboard && root !== null && root.contains(document.activeElement));
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.metaKey || e.ctrlKey || e.altKey) return;
      keyboard = true;
      update();
    };
    const onPointer = () => {
      keyboard = false;
      update();
    };
    const later = () => setTimeout(update, 0);
    document.addEventListener('keydown', onKey, true);
    document.addEventListener('pointerdown', onPointer, true);
    document.addEventListener('focusin', update);
    document.addEventListener('focusout', later);
    return () => {
      document.removeEventListener('keydown', onKey, true);
      document.removeEventListener('pointerdown', onPointer, true);
      document.removeEventListener('focusin', update);
      document.removeEventListener('focusout', later);
    };
  }, [ref]);
  return inside;
}

/** A countdown restarts whenever its toast's `version` changes (a summary's count grew, a notification changed). */
const timerKey = (t: Toast) => `${t.id}#${t.version ?? 0}`;

/**
 * One countdown per toast, all running together (toasts that do not fit on the
 * screen count down too) and all held while `paused`: on resume each continues
 * from what it had left.
 */
function useToastTimers(toasts: Toast[], paused: boolean, onExpire: (ids: string[]) => void): void {
  const remaining = useRef(new Map<string, number>());
  const onExpireRef = useRef(onExpire);
  useEffect(() => {
    onExpireRef.current = onExpire;
  });

  useEffect(() => {
    const left = remaining.current;
    // A sticky toast (a high-priority notification) stays until it is dismissed.
    const keys = new Map(toasts.flatMap((t) => (t.kind === 'notification' && t.sticky ? [] : [[timerKey(t), t.id] as const])));
    for (const key of [...left.keys()]) if (!keys.has(key)) left.delete(key);
    for (const key of keys.keys()) if (!left.has(key)) left.set(key, TOAST_LIFETIME_MS);
    if (paused || keys.size === 0) return;
    const started = Date.now();
    const timer = setTimeout(
      () => {
        const elapsed = Date.now() - started;
        const done = [...left].filter(([, ms]) => ms <= elapsed).map(([key]) => keys.get(key) ?? key);
        if (done.length > 0) onExpireRef.current(done);
      },
      Math.min(...left.values()),
    );
    return () => {
      clearTimeout(timer);
      const elapsed = Date.now() - started;
      for (const [key, ms] of left) left.set(key, Math.max(0, ms - elapsed));
    };
  }, [toasts, paused]);
}

/**
 * The live toast feed, bottom right (full width on phones). Collapsed, it shows
 * the newest toast with the edges of two more behind it; hovering it, tapping it
 * or moving keyboard focus into it expands the stack, and pauses every countdown,
 * as does hiding the tab. The expanded stack never grows past the top of the
 * screen: what does not fit is behind a "+N more" button that opens the inbox.
 *
 * Arrivals are announced by <Announcer>, not by this region, so a burst is heard
 * as one sentence rather than one per toast.
 */
export function ToastFeed({ bellRef }: { bellRef: RefObject<HTMLButtonElement | null> }) {
  const dispatch = useAppDispatch();
  const toasts = useAppSelector(selectToasts);
  const inboxOpen = useAppSelector(selectInboxOpen);
  // Every tab holds the same toasts; only the one the user is looking at shows them and counts them down.
  const owner = useAppSelector(selectToastOwner);
  const sectionRef = useRef<HTMLElement>(null);
  const [pointerInside, setPointerInside] = useState(false);
  const keyboardInside = useKeyboardFocusWithin(sectionRef);
  const hidden = usePageHidden();
  const { markSeen } = useHerald();
  const viewportHeight = useViewportHeight();
  const [heights, setHeights] = useState<Record<string, number>>({});
  /** Where focus was before it entered the feed; Escape takes it back there. */
  const returnFocus = useRef<HTMLElement | null>(null);

  const expanded = pointerInside || keyboardInside;
  useToastTimers(toasts, expanded || hidden || !owner, (ids) => dispatch(toastsExpired(ids)));
  useFocusRescue(sectionRef, () => bellRef.current);

  const onHeight = useCallback((id: string, h: number) => {
    setHeights((prev) => (prev[id] === h ? prev : { ...prev, [id]: h }));
  }, []);
  useEffect(() => {
    // Forget the heights of toasts that have gone.
    setHeights((prev) => {
      const keep = Object.fromEntries(Object.entries(prev).filter(([id]) => toasts.some((t) => t.id === id)));
      return Object.keys(keep).length === Object.keys(prev).length ? prev : keep;
    });
  }, [toasts]);
  useEffect(() => {
    if (toasts.length === 0) setPointerInside(false);
  }, [toasts.length]);

  // As many toasts as fit between the bottom offset and the top margin, at least the newest.
  const room = viewportHeight - TOP_MARGIN_PX - BOTTOM_OFFSET_PX;
  const shown: Toast[] = [];
  let total = 0;
  for (const t of toasts) {
    const h = heights[t.id] ?? 0;
    const next = total + (shown.length > 0 ? GAP_PX : 0) + h;
    const moreRoom = shown.length + 1 < toasts.length ? MORE_BUTTON_PX + GAP_PX : 0;
    if (shown.length > 0 && next + moreRoom > room) break;
    shown.push(t);
    total = next;
  }
  const notShown = toasts.length - shown.length;
  // Shown on screen: in the tab the user looks at, while it is visible.
  const seenIds = owner && !hidden ? shown.flatMap((t) => (t.kind === 'notification' ? [t.notificationId] : [])).join(' ') : '';
  useEffect(() => {
    if (seenIds !== '') markSeen(seenIds.split(' '));
  }, [seenIds, markSeen]);
  const frontHeight = heights[shown[0]?.id ?? ''] ?? 0;

  const offsets: number[] = [];
  let y = 0;
  for (const t of shown) {
    offsets.push(y);
    y += (heights[t.id] ?? 0) + GAP_PX;
  }
  const stackHeight = expanded
    ? total + (notShown > 0 ? GAP_PX + MORE_BUTTON_PX : 0)
    : frontHeight + Math.min(shown.length - 1, COLLAPSED_LAYERS - 1) * PEEK_PX;

  return (
    <section
      ref={sectionRef}
      className="toast-feed"
      aria-label="Notifications"
      data-testid="toast-feed"
      data-expanded={expanded}
      onFocus={(e) => {
        const from = e.relatedTarget;
        if (from instanceof HTMLElement && !e.currentTarget.contains(from)) returnFocus.current = from;
      }}
      onKeyDown={(e) => {
        if (e.key !== 'Escape') return;
        // Leaves the toasts (they resume counting down) for where focus came from.
        e.stopPropagation();
        const back = returnFocus.current?.isConnected ? returnFocus.current : bellRef.current;
        back?.focus();
      }}
    >
      {/* The store raises no toasts while the inbox is open; the region stays, empty, for its listeners. */}
      {shown.length > 0 && !inboxOpen && owner && (
        <div
          className="toast-stack"
          data-testid="toast-stack"
          style={{ height: stackHeight || undefined }}
          onMouseEnter={() => setPointerInside(true)}
          onMouseLeave={() => setPointerInside(false)}
        >
          {notShown > 0 && expanded && (
            <button
              type="button"
              className="toast-more"
              data-testid="toast-more"
              style={{ bottom: total + GAP_PX }}
              onClick={() => dispatch(inboxOpened())}
            >
              +{notShown} more · Open inbox
            </button>
          )}
          <ol className="toast-list">
            {shown.map((t, i) => {
              const layer = Math.min(i, COLLAPSED_LAYERS);
              const style = {
                '--y': `${expanded ? offsets[i] : layer * PEEK_PX}px`,
                '--scale': expanded ? 1 : 1 - layer * SCALE_STEP,
                // Collapsed, every toast takes the front one's height, so only its top edge peeks out.
                height: (expanded ? heights[t.id] : frontHeight) || undefined,
                zIndex: shown.length - i,
              } as CSSProperties;
              return (
                <ToastItem
                  key={t.id}
                  toast={t}
                  style={style}
                  front={i === 0}
                  hiddenBehind={!expanded && i >= COLLAPSED_LAYERS}
                  onHeight={onHeight}
                />
              );
            })}
          </ol>
        </div>
      )}
    </section>
  );
}

interface ItemProps {
  toast: Toast;
  style: CSSProperties;
  front: boolean;
  /** Collapsed past the layers that show: not drawn (visibility: hidden) until the stack expands. */
  hiddenBehind: boolean;
  onHeight: (id: string, height: number) => void;
}

function ToastItem({ toast, style, front, hiddenBehind, onHeight }: ItemProps) {
  const dispatch = useAppDispatch();
  const innerRef = useRef<HTMLDivElement>(null);
  const unread = useAppSelector(selectUnreadCount);
  const notification = useAppSelector((s) =>
    toast.kind === 'notification' ? selectNotificationById(s, toast.notificationId) : undefined,
  );

  useLayoutEffect(() => {
    const inner = innerRef.current;
    if (!inner) return;
    const report = () => onHeight(toast.id, inner.offsetHeight);
    report();
    const observer = new ResizeObserver(report);
    observer.observe(inner);
    return () => observer.disconnect();
  }, [toast.id, onHeight]);

  const dismiss = () => dispatch(toastDismissed(toast.id));
  let icon: IconName | 'bell' = 'bell';
  let titleParts: TitlePart[];
  let detail: string | undefined;
  let link: string | undefined;
  let clipped = false;
  if (toast.kind === 'summary') {
    const count = toast.reason === 'unread' ? unread : toast.count;
    const plural = count === 1 ? '' : 's';
    titleParts = [
      toast.reason === 'away'
        ? `${count} new notification${plural} while you were away`
        : toast.reason === 'unread'
          ? `You have ${count} unread notification${plural}`
          : `${count} more new notification${plural}`,
    ];
  } else if (notification) {
    const d = describe(notification.entityType, notification.data, { group: notification.group });
    icon = d.icon;
    titleParts = d.titleParts;
    detail = d.detail;
    link = d.link;
    clipped = d.clipped;
  } else {
    return null;
  }
  const title = titleParts.map((p) => (typeof p === 'string' ? p : p.user)).join('');

  return (
    <li
      className={`toast toast-${icon}${toast.kind === 'notification' && toast.sticky ? ' toast-sticky' : ''}`}
      style={style}
      data-testid="toast"
      data-kind={toast.kind}
      data-sticky={(toast.kind === 'notification' && toast.sticky) || undefined}
      data-front={front}
      data-focus-item={toast.id}
      data-behind={hiddenBehind || undefined}
    >
      <div className="toast-inner" ref={innerRef}>
        <span className="toast-icon" aria-hidden="true">
          <Icon name={icon} />
        </span>
        <div className="toast-body">
          {toast.kind === 'notification' && toast.sticky && <span className="toast-tag">High priority</span>}
          <Title className="toast-title" parts={titleParts} />
          {detail && (
            <p className="toast-detail" dir="auto">
              {detail}
            </p>
          )}
          {(link || clipped || toast.kind === 'summary') && (
            <div className="toast-actions">
              {link && <ExternalLink href={link} focusRole="link" />}
              {clipped && notification && (
                <button
                  type="button"
                  className="link-button"
                  data-focus-role="action"
                  aria-label={`Read all of ${short(title)}`}
                  onClick={() => dispatch(inboxOpened({ detailId: notification.id }))}
                >
                  Read all
                </button>
              )}
              {toast.kind === 'summary' && (
                <button type="button" className="link-button" data-focus-role="action" onClick={() => dispatch(inboxOpened())}>
                  Open inbox
                </button>
              )}
            </div>
          )}
        </div>
        <button
          type="button"
          className="icon-button toast-close"
          aria-label={`Dismiss: ${short(title)}`}
          data-focus-role="dismiss"
          onClick={dismiss}
        >
          <Icon name="close" size={18} />
        </button>
      </div>
    </li>
  );
}
