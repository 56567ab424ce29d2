import { describe, expect, it } from 'vitest';
import { makeStore } from '../index';
import { signedOut } from '../notifications/slice';
import {
  detailClosed,
  detailOpened,
  filterChanged,
  inboxClosed,
  inboxOpened,
  markUnreadAnswered,
  selectDetailId,
  selectInboxFilter,
  selectInboxOpen,
  selectMarkUnreadAvailable,
} from './slice';

describe('ui slice', () => {
  it('opens the inbox on its list or on one notification, and closes it', () => {
    const store = makeStore();
    expect(selectInboxOpen(store.getState())).toBe(false);
    store.dispatch(inboxOpened());
    expect([selectInboxOpen(store.getState()), selectDetailId(store.getState())]).toEqual([true, null]);
    store.dispatch(detailOpened('n1'));
    expect(selectDetailId(store.getState())).toBe('n1');
    store.dispatch(detailClosed());
    expect(selectDetailId(store.getState())).toBeNull();
    store.dispatch(inboxClosed());
    store.dispatch(inboxOpened({ detailId: 'n2' }));
    expect(selectDetailId(store.getState())).toBe('n2');
    store.dispatch(inboxClosed());
    expect([selectInboxOpen(store.getState()), selectDetailId(store.getState())]).toEqual([false, null]);
  });

  it('keeps the filter while the inbox closes and opens', () => {
    const store = makeStore();
    expect(selectInboxFilter(store.getState())).toBe('all');
    store.dispatch(filterChanged('unread'));
    store.dispatch(inboxOpened());
    store.dispatch(inboxClosed());
    expect(selectInboxFilter(store.getState())).toBe('unread');
  });

  it('offers "Mark unread" until the server fails to answer it, across sign-outs', () => {
    const store = makeStore();
    expect(selectMarkUnreadAvailable(store.getState())).toBe(true);
    store.dispatch(markUnreadAnswered(true));
    expect(selectMarkUnreadAvailable(store.getState())).toBe(true);
    store.dispatch(markUnreadAnswered(false));
    store.dispatch(inboxOpened());
    store.dispatch(signedOut());
    expect(selectMarkUnreadAvailable(store.getState())).toBe(false);
    expect(selectInboxOpen(store.getState())).toBe(false);
  });
});
