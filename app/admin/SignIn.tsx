'use client';

import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Icon } from '@/app/components/Icon';
import { selectAdmin, signIn } from '@/store/admin/slice';
import { useAppDispatch, useAppSelector } from '@/store/hooks';

/** The admin sign-in: the ADMIN_TOKEN, traded for an HttpOnly session cookie. */
export function SignIn() {
  const dispatch = useAppDispatch();
  const { signIn: state, notice } = useAppSelector(selectAdmin);
  const [token, setToken] = useState('');
  const inputRef = useRef<HTMLInputElement>(null);
  useEffect(() => inputRef.current?.focus(), []);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (token.length > 0) void dispatch(signIn(token));
  };
  return (
    <main className="signin">
      <form className="card signin-card" onSubmit={submit} aria-labelledby="admin-signin-title">
        <div className="brand large">
          <span className="logo" aria-hidden="true">
            <Icon name="bell" size={22} />
          </span>
          Herald <span className="admin-tag">admin</span>
        </div>
        <h1 id="admin-signin-title">Sign in to the admin view</h1>
        {notice && (
          <p className="form-error" role="alert" data-testid="admin-notice">
            {notice}
          </p>
        )}
        <p className="muted">Nodes, rates, the live tail of pushes and user lookup. Use the server&apos;s ADMIN_TOKEN.</p>
        <label htmlFor="admin-token">Admin token</label>
        <input
          ref={inputRef}
          id="admin-token"
          name="token"
          type="password"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          autoComplete="current-password"
          maxLength={1024}
          required
        />
        {state.error && (
          <p className="form-error" role="alert" data-testid="admin-signin-error">
            {state.error}
          </p>
        )}
        <button type="submit" className="primary" disabled={state.busy}>
          {state.busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
