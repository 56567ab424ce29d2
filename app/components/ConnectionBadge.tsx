'use client';

import { selectConnection, type ConnectionStatus } from '@/store/connection/slice';
import { useAppSelector } from '@/store/hooks';

const LABEL: Record<ConnectionStatus, string> = {
  idle: 'Signed out',
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  paused: 'Paused while no tab is visible',
};

const REASON: Record<string, string> = {
  unauthorized: 'the server refused the token',
  token_expired: 'the token has expired',
  too_many_connections: 'too many open tabs for this user',
  rate_limited: 'too many requests from this tab',
  origin_not_allowed: 'this site may not connect',
};

/** Connection state in words and colour; announced politely when it changes. */
export function ConnectionBadge() {
  const { status, error, leader } = useAppSelector(selectConnection);
  const reason = error ? (REASON[error] ?? error) : null;
  return (
    <span className={`status status-${status}`} data-testid="connection-status" data-status={status} data-leader={leader} role="status">
      <span className="status-dot" aria-hidden="true" />
      {LABEL[status]}
      {status === 'offline' && reason ? <span className="status-reason">: {reason}</span> : null}
    </span>
  );
}
