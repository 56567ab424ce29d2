import { useState, type FormEvent } from 'react';
import { createRoot } from 'react-dom/client';
import { HeraldProvider, InboxBell, Toaster, useHeraldConnection, useUnreadCount } from 'herald/react';
import 'herald/react/styles.css';
import './app.css';

/**
 * Acme, an app on its own origin that shows Herald's notifications: its
 * backend (server.mjs) signs the user in and mints a Herald token for them
 * with herald/server; the page connects to Herald, on another origin, with
 * herald/react.
 */

interface Config {
  /** Herald's origin, from the backend's HERALD_URL. */
  heraldUrl: string;
}

/** The backend's answer to a sign-in: a Herald user token (it is asked again when Herald refuses one). */
async function heraldToken(userId: string): Promise<string> {
  const res = await fetch('/api/herald-token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId }),
  });
  if (!res.ok) throw new Error(`token request failed (${res.status})`);
  return ((await res.json()) as { token: string }).token;
}

function App({ config }: { config: Config }) {
  const [userId, setUserId] = useState<string | null>(null);
  if (userId === null) return <SignIn onSignIn={setUserId} />;
  return (
    <HeraldProvider key={userId} url={config.heraldUrl} userId={userId} getToken={() => heraldToken(userId)}>
      <header className="acme-bar">
        <strong>Acme</strong>
        <span className="acme-right">
          <Status />
          <span data-testid="acme-user">Signed in as {userId}</span>
          <InboxBell />
        </span>
      </header>
      <main className="acme-main">
        <h1>Your projects</h1>
        <UnreadLine />
      </main>
      <Toaster />
    </HeraldProvider>
  );
}

/** The connection as the hooks report it: `live` once caught up; a refusal names its code. */
function Status() {
  const { status, error } = useHeraldConnection();
  return (
    <span data-testid="herald-status" data-status={status} data-error={error ?? ''}>
      {status}
      {error ? ` (${error})` : ''}
    </span>
  );
}

function UnreadLine() {
  const unread = useUnreadCount();
  return <p data-testid="acme-unread">{unread === 0 ? 'You are all caught up.' : `${unread} unread`}</p>;
}

function SignIn({ onSignIn }: { onSignIn: (userId: string) => void }) {
  const [value, setValue] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (value.trim()) onSignIn(value.trim());
  };
  return (
    <form className="acme-signin" onSubmit={submit}>
      <h1>Sign in to Acme</h1>
      <label htmlFor="acme-user-id">User id</label>
      <input id="acme-user-id" value={value} onChange={(e) => setValue(e.target.value)} autoComplete="off" />
      <button type="submit" className="primary">
        Sign in
      </button>
    </form>
  );
}

const root = document.getElementById('root');
if (root) {
  void fetch('/config.json')
    .then((res) => res.json() as Promise<Config>)
    .then((config) => createRoot(root).render(<App config={config} />));
}
