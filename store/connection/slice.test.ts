import { describe, expect, it } from 'vitest';
import { makeStore } from '../index';
import { selectConnection, signedIn, signedOutOfConnection, statusChanged } from './slice';

describe('connection slice', () => {
  it('starts idle and signed out', () => {
    expect(selectConnection(makeStore().getState())).toEqual({ status: 'idle', userId: null, error: null, leader: false });
  });

  it('is connecting as soon as a user signs in', () => {
    const store = makeStore();
    store.dispatch(signedIn('7'));
    expect(selectConnection(store.getState())).toEqual({ status: 'connecting', userId: '7', error: null, leader: false });
  });

  it('keeps the refusal code while retrying and clears it once live', () => {
    const store = makeStore();
    store.dispatch(signedIn('7'));
    store.dispatch(statusChanged({ status: 'reconnecting', error: 'token_expired' }));
    expect(selectConnection(store.getState())).toMatchObject({ status: 'reconnecting', error: 'token_expired' });
    // A status change without an error leaves the last one in place.
    store.dispatch(statusChanged({ status: 'reconnecting' }));
    expect(selectConnection(store.getState()).error).toBe('token_expired');
    store.dispatch(statusChanged({ status: 'live' }));
    expect(selectConnection(store.getState())).toEqual({ status: 'live', userId: '7', error: null, leader: false });
  });

  it('goes offline with the reason the server gave', () => {
    const store = makeStore();
    store.dispatch(signedIn('7'));
    store.dispatch(statusChanged({ status: 'offline', error: 'unauthorized' }));
    expect(selectConnection(store.getState())).toMatchObject({ status: 'offline', error: 'unauthorized' });
  });

  it('clears a stale error when signing in again', () => {
    const store = makeStore();
    store.dispatch(statusChanged({ status: 'offline', error: 'unauthorized' }));
    store.dispatch(signedIn('8'));
    expect(selectConnection(store.getState())).toEqual({ status: 'connecting', userId: '8', error: null, leader: false });
  });

  it('returns to idle on sign-out', () => {
    const store = makeStore();
    store.dispatch(signedIn('7'));
    store.dispatch(statusChanged({ status: 'live' }));
    store.dispatch(signedOutOfConnection());
    expect(selectConnection(store.getState())).toEqual({ status: 'idle', userId: null, error: null, leader: false });
  });

  it('can be preloaded through makeStore', () => {
    const store = makeStore({ connection: { status: 'reconnecting', userId: '3', error: null, leader: false } });
    expect(selectConnection(store.getState()).status).toBe('reconnecting');
  });
});
