'use client';

import {
  memo,
  useCallback,
  useEffect,
  useId,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type KeyboardEvent as ReactKeyboardEvent,
  type ReactNode,
  type Ref,
  type RefObject,
} from 'react';
import type { InboxView } from '@/lib/contract';
import { useAppDispatch, useAppSelector } from '@/store/hooks';
import {
  selectHistory,
  selectKnownTypes,
  selectMutedTypes,
  selectNotificationById,
  selectUnreadCount,
  selectViewItems,
  type Notification,
} from '@/store/notifications/slice';
import {
  detailClosed,
  detailOpened,
  filterChanged,
  selectDetailId,
  selectInboxFilter,
  selectMarkUnreadAvailable,
} from '@/store/ui/slice';
import { describe } from './describe';
import { hostOf } from './ExternalLink';
import { useHerald } from './HeraldSocketBridge';
import { Icon } from './Icon';
import { dayGroup, absoluteTime, relativeTime, type DayGroup } from './time';
import { short, Title } from './Title';
import { useFocusRescue } from './useFocusRescue';
import { useNow } from './useNow';

/** Badge shows "99+" past this. */
const MAX_BADGE = 99;
/** Older pages load when the end of the list comes this close to view. */
const LOAD_AHEAD_PX = 200;
/** Pages that load themselves as the list scrolls wait this long after the previous one (the server limits events per socket). */
const MIN_PAGE_INTERVAL_MS = 300;

/** The bell with the unread badge; opens the inbox panel. */
export function InboxButton({ open, onToggle, ref }: { open: boolean; onToggle: () => void; ref?: Ref<HTMLButtonElement> }) {
  const unread = useAppSelector(selectUnreadCount);
  const label = unread === 0 ? 'Inbox, no unread notifications' : `Inbox, ${unread} unread notification${unread === 1 ? '' : 's'}`;
  return (
    <button
      ref={ref}
      type="button"
      id="inbox-button"
      className="bell"
      aria-label={label}
      aria-expanded={open}
      aria-controls={open ? 'inbox-panel' : undefined}
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

type Attempt = (fn: () => Promise<void>, failure?: string) => void;

/**
 * The inbox: history newest first, grouped by day, paged back as it scrolls, in
 * three views (Unread, All, Archived), with a detail view for one notification
 * and the muted types' settings. A popover
 * under the bell; a full-screen sheet on phones. Escape, the close button and a
 * click outside close it; focus then returns to the bell.
 */
export function InboxPanel({ onClose, anchorRef }: { onClose: (opts: { returnFocus: boolean }) => void; anchorRef: RefObject<HTMLElement | null> }) {
  const detailId = useAppSelector(selectDetailId);
  const dispatch = useAppDispatch();
  const panelRef = useRef<HTMLDivElement>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const headingId = useId();
  const [error, setError] = useState<string | null>(null);
  /** The item to focus when the list view comes back from the detail view. */
  const backTo = useRef<string | null>(null);

  useFocusRescue(panelRef, () => headingRef.current);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      // Escape steps back from the detail view first, then closes.
      if (detailId !== null) dispatch(detailClosed());
      else onClose({ returnFocus: true });
    };
    const onPointerDown = (e: PointerEvent) => {
      const target = e.target;
      if (!(target instanceof Node)) return;
      if (panelRef.current?.contains(target) || anchorRef.current?.contains(target)) return;
      onClose({ returnFocus: false });
    };
    window.addEventListener('keydown', onKey);
    document.addEventListener('pointerdown', onPointerDown);
    return () => {
      window.removeEventListener('keydown', onKey);
      document.removeEventListener('pointerdown', onPointerDown);
    };
  }, [onClose, detailId, dispatch, anchorRef]);

  const attempt = useCallback<Attempt>((fn, failure = 'Could not reach the server. Try again when the connection is live.') => {
    setError(null);
    fn().catch(() => setError(failure));
  }, []);
  const openDetail = useCallback(
    (id: string) => {
      backTo.current = id;
      dispatch(detailOpened(id));
    },
    [dispatch],
  );

  return (
    <div
      ref={panelRef}
      id="inbox-panel"
      className="inbox"
      role="dialog"
      aria-labelledby={headingId}
      data-testid="inbox-panel"
      data-view={detailId === null ? 'list' : 'detail'}
      tabIndex={-1}
    >
      {detailId === null ? (
        <ListView
          headingId={headingId}
          headingRef={headingRef}
          backTo={backTo}
          attempt={attempt}
          onClose={() => onClose({ returnFocus: true })}
          onOpen={openDetail}
          error={error}
        />
      ) : (
        <DetailView
          id={detailId}
          headingId={headingId}
          headingRef={headingRef}
          attempt={attempt}
          onBack={() => dispatch(detailClosed())}
          onClose={() => onClose({ returnFocus: true })}
          error={error}
        />
      )}
    </div>
  );
}

