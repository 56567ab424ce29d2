import { createListenerMiddleware, isAnyOf, type UnknownAction } from '@reduxjs/toolkit';
import { toastDismissed, toastsExpired } from './toasts/slice';

/**
 * Actions that every tab of the user applies, not only the one where they
 * happened: a toast dismissed (or run out) in the tab that shows it is gone
 * from every tab's store, so it never reappears when another tab takes over the
 * toasts. The listener hands them to `relay` (the tab connection, set by the
 * socket bridge); an action that came from another tab carries `meta.fromTab`
 * and is not sent back.
 */
export const SHARED_ACTIONS = isAnyOf(toastDismissed, toastsExpired);

export interface TabRelay {
  relay: ((action: UnknownAction) => void) | null;
}

export function tabRelayMiddleware(target: TabRelay) {
  const listener = createListenerMiddleware();
  listener.startListening({
    matcher: SHARED_ACTIONS,
    effect: (action) => {
      if ((action as { meta?: { fromTab?: boolean } }).meta?.fromTab) return;
      target.relay?.(action);
    },
  });
  return listener.middleware;
}

/** An action from another tab, marked so it is applied here and not relayed back. */
export function fromTab(action: UnknownAction): UnknownAction {
  return { ...action, meta: { fromTab: true } };
}
