'use client';

/**
 * The admin live view. It polls the JSON admin API (GET /api/admin/overview)
 * every POLL_MS rather than holding a socket.io namespace of its own: the same
 * cookie-checked route table answers every admin request, any node of a
 * cluster answers for all of them (nodes share their status through Redis),
 * and a view left open costs one small request per poll, never a socket in the
 * counts it shows. Polling pauses while the tab is hidden.
 */

import { useEffect } from 'react';
import { Brand } from '@/app/components/Brand';
import { checkSession, pollOverview, selectAdmin, signOut } from '@/store/admin/slice';
import { useAppDispatch, useAppSelector } from '@/store/hooks';
import { Nodes } from './Nodes';
import { Rates } from './Rates';
import { SignIn } from './SignIn';
import { Tail } from './Tail';
import { UserLookup } from './UserLookup';

/** How often the overview is fetched while the tab is visible. */
const POLL_MS = 1_500;

export function AdminApp() {
  const dispatch = useAppDispatch();
  const { session } = useAppSelector(selectAdmin);
  useEffect(() => {
    void dispatch(checkSession());
  }, [dispatch]);
  if (session === 'checking') {
    return (
      <main className="signin" aria-busy="true">
        <p className="muted">Loading…</p>
      </main>
    );
  }
  return session === 'signedIn' ? <Dashboard /> : <SignIn />;
}

function Dashboard() {
  const dispatch = useAppDispatch();
  const { access, stale, overview } = useAppSelector(selectAdmin);
  useEffect(() => {
    let inFlight = false;
    const poll = () => {
      if (inFlight || document.hidden) return;
      inFlight = true;
      void dispatch(pollOverview()).finally(() => {
        inFlight = false;
      });
    };
    poll();
    const timer = setInterval(poll, POLL_MS);
    document.addEventListener('visibilitychange', poll);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', poll);
    };
  }, [dispatch]);
  const status = overview === null ? 'connecting' : stale ? 'stale' : 'live';
  return (
    <div className="app admin">
      <header className="topbar">
        <Brand tag="admin" />
        <div className="topbar-right">
          <span className={`status status-${status === 'live' ? 'live' : status === 'stale' ? 'offline' : 'connecting'}`} data-testid="admin-status" data-status={status}>
            <span className="status-dot" aria-hidden="true" />
            {status === 'live' ? 'Live' : status === 'stale' ? 'Not answering' : 'Connecting'}
          </span>
          {access === 'token' && (
            <button type="button" className="secondary small sign-out" onClick={() => void dispatch(signOut())}>
              Sign out
            </button>
          )}
        </div>
      </header>
      {access === 'open' && (
        <p className="admin-warning" role="note">
          Open admin: ADMIN_TOKEN is unset, so anyone who reaches this server sees this page. Production refuses to serve it without a token.
        </p>
      )}
      <main className="admin-grid">
        <Nodes />
        <Rates />
        <Tail />
        <UserLookup />
      </main>
    </div>
  );
}
