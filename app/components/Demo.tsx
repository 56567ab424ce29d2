'use client';

import { memo, useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { HeraldProvider, InboxBell, Toaster } from 'herald/react';
import { TOKEN_REFUSALS } from '@/lib/client/retry';
import { selectConnection, signedIn, signedOutOfConnection } from '@/store/connection/slice';
import type { HeraldState } from '@/store/herald';
import { useAppDispatch, useAppSelector, useAppStore } from '@/store/hooks';
import { selectLiveNotifications, signedOut, type Notification } from '@/store/notifications/slice';
import { ConnectionBadge } from './ConnectionBadge';
import { describe } from './describe';
import { Brand } from './Brand';
import { ExternalLink } from './ExternalLink';
import { SentReceipts, type SentPush } from './SentReceipts';
import { Icon } from './Icon';
import { absoluteTime, relativeTime } from './time';
import { Title } from './Title';
import { useNow } from './useNow';

interface Session {
  userId: string;
  /** Pasted token (when the server has a real AUTH_SECRET); dev auth fetches its own. */
  token: string | null;
}

interface Props {
  socketPath: string;
  devAuth: boolean;
  openPushApi: boolean;
  /** The connection closes after this long with no tab visible (0: never; unset: the client's default). */
  idleDisconnectMs?: number;
}

async function fetchDevToken(userId: string): Promise<string> {
  const res = await fetch('/api/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId }),
  });
  const body = (await res.json().catch(() => null)) as { token?: string; error?: { message?: string } } | null;
  if (!res.ok || !body?.token) throw new Error(body?.error?.message ?? `token request failed (${res.status})`);
  return body.token;
}

/** The demo's store holds Herald's slices at its root, beside the admin view's. */
const atRoot = (state: unknown) => state as HeraldState;

export function Demo({ socketPath, devAuth, openPushApi, idleDisconnectMs }: Props) {
  const dispatch = useAppDispatch();
  const store = useAppStore();
  const [session, setSession] = useState<Session | null>(null);
  /** Set by "Sign out": the sign-in form then takes focus (the button that had it is gone). */
  const [signedOutHere, setSignedOutHere] = useState(false);
  const connection = useAppSelector(selectConnection);
  /** Why the session ended without the user asking (the server refused a fresh token too). */
  const [endedBecause, setEndedBecause] = useState<string | null>(null);

  const getToken = useCallback(
    async () => {
      if (!session) throw new Error('signed out');
      return session.token ?? fetchDevToken(session.userId);
    },
    [session],
  );

  // The client asked for a fresh token once and the server refused it as well: the session is over.
  useEffect(() => {
    if (!session || connection.status !== 'offline' || !connection.error || !TOKEN_REFUSALS.has(connection.error)) return;
    setEndedBecause(connection.error);
    setSession(null);
    setSignedOutHere(true);
    dispatch(signedOut());
    dispatch(signedOutOfConnection());
  }, [session, connection.status, connection.error, dispatch]);

  if (!session) {
    return (
      <SignIn
        notice={endedBecause === null ? null : 'Your session ended: the server refused its token. Sign in again.'}
        devAuth={devAuth}
        focusOnMount={signedOutHere}
        onSignIn={(s) => {
          setEndedBecause(null);
          dispatch(signedIn(s.userId));
          setSession(s);
        }}
      />
    );
  }

  const signOut = () => {
    setSession(null);
    setSignedOutHere(true);
    dispatch(signedOut());
    dispatch(signedOutOfConnection());
  };

  return (
    <HeraldProvider
      key={session.userId}
      store={store}
      select={atRoot}
      tabs={store.tabs}
      userId={session.userId}
      socketPath={socketPath}
      getToken={getToken}
      idleDisconnectMs={idleDisconnectMs}
    >
      <SignedIn userId={session.userId} openPushApi={openPushApi} onSignOut={signOut} />
    </HeraldProvider>
  );
}

function SignedIn({ userId, openPushApi, onSignOut }: { userId: string; openPushApi: boolean; onSignOut: () => void }) {
  return (
    <div className="app">
      <header className="topbar">
        <Brand />
        <div className="topbar-right">
          <ConnectionBadge />
          <span className="user" data-testid="signed-in-user" title={`Signed in as user ${userId}`}>
            <span className="avatar" aria-hidden="true">
              {userId.slice(0, 1).toUpperCase()}
            </span>
            <span className="user-name">
              <span className="sr-only">Signed in as </span>User <bdi>{userId}</bdi>
            </span>
          </span>
          {/* Signing in removed the form that had focus: the bell takes it. */}
          <InboxBell autoFocus />
          <button type="button" className="secondary small sign-out" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main className="content">
        <LiveFeed />
        <TryIt userId={userId} openPushApi={openPushApi} />
      </main>
      <Toaster />
    </div>
  );
}