function ErrorLine({ error }: { error: string | null }) {
  return error ? (
    <p className="inbox-error" role="alert">
      {error}
    </p>
  ) : null;
}

const GROUPS: DayGroup[] = ['Today', 'Yesterday', 'Earlier'];

const VIEWS: ReadonlyArray<{ view: InboxView; label: string; empty: string }> = [
  { view: 'unread', label: 'Unread', empty: 'No unread notifications.' },
  { view: 'all', label: 'All', empty: 'Nothing here yet. Notifications you receive will be kept here.' },
  { view: 'archived', label: 'Archived', empty: 'Nothing archived. Archived notifications are kept here, out of the way.' },
];

interface ListViewProps {
  headingId: string;
  headingRef: RefObject<HTMLHeadingElement | null>;
  backTo: RefObject<string | null>;
  attempt: Attempt;
  onClose: () => void;
  onOpen: (id: string) => void;
  error: string | null;
}

function ListView({ headingId, headingRef, backTo, attempt, onClose, onOpen, error }: ListViewProps) {
  const dispatch = useAppDispatch();
  const view = useAppSelector(selectInboxFilter);
  const history = useAppSelector((s) => selectHistory(s, view));
  const items = useAppSelector((s) => selectViewItems(s, view));
  const unread = useAppSelector(selectUnreadCount);
  const mutedTypes = useAppSelector(selectMutedTypes);
  const canMarkUnread = useAppSelector(selectMarkUnreadAvailable);
  const { loadHistory: loadViewHistory, markRead, markUnread, markAllRead, markSeen, archive } = useHerald();
  const loadHistory = useCallback(() => loadViewHistory({ view }), [loadViewHistory, view]);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const settingsId = useId();
  const tabsId = useId();
  const now = useNow();
  const scrollRef = useRef<HTMLDivElement>(null);
  const endRef = useRef<HTMLDivElement>(null);
  /** The last item before the page that is loading, whose successor gets focus if "Load older" had it. */
  const tailBeforeLoad = useRef<string | null>(null);
  /** Whether "Load older" has focus (it may be gone by the time its page arrives: no blur then). */
  const loadOlderFocused = useRef(false);
  const lastPageAt = useRef(0);

  // Each view loads its first page the first time it is shown.
  useEffect(() => {
    if (history.status === 'idle') void loadViewHistory({ first: true, view });
    // Only when the view changes.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [view]);
  // The items listed in the open panel count as seen while the page is visible (and again once it becomes visible).
  useEffect(() => {
    const report = () => {
      if (document.visibilityState === 'visible' && items.length > 0) markSeen(items.map((n) => n.id));
    };
    report();
    document.addEventListener('visibilitychange', report);
    return () => document.removeEventListener('visibilitychange', report);
  }, [items, markSeen]);
  const groups = useMemo(() => {
    const by = new Map<DayGroup, Notification[]>();
    for (const n of items) {
      const g = dayGroup(n.createdAt, now);
      by.set(g, [...(by.get(g) ?? []), n]);
    }
    return GROUPS.flatMap((g) => (by.has(g) ? [[g, by.get(g) ?? []] as const] : []));
  }, [items, now]);

  // Focus: the item we came back to from the detail view, else the heading, on mount.
  useLayoutEffect(() => {
    const id = backTo.current;
    backTo.current = null;
    const item = id ? scrollRef.current?.querySelector<HTMLElement>(`[data-focus-item="${CSS.escape(id)}"] [data-focus-role="main"]`) : null;
    (item ?? headingRef.current)?.focus();
    // Only on mount.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // When a page arrives while "Load older" has focus (pressed, or scrolled to), focus its first item.
  useLayoutEffect(() => {
    if (history.status === 'loading') {
      tailBeforeLoad.current = items.at(-1)?.id ?? null;
      return;
    }
    const tail = tailBeforeLoad.current;
    tailBeforeLoad.current = null;
    if (tail === null || !loadOlderFocused.current) return;
    loadOlderFocused.current = false;
    const at = items.findIndex((n) => n.id === tail);
    const next = at >= 0 ? items[at + 1] : undefined;
    if (next) scrollRef.current?.querySelector<HTMLElement>(`[data-focus-item="${CSS.escape(next.id)}"] [data-focus-role="main"]`)?.focus();
    // Only when a load starts or ends; `items` is read as it is then.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [history.status]);

  // Older pages load as the end of the list scrolls into view.
  useEffect(() => {
    const end = endRef.current;
    const root = scrollRef.current;
    if (!end || !root || history.complete || history.status !== 'loaded') return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const observer = new IntersectionObserver(
      (entries) => {
        if (!entries.some((e) => e.isIntersecting)) return;
        const wait = Math.max(0, lastPageAt.current + MIN_PAGE_INTERVAL_MS - Date.now());
        clearTimeout(timer);
        timer = setTimeout(() => {
          lastPageAt.current = Date.now();
          void loadHistory();
        }, wait);
      },
      { root, rootMargin: `0px 0px ${LOAD_AHEAD_PX}px 0px` },
    );
    observer.observe(end);
    return () => {
      observer.disconnect();
      clearTimeout(timer);
    };
  }, [history.complete, history.status, loadHistory]);

  const onRead = useCallback(
    (id: string, read: boolean) =>
      read ? attempt(() => markRead([id])) : attempt(() => markUnread([id]), 'This server cannot mark notifications unread yet.'),
    [attempt, markRead, markUnread],
  );
  const onArchive = useCallback((id: string, archived: boolean) => attempt(() => archive([id], archived)), [attempt, archive]);

  // The tabs follow the ARIA tabs pattern: one tab stop, arrow keys (and Home, End) move and select.
  const tabRefs = useRef(new Map<InboxView, HTMLButtonElement>());
  const onTabKey = (e: ReactKeyboardEvent) => {
    const at = VIEWS.findIndex((v) => v.view === view);
    const to =
      e.key === 'ArrowRight' ? (at + 1) % VIEWS.length
      : e.key === 'ArrowLeft' ? (at - 1 + VIEWS.length) % VIEWS.length
      : e.key === 'Home' ? 0
      : e.key === 'End' ? VIEWS.length - 1
      : -1;
    const next = VIEWS[to];
    if (!next) return;
    e.preventDefault();
    dispatch(filterChanged(next.view));
    tabRefs.current.get(next.view)?.focus();
  };
  const current = VIEWS.find((v) => v.view === view) ?? VIEWS[1];

  return (
    <>
      <div className="inbox-head">
        <h2 id={headingId} ref={headingRef} tabIndex={-1}>
          Inbox {unread > 0 && <span className="inbox-count">{unread} unread</span>}
        </h2>
        <div className="inbox-actions">
          <button
            type="button"
            className="text-button"
            disabled={unread === 0}
            data-focus-role="mark-all"
            onClick={() => attempt(markAllRead)}
          >
            Mark all as read
          </button>
          <button
            type="button"
            className="icon-button"
            aria-label="Notification settings"
            aria-expanded={settingsOpen}
            aria-controls={settingsOpen ? settingsId : undefined}
            data-focus-role="settings"
            onClick={() => setSettingsOpen((o) => !o)}
          >
            <Icon name="settings" size={20} />
          </button>
          <button type="button" className="icon-button" aria-label="Close inbox" onClick={onClose}>
            <Icon name="close" size={20} />
          </button>
        </div>
      </div>
      {settingsOpen && <MuteSettings id={settingsId} attempt={attempt} />}
      <div className="inbox-filters" role="tablist" aria-label="Show" onKeyDown={onTabKey}>
        {VIEWS.map(({ view: v, label }) => (
          <button
            key={v}
            ref={(el) => {
              if (el) tabRefs.current.set(v, el);
              else tabRefs.current.delete(v);
            }}
            type="button"
            role="tab"
            id={`${tabsId}-${v}`}
            className="filter"
            aria-selected={view === v}
            aria-controls={`${tabsId}-panel`}
            tabIndex={view === v ? 0 : -1}
            data-focus-role={`filter-${v}`}
            onClick={() => dispatch(filterChanged(v))}
          >
            {label}
          </button>
        ))}
      </div>
      <ErrorLine error={error} />
      <div
        className="inbox-scroll"
        ref={scrollRef}
        data-testid="inbox-scroll"
        data-inbox-view={view}
        role="tabpanel"
        id={`${tabsId}-panel`}
        aria-labelledby={`${tabsId}-${view}`}
      >
        {items.length === 0 && history.status !== 'loading' ? (
          <p className="empty">{current?.empty}</p>
        ) : (
          groups.map(([group, list]) => (
            <div key={group} className="inbox-group" role="group" aria-labelledby={`${headingId}-${group}`}>
              <h3 id={`${headingId}-${group}`} className="inbox-day">
                {group}
              </h3>
              <ul className="inbox-list">
                {list.map((n) => (
                  <InboxItem
                    key={n.id}
                    n={n}
                    now={now}
                    muted={mutedTypes.includes(n.entityType)}
                    canMarkUnread={canMarkUnread}
                    onOpen={onOpen}
                    onRead={onRead}
                    onArchive={onArchive}
                  />
                ))}
              </ul>
            </div>
          ))
        )}
        {/* Inside the scroll area, so "the end" shows only once the end is reached. */}
        <div className="inbox-end" ref={endRef}>
          {history.complete ? (
            items.length > 0 && <span className="muted">That is everything.</span>
          ) : history.status === 'error' ? (
            <button type="button" className="secondary" data-focus-role="load-older" onClick={() => void loadHistory()}>
              Could not load older notifications. Try again
            </button>
          ) : (
            <button
              type="button"
              className="secondary"
              data-focus-role="load-older"
              aria-disabled={history.status === 'loading'}
              onFocus={() => (loadOlderFocused.current = true)}
              onBlur={() => (loadOlderFocused.current = false)}
              onClick={() => {
                if (history.status === 'loading') return;
                lastPageAt.current = Date.now();
                attempt(() => loadHistory());
              }}
            >
              {history.status === 'loading' ? 'Loading…' : 'Load older'}
            </button>
          )}
        </div>
      </div>
    </>
  );
}

/**
 * The entity types the user mutes, as checkboxes: the types of the notifications
 * held, and those muted already. A change is sent at once (`notifications:preferences`)
 * and holds in every tab.
 */
function MuteSettings({ id, attempt }: { id: string; attempt: Attempt }) {
  const types = useAppSelector(selectKnownTypes);
  const stored = useAppSelector(selectMutedTypes);
  const { setMutedTypes } = useHerald();
  // What was asked for, shown at once while the server answers; the stored types again after (or on a failure).
  const [asked, setAsked] = useState<string[] | null>(null);
  const muted = asked ?? stored;
  const failure = 'Could not save the settings. Try again when the connection is live.';
  return (
    <div id={id} className="inbox-settings" role="group" aria-labelledby={`${id}-title`} data-testid="inbox-settings">
      <h3 id={`${id}-title`} className="settings-title">
        Muted types
      </h3>
      <p className="settings-note">Muted notifications stay in the inbox but raise no toast and do not count as unread. High-priority ones still raise a toast.</p>
      {types.length === 0 ? (
        <p className="settings-note">The types of the notifications you receive will be listed here.</p>
      ) : (
        <ul className="settings-list">
          {types.map((t) => (
            <li key={t}>
              <label className="settings-option">
                <input
                  type="checkbox"
                  checked={muted.includes(t)}
                  onChange={(e) => {
                    const on = e.currentTarget.checked;
                    const next = on ? [...muted, t] : muted.filter((m) => m !== t);
                    setAsked(next);
                    attempt(() => setMutedTypes(next).finally(() => setAsked(null)), failure);
                  }}
                />
                <span>
                  Mute <bdi>{t}</bdi>
                </span>
              </label>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

interface ItemProps {
  n: Notification;
  now: number;
  /** Its type is muted: listed, but not counted nor toasted. */
  muted: boolean;
  canMarkUnread: boolean;
  onOpen: (id: string) => void;
  onRead: (id: string, read: boolean) => void;
  onArchive: (id: string, archived: boolean) => void;
}

/** One notification in the list; memoized, so an arrival or a read renders only what changed. */
const InboxItem = memo(function InboxItem({ n, now, muted, canMarkUnread, onOpen, onRead, onArchive }: ItemProps) {
  const d = describe(n.entityType, n.data, { group: n.group });
  const id = useId();
  const stateId = `${id}-state`;
  const titleId = `${id}-title`;
  const detailId = `${id}-detail`;
  const metaId = `${id}-meta`;
  const host = d.link ? hostOf(d.link) : '';
  const content: ReactNode = (
    <>
      <span id={stateId} className="sr-only">
        {n.read ? '' : 'Unread: '}
      </span>
      <Title as="span" id={titleId} className="item-title" parts={d.titleParts} />
      {d.detail && (
        <span id={detailId} className="item-detail" dir="auto">
          {d.detail}
        </span>
      )}
      <span id={metaId} className="item-meta">
        {host && (
          <>
            <span className="item-host">
              {host} <span aria-hidden="true">↗</span>
            </span>
            <span aria-hidden="true"> · </span>
          </>
        )}
        <time dateTime={n.createdAt} title={absoluteTime(n.createdAt)}>
          {relativeTime(n.createdAt, now)}
        </time>
        {n.priority === 'high' && (
          <>
            <span aria-hidden="true"> · </span>
            <span className="item-tag">High priority</span>
          </>
        )}
        {muted && (
          <>
            <span aria-hidden="true"> · </span>
            <span className="item-tag">Muted</span>
          </>
        )}
      </span>
    </>
  );
  const labelledBy = n.read ? titleId : `${stateId} ${titleId}`;
  const describedBy = [d.detail ? detailId : null, metaId].filter(Boolean).join(' ');

  return (
    <li
      className={`inbox-item${n.read ? '' : ' unread'}`}
      data-testid="inbox-item"
      data-read={n.read}
      data-archived={n.archived === true}
      data-seq={n.seq}
      data-focus-item={n.id}
    >
      <span className={`item-icon toast-${d.icon}`} aria-hidden="true">
        <Icon name={d.icon} size={18} />
      </span>
      {d.link ? (
        // Opening the link reads the notification, as GitHub and Linear do.
        <a
          className="item-main"
          href={d.link}
          target="_blank"
          rel="noopener noreferrer nofollow"
          data-testid="notification-link"
          data-focus-role="main"
          aria-labelledby={labelledBy}
          aria-describedby={describedBy}
          onClick={() => !n.read && onRead(n.id, true)}
        >
          {content}
        </a>
      ) : (
        <button
          type="button"
          className="item-main"
          data-focus-role="main"
          aria-labelledby={labelledBy}
          aria-describedby={describedBy}
          onClick={() => {
            if (!n.read) onRead(n.id, true);
            onOpen(n.id);
          }}
        >
          {content}
        </button>
      )}
      <div className="item-actions">
        {!n.read ? (
          <button type="button" className="icon-button" data-focus-role="toggle" aria-label={`Mark read: ${short(d.title)}`} onClick={() => onRead(n.id, true)}>
            <Icon name="check" size={20} />
          </button>
        ) : (
          canMarkUnread && (
            <button type="button" className="icon-button" data-focus-role="toggle" aria-label={`Mark unread: ${short(d.title)}`} onClick={() => onRead(n.id, false)}>
              <Icon name="unread" size={20} />
            </button>
          )
        )}
        <button
          type="button"
          className="icon-button"
          data-focus-role="archive"
          aria-label={`${n.archived ? 'Unarchive' : 'Archive'}: ${short(d.title)}`}
          onClick={() => onArchive(n.id, !n.archived)}
        >
          <Icon name={n.archived ? 'unarchive' : 'archive'} size={20} />
        </button>
        {d.link && d.clipped && (
          <button type="button" className="icon-button" data-focus-role="more" aria-label={`Read all of ${short(d.title)}`} onClick={() => onOpen(n.id)}>
            <Icon name="more" size={20} />
          </button>
        )}
      </div>
      {!n.read && <span className="unread-dot" aria-hidden="true" />}
    </li>
  );
});

interface DetailViewProps {
  id: string;
  headingId: string;
  headingRef: RefObject<HTMLHeadingElement | null>;
  attempt: Attempt;
  onBack: () => void;
  onClose: () => void;
  error: string | null;
}

/** One notification in full: every word of a long text, every field of an unknown shape. */
function DetailView({ id, headingId, headingRef, attempt, onBack, onClose, error }: DetailViewProps) {
  const n = useAppSelector((s) => selectNotificationById(s, id));
  const canMarkUnread = useAppSelector(selectMarkUnreadAvailable);
  const { markRead, markUnread, archive } = useHerald();
  const now = useNow();

  useLayoutEffect(() => {
    headingRef.current?.focus();
  }, [headingRef]);

  const d = n ? describe(n.entityType, n.data, { full: true, group: n.group }) : null;
  return (
    <>
      <div className="inbox-head">
        <button type="button" className="icon-button" aria-label="Back to the inbox" data-focus-role="back" onClick={onBack}>
          <Icon name="back" size={20} />
        </button>
        <h2 id={headingId} ref={headingRef} tabIndex={-1} className="detail-heading">
          Notification
        </h2>
        <button type="button" className="icon-button" aria-label="Close inbox" onClick={onClose}>
          <Icon name="close" size={20} />
        </button>
      </div>
      <ErrorLine error={error} />
      <div className="inbox-scroll detail" data-testid="inbox-detail">
        {!n || !d ? (
          <p className="empty">This notification is no longer in the inbox.</p>
        ) : (
          <article className="detail-body" aria-labelledby={`${headingId}-title`}>
            <div className="detail-top">
              <span className={`item-icon toast-${d.icon}`} aria-hidden="true">
                <Icon name={d.icon} size={18} />
              </span>
              <Title as="h3" id={`${headingId}-title`} className="detail-title" parts={d.titleParts} />
            </div>
            <p className="detail-meta">
              {n.read ? 'Read' : 'Unread'}
              {n.archived ? ' · Archived' : ''} · <time dateTime={n.createdAt}>{absoluteTime(n.createdAt)}</time> ({relativeTime(n.createdAt, now)})
            </p>
            {d.detail && (
              <p className="detail-text" dir="auto" data-testid="detail-text">
                {d.detail}
              </p>
            )}
            {d.fields && (
              <dl className="fields" data-testid="detail-fields">
                {d.fields.map((f, i) => (
                  <div key={i} className="field">
                    <dt>{f.label}</dt>
                    <dd dir="auto">{f.value}</dd>
                  </div>
                ))}
              </dl>
            )}
            <div className="detail-actions">
              {d.link && (
                <a
                  className="primary"
                  data-testid="notification-link"
                  href={d.link}
                  target="_blank"
                  rel="noopener noreferrer nofollow"
                  data-focus-role="open"
                  onClick={() => !n.read && attempt(() => markRead([n.id]))}
                >
                  Open {hostOf(d.link)} <span aria-hidden="true">↗</span>
                </a>
              )}
              {!n.read ? (
                <button type="button" className="secondary" data-focus-role="toggle" onClick={() => attempt(() => markRead([n.id]))}>
                  Mark read
                </button>
              ) : (
                canMarkUnread && (
                  <button
                    type="button"
                    className="secondary"
                    data-focus-role="toggle"
                    onClick={() => attempt(() => markUnread([n.id]), 'This server cannot mark notifications unread yet.')}
                  >
                    Mark unread
                  </button>
                )
              )}
              <button
                type="button"
                className="secondary"
                data-focus-role="archive"
                data-testid="detail-archive"
                onClick={() => attempt(() => archive([n.id], !n.archived))}
              >
                {n.archived ? 'Unarchive' : 'Archive'}
              </button>
            </div>
          </article>
        )}
      </div>
    </>
  );
}
