'use client';

import { useState, type FormEvent } from 'react';
import type { AdminNotification } from '@/lib/contract';
import { lookUpUser, selectLookup } from '@/store/admin/slice';
import { useAppDispatch, useAppSelector } from '@/store/hooks';
import { formatClock, formatDuration } from './format';

/**
 * One user as the cluster sees them: their sockets on every node, their unread
 * count and their latest notifications (ids and types, never the data) with
 * this user's receipts on each: when it reached a tab, was shown and was read.
 */
export function UserLookup() {
  const dispatch = useAppDispatch();
  const lookup = useAppSelector(selectLookup);
  const [userId, setUserId] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const id = userId.trim();
    if (id) void dispatch(lookUpUser(id));
  };
  const user = lookup.user;
  const now = Date.now();
  return (
    <section className="card admin-card admin-wide" aria-labelledby="lookup-title">
      <div className="admin-card-head">
        <h2 id="lookup-title">User lookup</h2>
      </div>
      <form className="lookup-form" onSubmit={submit} role="search" aria-label="Look up a user">
        <label htmlFor="lookup-user">User id</label>
        <input id="lookup-user" value={userId} onChange={(e) => setUserId(e.target.value)} autoComplete="off" maxLength={128} required />
        <button type="submit" className="primary" disabled={lookup.status === 'loading'}>
          Look up
        </button>
        {user && (
          <button type="button" className="secondary" onClick={() => void dispatch(lookUpUser(user.userId))}>
            Refresh
          </button>
        )}
      </form>
      {lookup.error && (
        <p className="form-error" role="alert">
          {lookup.error}
        </p>
      )}
      {user && (
        <div className="lookup-result" data-testid="lookup-result" aria-live="polite">
          <p className="lookup-summary">
            <span className="mono">
              <bdi>{user.userId}</bdi>
            </span>
            <span className="stat" data-testid="lookup-unread">
              <strong>{user.unread}</strong> unread
            </span>
            <span className="stat" data-testid="lookup-socket-count">
              <strong>{user.sockets.length}</strong> {user.sockets.length === 1 ? 'socket' : 'sockets'}
            </span>
          </p>
          <h3 className="lookup-heading" id="sockets-title">
            Sockets
          </h3>
          {user.sockets.length === 0 ? (
            <p className="empty">Not connected anywhere.</p>
          ) : (
            <div className="table-scroll" tabIndex={0} role="region" aria-label="Sockets table">
              <table className="admin-table">
                <thead>
                  <tr>
                    <th scope="col">Socket</th>
                    <th scope="col">Node</th>
                    <th scope="col">Transport</th>
                    <th scope="col">Connected since</th>
                    <th scope="col" className="num">Last seq</th>
                    <th scope="col">User agent</th>
                  </tr>
                </thead>
                <tbody>
                  {user.sockets.map((s) => (
                    <tr key={s.id} data-testid="socket-row">
                      <th scope="row" className="mono">
                        {s.id}
                      </th>
                      <td className="mono">{s.node}</td>
                      <td>{s.transport ?? '—'}</td>
                      <td className="nowrap">
                        {formatClock(s.connectedAt)} <span className="muted">({formatDuration(now - s.connectedAt)})</span>
                      </td>
                      <td className="num" data-testid="socket-last-seq">
                        {s.lastSeq ?? '—'}
                      </td>
                      <td className="ellipsis ua" title={s.userAgent ?? undefined}>
                        {s.userAgent ?? '—'}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <h3 className="lookup-heading" id="recent-title">
            Latest notifications <span className="muted">({user.notifications.length}, at most 50)</span>
          </h3>
          {user.notifications.length === 0 ? (
            <p className="empty">No notifications stored for this user.</p>
          ) : (
            <div className="table-scroll recent-scroll" tabIndex={0} role="region" aria-label="Latest notifications table">
              <table className="admin-table">
                <thead>
                  <tr>
                    <th scope="col" className="num">Seq</th>
                    <th scope="col">Id</th>
                    <th scope="col">Type</th>
                    <th scope="col">Created</th>
                    <th scope="col">State</th>
                    <th scope="col">Receipts</th>
                  </tr>
                </thead>
                <tbody>
                  {user.notifications.map((n) => (
                    <tr key={n.id} data-testid="lookup-notification">
                      <td className="num">{n.seq}</td>
                      <td className="mono ellipsis" title={n.id}>
                        {n.id}
                      </td>
                      <td>
                        <span className="type-pill">{n.entityType}</span>
                      </td>
                      <td className="nowrap">{formatClock(n.createdAt)}</td>
                      <td>{n.read ? <span className="muted">read</span> : <span className="unread-pill">unread</span>}</td>
                      <td className="nowrap" data-testid="lookup-receipts">
                        <Receipts n={n} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
    </section>
  );
}

/** Each receipt this user reached, with its time; "not delivered" before the first. */
function Receipts({ n }: { n: AdminNotification }) {
  const reached: Array<[string, string]> = [];
  if (n.deliveredAt) reached.push(['delivered', n.deliveredAt]);
  if (n.seenAt) reached.push(['seen', n.seenAt]);
  if (n.readAt) reached.push(['read', n.readAt]);
  if (reached.length === 0) return <span className="muted">not delivered</span>;
  return (
    <span className="receipts">
      {reached.map(([label, at]) => (
        <span key={label} className="receipt" title={at}>
          {label} <span className="muted">{formatClock(at)}</span>
        </span>
      ))}
    </span>
  );
}