function SignIn({
  devAuth,
  focusOnMount,
  notice,
  onSignIn,
}: {
  devAuth: boolean;
  focusOnMount: boolean;
  /** Why the user is here again, when the session ended on its own. */
  notice: string | null;
  onSignIn: (s: Session) => void;
}) {
  const [userId, setUserId] = useState('1');
  const inputRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (focusOnMount) inputRef.current?.focus();
  }, [focusOnMount]);
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const id = userId.trim();
    if (!id) {
      setError('Enter a user id.');
      return;
    }
    if (devAuth) {
      setBusy(true);
      try {
        await fetchDevToken(id);
        onSignIn({ userId: id, token: null });
      } catch (err) {
        setError((err as Error).message);
      } finally {
        setBusy(false);
      }
    } else {
      if (!token.trim()) {
        setError('Paste a token for this user (npm run token -- <userId>).');
        return;
      }
      onSignIn({ userId: id, token: token.trim() });
    }
  };

  return (
    <main className="signin">
      <form className="card signin-card" onSubmit={(e) => void submit(e)} aria-labelledby="signin-title">
        <div className="brand large">
          <span className="logo" aria-hidden="true">
            <Icon name="bell" size={22} />
          </span>
          Herald
        </div>
        <h1 id="signin-title">Sign in to see your notifications live</h1>
        {notice && (
          <p className="form-error" role="alert" data-testid="session-ended">
            {notice}
          </p>
        )}
        <p className="muted">
          {devAuth
            ? 'Development mode: any user id works, with a token this server signs for you.'
            : 'Your backend signs a token for each user. Paste one here (npm run token -- <userId>).'}
        </p>
        <label htmlFor="user-id">User id</label>
        <input ref={inputRef} id="user-id" name="userId" value={userId} onChange={(e) => setUserId(e.target.value)} autoComplete="off" maxLength={128} required />
        {!devAuth && (
          <>
            <label htmlFor="token">Token</label>
            <textarea id="token" name="token" value={token} onChange={(e) => setToken(e.target.value)} rows={3} spellCheck={false} />
          </>
        )}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

function LiveFeed() {
  const items = useAppSelector(selectLiveNotifications);
  const now = useNow();
  return (
    <section className="card feed" aria-labelledby="feed-title">
      <h2 id="feed-title">Received since this page opened</h2>
      {items.length === 0 ? (
        <p className="empty" data-testid="feed-empty">
          Nothing new since this page opened. Push one with the form or the curl command; earlier
          notifications are in the inbox behind the bell.
        </p>
      ) : (
        <ul className="feed-list" data-testid="feed-list">
          {items.map((n) => (
            <FeedItem key={n.id} n={n} now={now} />
          ))}
        </ul>
      )}
    </section>
  );
}

/** One received notification; memoized, so an arrival renders only itself. */
const FeedItem = memo(function FeedItem({ n, now }: { n: Notification; now: number }) {
  const d = describe(n.entityType, n.data, { group: n.group });
  return (
    <li className="feed-item" data-testid="feed-item">
      <span className={`item-icon toast-${d.icon}`} aria-hidden="true">
        <Icon name={d.icon} size={18} />
      </span>
      <div className="item-body">
        <Title className="item-title" parts={d.titleParts} />
        {d.detail && (
          <p className="item-detail" dir="auto">
            {d.detail}
          </p>
        )}
        {d.link && <ExternalLink href={d.link} />}
      </div>
      <time dateTime={n.createdAt} title={absoluteTime(n.createdAt)}>
        {relativeTime(n.createdAt, now)}
      </time>
    </li>
  );
});

const SAMPLES = {
  like: { actor: 'Alice', target: 'Shipping Herald' },
  comment: { actor: 'Bob', target: 'Shipping Herald', text: 'This is exactly what we needed.' },
  follow: { actor: 'Carol' },
} as const;

/** Pushes the demo lists with their receipts. */
const SENT_SHOWN = 3;

function TryIt({ userId, openPushApi }: { userId: string; openPushApi: boolean }) {
  const [type, setType] = useState<keyof typeof SAMPLES>('like');
  const [result, setResult] = useState<string | null>(null);
  const [sent, setSent] = useState<SentPush[]>([]);
  const curl = `curl -X POST ${typeof window === 'undefined' ? 'http://localhost:3000' : window.location.origin}/api/push \\
  -H "Authorization: Bearer $PUSH_API_KEY" \\
  -H 'Content-Type: application/json' \\
  -d '{"tokens":["${userId.replace(/'/g, '')}"],"entityType":"like","data":{"actor":"Alice"}}'`;

  const send = async () => {
    setResult(null);
    const res = await fetch('/api/push', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tokens: [userId], entityType: type, data: SAMPLES[type] }),
    }).catch(() => null);
    const body = (await res?.json().catch(() => null)) as { id?: string; online?: number; error?: { message: string } } | null;
    setResult(res?.ok ? `Accepted: delivered to ${body?.online ?? 0} online user(s).` : `Refused: ${body?.error?.message ?? 'no answer'}`);
    const id = body?.id;
    if (res?.ok && id !== undefined) setSent((before) => [{ id, label: `a ${type}` }, ...before].slice(0, SENT_SHOWN));
  };

  return (
    <section className="card tryit" aria-labelledby="tryit-title">
      <h2 id="tryit-title">Push a notification</h2>
      <p className="muted">Your backend calls the push API; every open tab of the named users shows it at once.</p>
      <pre className="code" aria-label="curl example">
        <code>{curl}</code>
      </pre>
      {openPushApi ? (
        <div className="tryit-form">
          <label htmlFor="sample-type">Send yourself</label>
          <div className="row">
            <select id="sample-type" value={type} onChange={(e) => setType(e.target.value as keyof typeof SAMPLES)}>
              <option value="like">a like</option>
              <option value="comment">a comment</option>
              <option value="follow">a follow</option>
            </select>
            <button type="button" className="primary" onClick={() => void send()}>
              Send
            </button>
          </div>
          {result && (
            <p className="muted" role="status">
              {result}
            </p>
          )}
          <SentReceipts sent={sent} userId={userId} />
        </div>
      ) : (
        <p className="muted">The push API needs a key on this server, so sending from the page is off.</p>
      )}
    </section>
  );
}
